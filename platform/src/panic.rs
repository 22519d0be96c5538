//! The panic report images print from their `#[panic_handler]`.
//!
//! An image's handler calls [`report`], which disables interrupts, breaks
//! the console lock if the panic struck while it was held (see
//! [`crate::console`]), prints
//! `panic: <message> at <file>:<line>:<col>`, `backtrace:` and the frames,
//! and exits with failure code 63 (QEMU status 255).
//!
//! Reports do not nest: a panic or exception while a report is being
//! printed gets one short line and ends the machine at once; a third level
//! (the short line itself failing) exits without printing.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::{backtrace, console, power, println};

/// The failure code of a panic (QEMU exit status 255).
pub const PANIC_FAILURE_CODE: u8 = 63;

/// How many reports have started (panics and exceptions together).
static REPORTS: AtomicU8 = AtomicU8::new(0);

/// Which report this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    /// No other report is in progress: print everything.
    First,
    /// Another report was interrupted: print one short line.
    Nested,
    /// Even the short line failed: print nothing.
    Abandoned,
}

/// Starts a report: disables interrupts and says which one this is.
pub(crate) fn enter_report() -> Report {
    x86_64::instructions::interrupts::disable();
    let earlier = REPORTS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
        Some(count.saturating_add(1))
    });
    match earlier.unwrap_or(u8::MAX) {
        0 => Report::First,
        1 => Report::Nested,
        _ => Report::Abandoned,
    }
}

/// Prints the panic report for `info` and ends the machine with failure
/// code [`PANIC_FAILURE_CODE`].
///
/// Images call it from their `#[panic_handler]`:
///
/// ```ignore
/// #[panic_handler]
/// fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
///     platform::panic::report(info)
/// }
/// ```
pub fn report(info: &PanicInfo<'_>) -> ! {
    let report = enter_report();
    if report != Report::Abandoned {
        console::seize_for_report();
    }
    match report {
        Report::First => print_report(info),
        Report::Nested => println!("panic while reporting: {}", info.message()),
        Report::Abandoned => {}
    }
    power::exit(power::failure_value(PANIC_FAILURE_CODE))
}

/// The full report: message, location, backtrace.
fn print_report(info: &PanicInfo<'_>) {
    match info.location() {
        Some(location) => println!(
            "panic: {} at {}:{}:{}",
            info.message(),
            location.file(),
            location.line(),
            location.column()
        ),
        None => println!("panic: {} at <unknown location>", info.message()),
    }
    backtrace::print(None, backtrace::current_frame_pointer());
}
