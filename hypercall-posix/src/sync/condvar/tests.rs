//! Tests of the host condvar: no lost wakeups, deadlines, and
//! a kernel mutex that is not ours.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use hypercall::{HostCondvar, HostMutex, ThreadId, WaitResult};

use super::PosixCondvar;
use crate::clock::MonotonicClock;
use crate::identity;
use crate::sync::PosixMutex;
use crate::test_support::{run_with_deadline, wait_for};

fn condvar() -> PosixCondvar {
    PosixCondvar::new(MonotonicClock::start())
}

/// A bounded queue guarded only by a host mutex and two condvars. The
/// std mutex around the deque is never contended (the host mutex is held
/// whenever it is taken) and only keeps the test free of unsafe code.
struct BoundedQueue<'a> {
    mutex: &'a dyn HostMutex,
    items: Mutex<VecDeque<u64>>,
    not_empty: PosixCondvar,
    not_full: PosixCondvar,
}

impl BoundedQueue<'_> {
    const CAPACITY: usize = 2;

    fn length(&self) -> usize {
        self.items
            .try_lock()
            .expect("guarded by the host mutex")
            .len()
    }

    fn push(&self, item: u64) {
        self.mutex.enter();
        while self.length() == Self::CAPACITY {
            self.not_full.wait(self.mutex);
        }
        self.items.try_lock().expect("guarded").push_back(item);
        self.not_empty.signal();
        self.mutex.exit();
    }

    fn pop(&self) -> u64 {
        self.mutex.enter();
        while self.length() == 0 {
            self.not_empty.wait(self.mutex);
        }
        let item = self
            .items
            .try_lock()
            .expect("guarded")
            .pop_front()
            .expect("not empty");
        self.not_full.signal();
        self.mutex.exit();
        item
    }
}

/// Runs producers and consumers over a queue guarded by `mutex`.
fn producers_and_consumers(mutex: &dyn HostMutex) {
    const ITEMS_PER_PRODUCER: u64 = 5_000;
    const PAIRS: u64 = 2;
    let queue = BoundedQueue {
        mutex,
        items: Mutex::new(VecDeque::new()),
        not_empty: condvar(),
        not_full: condvar(),
    };
    let consumed_sum = AtomicU64::new(0);
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            for _ in 0..PAIRS {
                scope.spawn(|| (1..=ITEMS_PER_PRODUCER).for_each(|item| queue.push(item)));
                scope.spawn(|| {
                    for _ in 0..ITEMS_PER_PRODUCER {
                        consumed_sum.fetch_add(queue.pop(), Ordering::Relaxed);
                    }
                });
            }
        })
    });
    let expected = PAIRS * ITEMS_PER_PRODUCER * (ITEMS_PER_PRODUCER + 1) / 2;
    assert_eq!(consumed_sum.load(Ordering::Relaxed), expected);
    assert_eq!(queue.length(), 0);
}

#[test]
fn no_lost_wakeup_between_producers_and_consumers() {
    producers_and_consumers(&PosixMutex::new());
}

/// A spin lock that is not `PosixMutex`: the condvar may use only the
/// `HostMutex` trait.
#[derive(Default)]
struct SpinMutex {
    holder: AtomicU64,
}

impl SpinMutex {
    fn try_enter(&self) -> bool {
        let me = identity::current().0;
        self.holder
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }
}

// SAFETY: a compare-exchange with acquire takes the lock, a release store
// gives it back: exclusion and ordering as the trait asks.
unsafe impl HostMutex for SpinMutex {
    fn enter(&self) {
        while !self.try_enter() {
            std::thread::yield_now();
        }
    }

    fn exit(&self) {
        self.holder.store(0, Ordering::Release);
    }

    fn owner(&self) -> Option<ThreadId> {
        Some(self.holder.load(Ordering::Relaxed))
            .filter(|&id| id != 0)
            .map(ThreadId)
    }
}

#[test]
fn works_with_any_host_mutex_implementation() {
    producers_and_consumers(&SpinMutex::default());
}

#[test]
fn wait_until_times_out_not_before_the_deadline() {
    let clock = MonotonicClock::start();
    let (mutex, condvar) = (PosixMutex::new(), PosixCondvar::new(clock));
    let deadline = clock.now_ns() + 30_000_000;
    let result = run_with_deadline(|| {
        mutex.enter();
        let result = condvar.wait_until(&mutex, deadline);
        let now = clock.now_ns();
        let owner = mutex.owner();
        mutex.exit();
        (result, now >= deadline, owner == Some(identity::current()))
    });
    assert_eq!(result, (WaitResult::TimedOut, true, true));
    assert!(!condvar.has_waiters());
}

#[test]
fn a_signal_ends_a_timed_wait_early_and_has_waiters_tracks_it() {
    let clock = MonotonicClock::start();
    let (mutex, condvar) = (PosixMutex::new(), PosixCondvar::new(clock));
    assert!(!condvar.has_waiters());
    let far = clock.now_ns() + 60_000_000_000;
    let flag = AtomicUsize::new(0);
    let outcome = run_with_deadline(|| {
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                mutex.enter();
                let mut result = WaitResult::Woken;
                while flag.load(Ordering::SeqCst) == 0 && result == WaitResult::Woken {
                    result = condvar.wait_until(&mutex, far);
                }
                mutex.exit();
                result
            });
            wait_for("the waiter to wait", || condvar.has_waiters());
            mutex.enter();
            flag.store(1, Ordering::SeqCst);
            condvar.signal();
            mutex.exit();
            waiter.join().expect("no panic")
        })
    });
    assert_eq!(outcome, WaitResult::Woken);
    assert!(clock.now_ns() < far);
    assert!(!condvar.has_waiters());
}

#[test]
fn a_signal_without_waiters_is_not_remembered() {
    let clock = MonotonicClock::start();
    let (mutex, condvar) = (PosixMutex::new(), PosixCondvar::new(clock));
    condvar.signal();
    let result = run_with_deadline(|| {
        mutex.enter();
        let result = condvar.wait_until(&mutex, clock.now_ns() + 10_000_000);
        mutex.exit();
        result
    });
    assert_eq!(result, WaitResult::TimedOut);
}

/// Tokens posted under a host mutex; waiters take them with timed waits so
/// short that many expire while signals race them.
struct TimedTokens {
    mutex: PosixMutex,
    condvar: PosixCondvar,
    clock: MonotonicClock,
    /// (available, taken), only touched with `mutex` held.
    counts: Mutex<(u64, u64)>,
}

impl TimedTokens {
    const TOTAL: u64 = 4_000;

    fn counts(&self) -> std::sync::MutexGuard<'_, (u64, u64)> {
        self.counts.try_lock().expect("guarded by the host mutex")
    }

    /// Takes tokens until all are taken; checks every timeout is on time.
    fn take_all(&self, patience_ns: u64) {
        self.mutex.enter();
        while self.counts().1 < Self::TOTAL {
            let (available, taken) = *self.counts();
            if available > 0 {
                *self.counts() = (available - 1, taken + 1);
                continue;
            }
            let deadline = self.clock.now_ns() + patience_ns;
            if self.condvar.wait_until(&self.mutex, deadline) == WaitResult::TimedOut {
                assert!(self.clock.now_ns() >= deadline, "timed out early");
            }
        }
        self.condvar.signal();
        self.mutex.exit();
    }

    /// Posts `count` tokens, signalling one waiter each time.
    fn post(&self, count: u64) {
        for _ in 0..count {
            self.mutex.enter();
            self.counts().0 += 1;
            self.condvar.signal();
            self.mutex.exit();
        }
    }
}

#[test]
fn timed_waits_racing_signals_take_every_token_and_leave_no_waiter() {
    let clock = MonotonicClock::start();
    let tokens = TimedTokens {
        mutex: PosixMutex::new(),
        condvar: PosixCondvar::new(clock),
        clock,
        counts: Mutex::new((0, 0)),
    };
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            for waiter in 0..4u64 {
                let tokens = &tokens;
                scope.spawn(move || tokens.take_all(5_000 * (waiter + 1)));
            }
            for _ in 0..2 {
                scope.spawn(|| tokens.post(TimedTokens::TOTAL / 2));
            }
        })
    });
    assert_eq!(*tokens.counts(), (0, TimedTokens::TOTAL));
    assert!(!tokens.condvar.has_waiters());
}
