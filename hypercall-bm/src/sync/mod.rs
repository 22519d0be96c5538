//! Host mutexes, rwlocks and condition variables on the cooperative
//! scheduler.
//!
//! One CPU, no preemption, and interrupt handlers never touch these
//! objects: a thread runs from its check of a lock's state to its `block`
//! without interruption by another thread, so plain cells suffice and the
//! objects are `Sync` by that argument (each `unsafe impl` below cites it).
//! Waiters queue in arrival order; releasing hands the lock to the first
//! waiter, so nobody starves.

mod condvar;
mod mutex;
mod rwlock;

use alloc::collections::VecDeque;
use core::cell::RefCell;

pub(crate) use condvar::BareCondvar;
pub(crate) use mutex::BareMutex;
pub(crate) use rwlock::BareRwLock;
use scheduler::ThreadId;

use crate::global::scheduler;

/// Threads waiting for one object, oldest first, each with what it wants.
struct WaitQueue<K> {
    waiters: RefCell<VecDeque<(ThreadId, K)>>,
}

impl<K: Copy + PartialEq> WaitQueue<K> {
    const fn new() -> Self {
        Self {
            waiters: RefCell::new(VecDeque::new()),
        }
    }

    /// Queues the current thread and prepares it to block; the caller
    /// then releases what it must and calls `scheduler().block()`.
    fn enqueue_current(&self, kind: K) {
        let scheduler = scheduler();
        self.waiters
            .borrow_mut()
            .push_back((scheduler.current(), kind));
        scheduler.prepare_block();
    }

    fn pop_front(&self) -> Option<(ThreadId, K)> {
        self.waiters.borrow_mut().pop_front()
    }

    fn front_kind(&self) -> Option<K> {
        self.waiters.borrow().front().map(|&(_, kind)| kind)
    }

    /// Removes the first waiter of `kind`.
    fn pop_kind(&self, kind: K) -> Option<ThreadId> {
        let mut waiters = self.waiters.borrow_mut();
        let index = waiters.iter().position(|&(_, k)| k == kind)?;
        waiters.remove(index).map(|(thread, _)| thread)
    }

    fn contains_kind(&self, kind: K) -> bool {
        self.waiters.borrow().iter().any(|&(_, k)| k == kind)
    }

    fn remove(&self, thread: ThreadId) -> bool {
        let mut waiters = self.waiters.borrow_mut();
        match waiters.iter().position(|&(t, _)| t == thread) {
            Some(index) => waiters.remove(index).is_some(),
            None => false,
        }
    }

    fn is_empty(&self) -> bool {
        self.waiters.borrow().is_empty()
    }
}
