//! `test=interrupts`: a software interrupt, raised through the host's real
//! interrupt path, runs its handler in an interrupt thread each time; and
//! where the machine can raise one from code, an interrupt leaves every
//! general register as it found it.

use alloc::format;
use alloc::sync::Arc;

use kernel::base::sync::{Condvar, Mutex};
use kernel::hypercall::InterruptSource;

use super::{Case, Outcome, wait_until};

const RAISES: u64 = 200;
const DEADLINE_NS: u64 = 30_000_000_000;

pub(super) fn run(case: &Case<'_>) -> Outcome {
    let handled = Arc::new((Mutex::new((0u64, 0u64)), Condvar::new()));
    let counter = handled.clone();
    let interrupt = case
        .kernel
        .interrupt_establish("selftest", InterruptSource::Software, move |context| {
            let mut state = counter.0.lock(context);
            state.0 += 1;
            state.1 = context.lwp_id().0;
            counter.1.notify_all(context);
        })
        .map_err(|e| format!("establish: {e}"))?;
    let deadline = case.context.now_ns() + DEADLINE_NS;
    for raise in 1..=RAISES {
        interrupt.raise();
        wait_until(case, &handled.0, &handled.1, deadline, |s| s.0 >= raise)?;
    }
    let (count, lwp) = *handled.0.lock(case.context);
    case.report
        .line(format_args!("{count} interrupts handled by lwp{lwp}"));
    if count != RAISES || lwp != interrupt.thread().0 {
        return Err(format!("{count} handled, on lwp{lwp}"));
    }
    match case.machine.interrupt_preserves_registers() {
        Some(false) => Err("an interrupt changed a general register".into()),
        Some(true) => {
            case.report
                .line(format_args!("registers intact across 1000 interrupts"));
            Ok(())
        }
        None => Ok(()),
    }
}
