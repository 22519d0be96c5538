//! `test=panic` and `test=exception`: the machine reports its own death.
//!
//! `panic=<kind>` and `fault=<kind>` choose how; without them the case
//! panics here (so the backtrace names this file's function) or raises an
//! invalid opcode. The other kinds are the machine's (on bare metal,
//! `platform::faults::Failure`: faults on the guard page, stack
//! overflows, panics and faults while the console lock is held or while a
//! report is printed). Every kind ends the machine; the host checks the
//! message, the backtrace and the exit status.

use alloc::format;

use super::{Case, Outcome};

pub(super) fn panic(case: &Case<'_>) -> Outcome {
    match case.kernel.params().get("panic") {
        None | Some("plain") => {
            case.report.line(format_args!("panicking on purpose"));
            panic_deliberately(case.kernel.uptime_ns())
        }
        Some(kind) => {
            case.report.line(format_args!("failing on purpose: {kind}"));
            case.machine.fail_on_purpose(kind);
            Err(format!("this host cannot fail with `{kind}`"))
        }
    }
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
    let kind = case
        .kernel
        .params()
        .get("fault")
        .unwrap_or("invalid-opcode");
    case.report
        .line(format_args!("raising a CPU exception on purpose: {kind}"));
    case.machine.fail_on_purpose(kind);
    Err(format!("this host cannot raise `{kind}`"))
}
