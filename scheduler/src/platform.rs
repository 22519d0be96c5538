//! The platform trait: the clock, idling, and wakeups from interrupts.
//!
//! The scheduler calls these methods with none of its own state borrowed,
//! so an implementation may call back into the scheduler (for example
//! [`crate::Scheduler::wake`]); it must not switch threads itself.

use crate::ThreadId;

/// What the scheduler needs from the machine it runs on.
pub trait Platform {
    /// Monotonic nanoseconds.
    fn now_ns(&self) -> u64;

    /// Nothing is runnable: wait until `deadline_ns` (None: no deadline) or
    /// until an external event (an interrupt) may have made a thread
    /// runnable; may return early.
    ///
    /// Bare metal: program a one-shot timer, then `sti; hlt` (the one-
    /// instruction interrupt shadow of `sti` closes the race with a flag set
    /// just before). Host tests: sleep; with `None` and nothing that could
    /// wake anyone, a host implementation panics ("deadlock").
    fn idle(&self, deadline_ns: Option<u64>);

    /// Called at every scheduling decision (and after `idle` returns):
    /// report threads that external events (interrupt handlers setting
    /// atomic flags) want woken, by calling `wake`. Ids the scheduler does
    /// not know are ignored.
    fn poll_wakeups(&self, wake: &mut dyn FnMut(ThreadId)) {
        let _ = wake;
    }
}
