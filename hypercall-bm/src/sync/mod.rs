//! Host mutexes and condition variables on the cooperative scheduler.
//!
//! One CPU, no preemption, and interrupt handlers never touch these
//! objects: a thread runs from its check of a lock's state to its `block`
//! without interruption by another thread, so plain cells suffice and the
//! objects are `Sync` by that argument (each `unsafe impl` below cites it).
//! Waiters queue in arrival order; releasing hands the lock to the first
//! waiter, so nobody starves.

mod condvar;
mod mutex;

use alloc::collections::VecDeque;
use core::cell::RefCell;

pub(crate) use condvar::BareCondvar;
pub(crate) use mutex::BareMutex;
use scheduler::ThreadId;

use crate::global::scheduler;

/// Threads waiting for one object, oldest first.
struct WaitQueue {
    waiters: RefCell<VecDeque<ThreadId>>,
}

impl WaitQueue {
    const fn new() -> Self {
        Self {
            waiters: RefCell::new(VecDeque::new()),
        }
    }

    /// Queues the current thread and prepares it to block; the caller
    /// then releases what it must and calls `scheduler().block()`.
    fn enqueue_current(&self) {
        let scheduler = scheduler();
        self.waiters.borrow_mut().push_back(scheduler.current());
        scheduler.prepare_block();
    }

    fn pop_front(&self) -> Option<ThreadId> {
        self.waiters.borrow_mut().pop_front()
    }

    fn remove(&self, thread: ThreadId) -> bool {
        let mut waiters = self.waiters.borrow_mut();
        match waiters.iter().position(|&t| t == thread) {
            Some(index) => waiters.remove(index).is_some(),
            None => false,
        }
    }
}
