//! The host mutex: non-recursive, with the holder's thread identity.
//!
//! State is `Option<ThreadId>` (the holder) under a std mutex; waiters
//! sleep on a std condvar and one is woken per release. The holder is
//! always known, which makes `owner()` exact and lets misuse be caught.

use std::sync::{Condvar, Mutex};

use hypercall::{HostMutex, ThreadId};

use crate::identity;
use crate::sync::{lock, wait};

/// A [`HostMutex`] on std::sync.
#[derive(Debug, Default)]
pub(crate) struct PosixMutex {
    /// The holding thread; `None` when free.
    holder: Mutex<Option<ThreadId>>,
    /// Signalled once per release.
    released: Condvar,
}

impl PosixMutex {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

// SAFETY: `holder` under a std mutex admits one holder at a time, and the
// std mutex orders each holder's writes before the next one's `enter`;
// `owner` reads the recorded holder.
unsafe impl HostMutex for PosixMutex {
    fn enter(&self) {
        let me = identity::current();
        let mut holder = lock(&self.holder);
        if *holder == Some(me) {
            drop(holder);
            panic!("HostMutex::enter by thread {me}, which already holds it (not recursive)");
        }
        while holder.is_some() {
            holder = wait(&self.released, holder);
        }
        *holder = Some(me);
    }

    fn exit(&self) {
        let me = identity::current();
        let mut holder = lock(&self.holder);
        if *holder != Some(me) {
            let actual = *holder;
            drop(holder);
            panic!("HostMutex::exit by thread {me}, but the holder is {actual:?}");
        }
        *holder = None;
        drop(holder);
        self.released.notify_one();
    }

    fn owner(&self) -> Option<ThreadId> {
        *lock(&self.holder)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::UnsafeCell;

    use super::*;
    use crate::test_support::{run_with_deadline, wait_for};

    /// A counter whose only protection is the mutex under test.
    struct Unprotected(UnsafeCell<u64>);

    // SAFETY: every access to the cell happens between `enter` and `exit`
    // of the mutex under test; the test checks exactly that this excludes
    // concurrent access.
    unsafe impl Sync for Unprotected {}

    impl Unprotected {
        /// The cell (a method, so closures capture the whole `Sync` value).
        fn cell(&self) -> *mut u64 {
            self.0.get()
        }
    }

    #[test]
    fn mutual_exclusion_of_a_plain_counter() {
        const THREADS: u64 = 4;
        const INCREMENTS: u64 = 20_000;
        let mutex = PosixMutex::new();
        let counter = Unprotected(UnsafeCell::new(0));
        run_with_deadline(|| {
            std::thread::scope(|scope| {
                for _ in 0..THREADS {
                    scope.spawn(|| {
                        for _ in 0..INCREMENTS {
                            mutex.enter();
                            // SAFETY: the mutex is held (see `Unprotected`).
                            let value = unsafe { *counter.cell() };
                            std::hint::black_box(value);
                            // SAFETY: as above.
                            unsafe { *counter.cell() = value + 1 };
                            mutex.exit();
                        }
                    });
                }
            })
        });
        assert_eq!(counter.0.into_inner(), THREADS * INCREMENTS);
    }

    #[test]
    fn owner_is_the_holder_whoever_asks() {
        let mutex = PosixMutex::new();
        assert_eq!(mutex.owner(), None);
        mutex.enter();
        let me = identity::current();
        assert_eq!(mutex.owner(), Some(me));
        std::thread::scope(|scope| {
            let other = scope.spawn(|| mutex.owner());
            assert_eq!(other.join().expect("no panic"), Some(me));
        });
        mutex.exit();
        assert_eq!(mutex.owner(), None);
    }

    #[test]
    fn release_hands_the_mutex_to_a_blocked_enter() {
        let mutex = PosixMutex::new();
        let (waiter_id, owner_seen) = run_with_deadline(|| {
            mutex.enter();
            std::thread::scope(|scope| {
                let waiter = scope.spawn(|| {
                    mutex.enter();
                    let owner = mutex.owner();
                    mutex.exit();
                    (identity::current(), owner)
                });
                wait_for("the waiter to start", || {
                    waiter.is_finished() || mutex.owner().is_some()
                });
                mutex.exit();
                waiter.join().expect("no panic")
            })
        });
        assert_eq!(owner_seen, Some(waiter_id));
        assert_eq!(mutex.owner(), None);
    }

    #[test]
    #[should_panic(expected = "but the holder is None")]
    fn exit_without_holding_is_a_kernel_bug() {
        PosixMutex::new().exit();
    }

    #[test]
    #[should_panic(expected = "already holds it")]
    fn entering_twice_is_a_kernel_bug_not_a_deadlock() {
        let mutex = PosixMutex::new();
        mutex.enter();
        mutex.enter();
    }
}
