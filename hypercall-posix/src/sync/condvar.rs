//! The host condvar: works with any [`HostMutex`], through its trait only.
//!
//! State is a generation counter and a waiter count under a std mutex. A
//! waiter takes that internal lock, notes the generation, releases the
//! kernel's mutex and sleeps until the generation changes; `signal` bumps
//! it. Because the waiter holds the internal lock from
//! before releasing the kernel's mutex until it sleeps, a signal sent
//! after that release always finds it registered: no wakeup is lost. A
//! signal may wake more than one waiter (a spurious wakeup, which the
//! interface allows). The kernel's mutex is taken again only after the
//! internal lock is dropped, so the two locks never nest the other way.

use std::sync::{Condvar, Mutex};

use hypercall::{HostCondvar, HostMutex, WaitResult};

use crate::clock::MonotonicClock;
use crate::sync::{lock, unpoison, wait};

/// The shared part of the condvar.
#[derive(Debug, Default)]
struct Generation {
    /// Bumped by every signal that finds a waiter.
    number: u64,
    /// Threads inside `wait`/`wait_until`.
    waiters: usize,
}

/// A [`HostCondvar`] on std::sync; deadlines on the instance's clock.
#[derive(Debug)]
pub(crate) struct PosixCondvar {
    generation: Mutex<Generation>,
    changed: Condvar,
    clock: MonotonicClock,
}

impl PosixCondvar {
    pub(crate) fn new(clock: MonotonicClock) -> Self {
        Self {
            generation: Mutex::default(),
            changed: Condvar::new(),
            clock,
        }
    }

    /// The wait shared by both calls: `None` deadline waits for ever.
    fn wait_for_change(&self, mutex: &dyn HostMutex, deadline_ns: Option<u64>) -> WaitResult {
        let mut generation = lock(&self.generation);
        let seen = generation.number;
        generation.waiters += 1;
        mutex.exit();
        let mut result = WaitResult::Woken;
        while generation.number == seen {
            let remaining = match deadline_ns.map(|deadline| self.clock.remaining(deadline)) {
                None => None,
                Some(Some(remaining)) => Some(remaining),
                Some(None) => {
                    result = WaitResult::TimedOut;
                    break;
                }
            };
            generation = match remaining {
                None => wait(&self.changed, generation),
                Some(remaining) => unpoison(self.changed.wait_timeout(generation, remaining)).0,
            };
        }
        generation.waiters -= 1;
        drop(generation);
        mutex.enter();
        result
    }

    /// Bumps the generation if anyone waits and wakes one waiter. The
    /// notification is sent with the internal lock held: a waiter that
    /// arrives later (and saw the new generation) cannot be in the std
    /// condvar yet, so it cannot absorb a wakeup meant for an older one.
    fn advance(&self) {
        let mut generation = lock(&self.generation);
        if generation.waiters == 0 {
            return;
        }
        generation.number = generation.number.wrapping_add(1);
        self.changed.notify_one();
    }

    /// Whether any thread is inside a wait (for tests that must know a
    /// waiter is asleep before they signal).
    #[cfg(test)]
    fn has_waiters(&self) -> bool {
        lock(&self.generation).waiters > 0
    }
}

// SAFETY: both waits end with `mutex.enter()`, so they return holding the
// kernel's mutex with whatever guarantees its own implementation gives.
unsafe impl HostCondvar for PosixCondvar {
    fn wait(&self, mutex: &dyn HostMutex) {
        self.wait_for_change(mutex, None);
    }

    fn wait_until(&self, mutex: &dyn HostMutex, deadline_ns: u64) -> WaitResult {
        self.wait_for_change(mutex, Some(deadline_ns))
    }

    fn signal(&self) {
        self.advance();
    }
}

#[cfg(test)]
mod tests;
