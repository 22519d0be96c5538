//! A line on stderr per call that went to the kernel, when the
//! environment says `ANYKERNEL_HIJACK_TRACE=1`: which of a program's
//! calls the library took, to see what an unfamiliar program does.

use core::ffi::c_int;
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// The environment variable that turns tracing on.
pub const TRACE_VARIABLE: &str = "ANYKERNEL_HIJACK_TRACE";

/// 0: not read yet, 1: off, 2: on.
static STATE: AtomicU8 = AtomicU8::new(0);

fn enabled() -> bool {
    match STATE.load(Relaxed) {
        0 => {
            let on = std::env::var_os(TRACE_VARIABLE).is_some_and(|value| value == "1");
            STATE.store(if on { 2 } else { 1 }, Relaxed);
            on
        }
        state => state == 2,
    }
}

thread_local! {
    /// Set while this thread writes a line: a program whose stderr is a
    /// remote socket would otherwise trace the trace's own write.
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

/// Notes that `call` on descriptor `fd` went to the kernel, with its
/// result (a count, or -1 and errno).
pub fn call(call: &str, fd: c_int, result: isize) {
    if !enabled() || WRITING.try_with(|writing| writing.replace(true)) != Ok(false) {
        return;
    }
    let errno = crate::errno::last();
    if result < 0 {
        eprintln!("anykernel-hijack: {call}({fd}) = -1 (errno {})", errno.0);
    } else {
        eprintln!("anykernel-hijack: {call}({fd}) = {result}");
    }
    // Writing the line must not change what the program reads in errno.
    crate::errno::set(errno);
    let _ = WRITING.try_with(|writing| writing.set(false));
}
