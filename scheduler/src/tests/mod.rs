//! Host tests of the scheduler: a host platform and shared helpers.
//!
//! Each test makes its own scheduler on its own host thread (the test
//! harness runs them in parallel), so the host thread becomes "boot". No
//! test panics on a spawned thread: that would abort the whole process
//! (see the crate docs); checks run on the boot thread from logs.

mod abi;
mod blocking;
mod lifecycle;
mod switching;

use core::ops::Deref;
use std::{
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
    vec::Vec,
};

use crate::{MAX_THREADS, Platform, Scheduler, SpawnSpec, ThreadId};

/// How long an idle with no deadline waits for an interrupt before it
/// declares a deadlock.
const DEADLOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Simulated interrupts: other host threads queue ids to wake.
#[derive(Default)]
pub(crate) struct InterruptLine {
    pending: Mutex<Vec<ThreadId>>,
    raised: Condvar,
}

impl InterruptLine {
    /// What an interrupt handler does: record a wakeup, signal the CPU.
    pub(crate) fn raise(&self, thread: ThreadId) {
        lock(&self.pending).push(thread);
        self.raised.notify_all();
    }
}

/// The host platform: `Instant` for the clock, a condition variable to
/// idle on. While a test holds a handle of the interrupt line, an idle
/// without deadline waits for it; otherwise it panics ("deadlock").
pub(crate) struct HostPlatform {
    origin: Instant,
    line: Arc<InterruptLine>,
}

impl HostPlatform {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            line: Arc::default(),
        }
    }

    /// A handle to raise simulated interrupts from another host thread.
    pub(crate) fn interrupt_line(&self) -> Arc<InterruptLine> {
        Arc::clone(&self.line)
    }

    /// The instant `ns` nanoseconds after the clock's origin.
    fn instant(&self, ns: u64) -> Instant {
        self.origin + Duration::from_nanos(ns)
    }
}

impl Platform for HostPlatform {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).expect("tests run for less than 584 years")
    }

    fn idle(&self, deadline_ns: Option<u64>) {
        let mut pending = lock(&self.line.pending);
        let nobody_can_raise = Arc::strong_count(&self.line) == 1;
        if deadline_ns.is_none() && pending.is_empty() && nobody_can_raise {
            panic!("deadlock: nothing is runnable and nothing can wake a thread");
        }
        let limit =
            deadline_ns.map_or_else(|| Instant::now() + DEADLOCK_TIMEOUT, |ns| self.instant(ns));
        while pending.is_empty() {
            let Some(left) = limit
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero())
            else {
                assert!(
                    deadline_ns.is_some(),
                    "deadlock: no interrupt within {DEADLOCK_TIMEOUT:?}"
                );
                return;
            };
            pending = self
                .line
                .raised
                .wait_timeout(pending, left)
                .expect("no test panics holding the line")
                .0;
        }
    }

    fn poll_wakeups(&self, wake: &mut dyn FnMut(ThreadId)) {
        let pending = core::mem::take(&mut *lock(&self.line.pending));
        pending.into_iter().for_each(wake);
    }
}

/// A scheduler reference that spawned threads can capture.
#[derive(Clone, Copy)]
pub(crate) struct Shared(*const Scheduler<HostPlatform>);

// SAFETY: a `Shared` is used only by threads of its scheduler, and they all
// run on the host thread that created it, one at a time.
unsafe impl Send for Shared {}

impl Deref for Shared {
    type Target = Scheduler<HostPlatform>;

    fn deref(&self) -> &Scheduler<HostPlatform> {
        // SAFETY: `with_limit` keeps the scheduler alive while its body runs,
        // and threads of the scheduler only run inside that body.
        unsafe { &*self.0 }
    }
}

/// Runs `body` on a new scheduler that adopts the calling host thread.
pub(crate) fn with_scheduler<R>(body: impl FnOnce(Shared) -> R) -> R {
    with_limit(MAX_THREADS, body)
}

/// Like [`with_scheduler`], with a thread limit.
pub(crate) fn with_limit<R>(max_threads: usize, body: impl FnOnce(Shared) -> R) -> R {
    let scheduler = Scheduler::with_max_threads(HostPlatform::new(), max_threads);
    body(Shared(&scheduler))
}

pub(crate) fn joinable(name: &str) -> SpawnSpec<'_> {
    SpawnSpec {
        name,
        stack_size: 0,
        joinable: true,
    }
}

pub(crate) fn detached(name: &str) -> SpawnSpec<'_> {
    SpawnSpec {
        name,
        stack_size: 0,
        joinable: false,
    }
}

/// Events recorded by threads, checked afterwards on the boot thread.
pub(crate) type Log<T> = Arc<Mutex<Vec<T>>>;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("no test panics while holding a lock")
}

pub(crate) fn record<T>(log: &Log<T>, event: T) {
    lock(log).push(event);
}

pub(crate) fn milliseconds(count: u64) -> u64 {
    count * 1_000_000
}
