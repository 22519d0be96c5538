//! `test=panic` and `test=exception`: the machine reports its own death.
//! Both end the machine; the host checks the message, the backtrace and
//! the exit status.

use super::{Case, Outcome};

pub(super) fn panic(case: &Case<'_>) -> Outcome {
    case.report.line(format_args!("panicking on purpose"));
    panic_deliberately(case.kernel.uptime_ns())
}

/// A named frame for the backtrace to show.
#[inline(never)]
fn panic_deliberately(uptime_ns: u64) -> Outcome {
    panic!(
        "selftest panic after {} ms of uptime",
        uptime_ns / 1_000_000
    )
}

pub(super) fn exception(case: &Case<'_>) -> Outcome {
    case.report
        .line(format_args!("raising a CPU exception on purpose"));
    case.machine.raise_cpu_exception();
    Err("this host cannot raise CPU exceptions".into())
}
