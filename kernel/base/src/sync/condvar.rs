//! The kernel condition variable.
//!
//! A waiter queues itself, releases the mutex and parks, all under the
//! virtual CPU, so no notification between the release and the sleep is
//! lost. `notify_*` dequeue before unparking, and a waiter returns only
//! once dequeued or, at its deadline, after removing itself: `waiters`
//! always counts the queued entries.

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use hypercall::WaitResult;

use super::bump;
use super::mutex::{Mutex, MutexGuard};
use super::sleep_queue::{WaitKind, park_while_queued, sleep_key};
use crate::context::Context;

/// Waits for a condition guarded by a [`Mutex`].
#[derive(Debug)]
pub struct Condvar {
    waiters: AtomicU32,
}

impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

impl Condvar {
    /// A condition variable with no waiters.
    pub const fn new() -> Self {
        Self {
            waiters: AtomicU32::new(0),
        }
    }

    /// Releases `guard`'s mutex, sleeps until notified, and takes the mutex
    /// again. Callers re-check their condition in a loop.
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait_inner(guard, None).0
    }

    /// As [`Condvar::wait`], giving up at `deadline_ns` on the monotonic
    /// clock. The mutex is held again on return either way.
    pub fn wait_until<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline_ns: u64,
    ) -> (MutexGuard<'a, T>, WaitResult) {
        self.wait_inner(guard, Some(deadline_ns))
    }

    /// Waits while `condition` holds for the guarded value.
    pub fn wait_while<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut guard) {
            guard = self.wait(guard);
        }
        guard
    }

    fn wait_inner<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline_ns: Option<u64>,
    ) -> (MutexGuard<'a, T>, WaitResult) {
        let (mutex, context) = guard.into_parts();
        let queues = &context.kernel().sleep_queues;
        queues.enqueue(context, sleep_key(self), WaitKind::Condition);
        bump(&self.waiters, 1);
        MutexGuard::release_for_wait(mutex, context);
        let result = park_while_queued(context, sleep_key(self), deadline_ns);
        if result == WaitResult::TimedOut {
            bump(&self.waiters, -1);
        }
        (Mutex::lock(mutex, context), result)
    }

    /// Wakes the longest-waiting thread, if any.
    pub fn notify_one(&self, context: &Context<'_>) {
        if self.waiters.load(Relaxed) == 0 {
            return;
        }
        let queues = &context.kernel().sleep_queues;
        if let Some(lwp) = queues.dequeue_first(context, sleep_key(self), WaitKind::Condition) {
            bump(&self.waiters, -1);
            lwp.unpark();
        }
    }

    /// Wakes every waiting thread.
    pub fn notify_all(&self, context: &Context<'_>) {
        if self.waiters.load(Relaxed) == 0 {
            return;
        }
        let queues = &context.kernel().sleep_queues;
        let woken = queues.wake_all(context, sleep_key(self), WaitKind::Condition);
        bump(&self.waiters, -(woken as i32));
    }

    /// Whether any thread waits.
    pub fn has_waiters(&self) -> bool {
        self.waiters.load(Relaxed) != 0
    }
}
