//! Yielding, two-phase blocking with optional deadlines, waking, sleeping.

use crate::{Platform, ThreadId, WakeReason, dispatch::Inner, thread::Wakeup};

impl<P: Platform> Inner<P> {
    /// See [`crate::Scheduler::yield_now`].
    pub(crate) fn yield_now(&self) {
        self.with_state(|state| state.requeue_current());
        self.reschedule();
    }

    /// See [`crate::Scheduler::prepare_block`].
    pub(crate) fn prepare_block(&self) {
        self.with_state(|state| state.current_thread().wakeup = Wakeup::Prepared);
    }

    /// Blocks the running thread until woken or, with a deadline, until
    /// the deadline passed; returns at once if woken since `prepare_block`.
    pub(crate) fn block(&self, deadline_ns: Option<u64>) -> WakeReason {
        if !self.with_state(|state| state.block_current(deadline_ns)) {
            return WakeReason::Woken;
        }
        self.reschedule();
        match self.with_state(|state| state.current_thread().timed_out) {
            true => WakeReason::TimedOut,
            false => WakeReason::Woken,
        }
    }

    /// See [`crate::Scheduler::wake`].
    pub(crate) fn wake(&self, thread: ThreadId) -> bool {
        self.with_state(|state| state.wake(thread))
    }

    /// See [`crate::Scheduler::sleep_until`].
    pub(crate) fn sleep_until(&self, deadline_ns: u64) {
        while self.platform.now_ns() < deadline_ns {
            self.prepare_block();
            self.block(Some(deadline_ns));
        }
    }
}
