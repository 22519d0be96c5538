//! `test=params`: the boot parameters reach the kernel intact; the host
//! checks the echo (and the kernel's own complaints about bad ones).

use super::{Case, Outcome};

pub(super) fn run(case: &Case<'_>) -> Outcome {
    for (key, value) in case.kernel.params().iter() {
        match value {
            Some(value) => case.report.line(format_args!("{key}={value}")),
            None => case.report.line(format_args!("{key}")),
        }
    }
    Ok(())
}
