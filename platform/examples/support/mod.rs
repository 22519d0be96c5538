//! Shared parts of the platform's QEMU examples: verdicts and the panic
//! handler.
//!
//! `check!` prints a labelled result and remembers failures; `finish`
//! exits QEMU with success only if every check passed.

use core::sync::atomic::{AtomicU32, Ordering};

static FAILURES: AtomicU32 = AtomicU32::new(0);

/// Records a check; prints `ok` or `FAIL` with the label.
pub fn check(passed: bool, label: core::fmt::Arguments<'_>) {
    if passed {
        platform::println!("ok   {label}");
    } else {
        FAILURES.fetch_add(1, Ordering::Relaxed);
        platform::println!("FAIL {label}");
    }
}

/// `check!(condition, "format", args…)`.
#[macro_export]
macro_rules! check {
    ($condition:expr, $($label:tt)*) => {
        $crate::support::check($condition, format_args!($($label)*))
    };
}

/// Exits QEMU: success if no check failed, else failure code 1.
pub fn finish() -> ! {
    let failures = FAILURES.load(Ordering::Relaxed);
    platform::println!("{failures} failed checks");
    if failures == 0 {
        platform::power::exit(platform::power::EXIT_SUCCESS)
    }
    platform::power::exit(platform::power::failure_value(1))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    platform::panic::report(info)
}
