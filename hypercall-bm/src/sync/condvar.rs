//! The host condition variable: a queue of sleeping threads.

use hypercall::{HostCondvar, HostMutex, WaitResult};
use scheduler::WakeReason;

use super::WaitQueue;
use crate::global::scheduler;

/// A condition variable on the cooperative scheduler.
pub(crate) struct BareCondvar {
    queue: WaitQueue,
}

// SAFETY: single CPU, no preemption, never used by interrupt handlers (see
// the module docs of `sync`).
unsafe impl Sync for BareCondvar {}
// SAFETY: the queue holds plain ids.
unsafe impl Send for BareCondvar {}

impl BareCondvar {
    pub(crate) const fn new() -> Self {
        Self {
            queue: WaitQueue::new(),
        }
    }
}

// SAFETY: both waits end with `mutex.enter()`, so they return holding the
// mutex with its own guarantees.
unsafe impl HostCondvar for BareCondvar {
    fn wait(&self, mutex: &dyn HostMutex) {
        // Queued and prepared before the release: a signal sent by the next
        // holder of `mutex` finds us and wakes us.
        self.queue.enqueue_current();
        mutex.exit();
        scheduler().block();
        mutex.enter();
    }

    fn wait_until(&self, mutex: &dyn HostMutex, deadline_ns: u64) -> WaitResult {
        self.queue.enqueue_current();
        mutex.exit();
        let reason = scheduler().block_until(deadline_ns);
        let result = match reason {
            WakeReason::Woken => WaitResult::Woken,
            WakeReason::TimedOut => {
                // A signal that found us already runnable moved on to the
                // next waiter, so it does not count for us either way.
                self.queue.remove(scheduler().current());
                WaitResult::TimedOut
            }
        };
        mutex.enter();
        result
    }

    fn signal(&self) {
        // Skip threads whose timed wait already expired: waking them would
        // lose the signal.
        while let Some(thread) = self.queue.pop_front() {
            if scheduler().wake(thread) {
                break;
            }
        }
    }
}
