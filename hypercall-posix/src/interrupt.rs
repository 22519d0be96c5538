//! Interrupt hypercalls: software interrupts only (a process has no IRQs).
//!
//! A software interrupt is a doorbell: `raise` from any thread sets a
//! pending flag and wakes the one waiter; `wait` consumes the flag, so any
//! number of raises between two waits coalesce into one wakeup, and a
//! raise before the wait is not lost. `cancel` is sticky and wins over a
//! pending raise. Lines and MSIs are unsupported (a hosted device backend
//! such as a tap would raise a software interrupt instead).

use std::sync::{Condvar, Mutex};

use hypercall::{HostInterrupt, InterruptError, InterruptSource, Interrupts, MsiMessage};

use crate::Posix;
use crate::sync::{lock, wait};

/// The doorbell's state.
#[derive(Debug, Default)]
struct Doorbell {
    /// Raised since the last `wait` returned.
    pending: bool,
    /// `cancel` was called; every wait fails from now on.
    cancelled: bool,
    /// A thread sleeps in `wait` (for tests and diagnostics).
    waiting: bool,
}

/// An [`InterruptSource::Software`] interrupt.
#[derive(Debug, Default)]
pub(crate) struct SoftwareInterrupt {
    state: Mutex<Doorbell>,
    rung: Condvar,
}

impl SoftwareInterrupt {
    /// Whether a thread sleeps in `wait` right now.
    #[cfg(test)]
    fn has_waiter(&self) -> bool {
        lock(&self.state).waiting
    }

    /// Whether a raise is waiting to be consumed.
    #[cfg(test)]
    fn is_pending(&self) -> bool {
        lock(&self.state).pending
    }
}

impl HostInterrupt for SoftwareInterrupt {
    fn wait(&self) -> Result<(), InterruptError> {
        let mut state = lock(&self.state);
        loop {
            if state.cancelled {
                return Err(InterruptError::Cancelled);
            }
            if state.pending {
                state.pending = false;
                return Ok(());
            }
            state.waiting = true;
            state = wait(&self.rung, state);
            state.waiting = false;
        }
    }

    fn complete(&self) {}

    fn msi_message(&self) -> Option<MsiMessage> {
        None
    }

    fn raise(&self) {
        lock(&self.state).pending = true;
        self.rung.notify_one();
    }

    fn cancel(&self) {
        lock(&self.state).cancelled = true;
        self.rung.notify_all();
    }
}

impl Interrupts for Posix {
    fn interrupt_establish(
        &self,
        source: InterruptSource,
    ) -> Result<Box<dyn HostInterrupt>, InterruptError> {
        match source {
            InterruptSource::Software => Ok(Box::new(SoftwareInterrupt::default())),
            InterruptSource::Line { .. } | InterruptSource::Msi => Err(InterruptError::Unsupported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PosixConfig;
    use crate::test_support::{run_with_deadline, wait_for};

    #[test]
    fn a_raise_before_the_wait_is_not_lost() {
        let interrupt = SoftwareInterrupt::default();
        interrupt.raise();
        assert_eq!(run_with_deadline(|| interrupt.wait()), Ok(()));
        assert!(!interrupt.is_pending());
    }

    #[test]
    fn several_raises_coalesce_into_one_wakeup() {
        let interrupt = SoftwareInterrupt::default();
        (0..3).for_each(|_| interrupt.raise());
        assert_eq!(run_with_deadline(|| interrupt.wait()), Ok(()));
        assert!(
            !interrupt.is_pending(),
            "the three raises were consumed by one wait"
        );
        interrupt.raise();
        assert_eq!(run_with_deadline(|| interrupt.wait()), Ok(()));
    }

    #[test]
    fn a_raise_from_another_thread_wakes_a_blocked_wait() {
        let interrupt = SoftwareInterrupt::default();
        run_with_deadline(|| {
            std::thread::scope(|scope| {
                let waiter = scope.spawn(|| interrupt.wait());
                wait_for("the waiter to sleep", || interrupt.has_waiter());
                interrupt.raise();
                assert_eq!(waiter.join().expect("no panic"), Ok(()));
            })
        });
    }

    #[test]
    fn cancel_ends_a_blocked_wait_and_every_later_one() {
        let interrupt = SoftwareInterrupt::default();
        run_with_deadline(|| {
            std::thread::scope(|scope| {
                let waiter = scope.spawn(|| interrupt.wait());
                wait_for("the waiter to sleep", || interrupt.has_waiter());
                interrupt.cancel();
                assert_eq!(
                    waiter.join().expect("no panic"),
                    Err(InterruptError::Cancelled)
                );
            })
        });
        interrupt.raise();
        assert_eq!(interrupt.wait(), Err(InterruptError::Cancelled));
    }

    #[test]
    fn only_software_interrupts_are_supported() {
        let posix = Posix::new(PosixConfig::default());
        let software = posix
            .interrupt_establish(InterruptSource::Software)
            .expect("supported");
        assert_eq!(software.msi_message(), None);
        software.raise();
        software.complete();
        assert_eq!(run_with_deadline(|| software.wait()), Ok(()));
        let line = InterruptSource::Line {
            gsi: 11,
            level_triggered: true,
        };
        assert_eq!(
            posix.interrupt_establish(line).err(),
            Some(InterruptError::Unsupported)
        );
        let msi = posix.interrupt_establish(InterruptSource::Msi);
        assert_eq!(msi.err(), Some(InterruptError::Unsupported));
    }
}
