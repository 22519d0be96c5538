//! Memory pressure: who can give memory back, and how the pagedaemon is
//! woken and waited for.
//!
//! Allocations never block here. One that takes the kernel's use across
//! the high-water mark, or that is refused, *requests* a pass: it sets a
//! flag and unparks the pagedaemon's lwp when the allocating thread holds
//! the virtual CPU (every kernel allocation does; one that does not leaves
//! the flag for the pagedaemon's next look). A caller that may sleep and
//! holds no lock a reclaimer takes, such as a socket call with its stack
//! lock released, can [`Memory::wait_for_reclaim`]: it requests a pass and
//! sleeps until one that started after its request has finished, then
//! retries its allocation once.
//!
//! Reclaimers ([`Reclaim`]) and pools register here with weak references,
//! so a subsystem that goes away simply stops being asked.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use hypercall::WaitResult;

use super::{Memory, Pool};
use crate::context::Context;
use crate::kernel::Kernel;
use crate::lwp::Lwp;
use crate::sync::{Condvar, Mutex};

/// How long a caller waits for a reclaim pass at most.
pub const RECLAIM_WAIT_NS: u64 = 100_000_000;

/// How hard a reclaimer should try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReclaimLevel {
    /// Caches, and buffers of connections idle for a while.
    Idle,
    /// Everything not holding data this instant.
    Urgent,
}

/// A subsystem that can give memory back when the pagedaemon asks.
///
/// `reclaim` runs in the pagedaemon thread with the virtual CPU. It must
/// not sleep on a lock: a thread that waits for the pagedaemon may hold
/// it. Use `try_lock` and report 0 when the lock is taken (the pagedaemon
/// comes back while pressure lasts).
pub trait Reclaim: Send + Sync {
    /// Frees what it can at `level`; returns about how many bytes.
    fn reclaim(&self, context: &Context<'_>, level: ReclaimLevel) -> usize;
}

/// The pagedaemon's lwp, once its thread runs.
struct Daemon {
    kernel: Weak<Kernel>,
    lwp: Arc<Lwp>,
}

/// Passes started and finished, under the kernel mutex of the waiters.
#[derive(Debug)]
pub(super) struct Passes {
    pub(super) started: u64,
    pub(super) finished: u64,
}

/// The pagedaemon's counters, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PagedaemonStats {
    /// Passes requested (a crossing of the high-water mark, a refused
    /// allocation, a waiter).
    pub requests: u64,
    /// Reclaim passes run.
    pub passes: u64,
    /// Bytes the passes took off the kernel's use.
    pub reclaimed_bytes: u64,
    /// Callers that waited for a pass before retrying an allocation.
    pub waits: u64,
}

/// Everything memory pressure needs, inside [`Memory`].
pub(super) struct Pressure {
    /// A pass is wanted (the high-water mark was crossed).
    requested: AtomicBool,
    /// A pass is wanted by someone who needs memory now.
    urgent: AtomicBool,
    /// A pagedaemon was started (its lwp may not be attached yet).
    started: AtomicBool,
    daemon: spin::Once<Daemon>,
    pub(super) passes: Mutex<Passes>,
    pub(super) pass_done: Condvar,
    reclaimers: spin::Mutex<Vec<Weak<dyn Reclaim>>>,
    pools: spin::Mutex<Vec<Weak<Pool>>>,
    requests: AtomicU64,
    pub(super) pass_count: AtomicU64,
    pub(super) reclaimed: AtomicU64,
    waits: AtomicU64,
}

impl Pressure {
    pub(super) fn new() -> Self {
        Self {
            requested: AtomicBool::new(false),
            urgent: AtomicBool::new(false),
            started: AtomicBool::new(false),
            daemon: spin::Once::new(),
            passes: Mutex::new(Passes {
                started: 0,
                finished: 0,
            }),
            pass_done: Condvar::new(),
            reclaimers: spin::Mutex::new(Vec::new()),
            pools: spin::Mutex::new(Vec::new()),
            requests: AtomicU64::new(0),
            pass_count: AtomicU64::new(0),
            reclaimed: AtomicU64::new(0),
            waits: AtomicU64::new(0),
        }
    }

    /// Asks for a pass (`urgent`: every stage); wakes the pagedaemon if
    /// this thread may.
    pub(super) fn request(&self, urgent: bool) {
        self.requests.fetch_add(1, Relaxed);
        if urgent {
            self.urgent.store(true, Relaxed);
        } else {
            self.requested.store(true, Relaxed);
        }
        let Some(daemon) = self.daemon.get() else {
            return;
        };
        let Some(kernel) = daemon.kernel.upgrade() else {
            return;
        };
        let me = kernel.hypercalls().thread_current();
        if kernel.cpu.is_held_by_thread(me) {
            daemon.lwp.unpark();
        }
    }

    /// Takes the request flag (the pagedaemon, before a pass).
    pub(super) fn take_request(&self) -> bool {
        self.requested.swap(false, Relaxed)
    }

    /// Takes the urgent flag (the pagedaemon, before a pass).
    pub(super) fn take_urgent(&self) -> bool {
        self.urgent.swap(false, Relaxed)
    }

    /// Records the pagedaemon's lwp, so that requests wake it.
    pub(super) fn attach(&self, kernel: &Arc<Kernel>, lwp: Arc<Lwp>) {
        self.daemon.call_once(|| Daemon {
            kernel: Arc::downgrade(kernel),
            lwp,
        });
    }

    /// Unparks the pagedaemon (shutdown). The caller holds the CPU.
    pub(super) fn wake(&self) {
        if let Some(daemon) = self.daemon.get() {
            daemon.lwp.unpark();
        }
    }

    /// Notes that a pagedaemon thread was started; false if one was
    /// already. Requests from now on are served (the thread looks at the
    /// flags before it first sleeps).
    pub(super) fn start(&self) -> bool {
        !self.started.swap(true, Relaxed)
    }

    pub(super) fn has_daemon(&self) -> bool {
        self.started.load(Relaxed)
    }

    pub(super) fn add_reclaimer(&self, reclaimer: Weak<dyn Reclaim>) {
        let mut reclaimers = self.reclaimers.lock();
        reclaimers.retain(|known| known.strong_count() > 0);
        reclaimers.push(reclaimer);
    }

    pub(super) fn add_pool(&self, pool: Weak<Pool>) {
        let mut pools = self.pools.lock();
        pools.retain(|known| known.strong_count() > 0);
        pools.push(pool);
    }

    /// The live reclaimers, in registration order.
    pub(super) fn reclaimers(&self) -> Vec<Arc<dyn Reclaim>> {
        let reclaimers = self.reclaimers.lock();
        reclaimers.iter().filter_map(Weak::upgrade).collect()
    }

    /// The live pools.
    pub(super) fn pools(&self) -> Vec<Arc<Pool>> {
        self.pools.lock().iter().filter_map(Weak::upgrade).collect()
    }

    pub(super) fn stats(&self) -> PagedaemonStats {
        PagedaemonStats {
            requests: self.requests.load(Relaxed),
            passes: self.pass_count.load(Relaxed),
            reclaimed_bytes: self.reclaimed.load(Relaxed),
            waits: self.waits.load(Relaxed),
        }
    }
}

impl Memory {
    /// Registers `reclaimer` for the pagedaemon's passes.
    pub fn register_reclaimer(&self, reclaimer: Weak<dyn Reclaim>) {
        self.pressure.add_reclaimer(reclaimer);
    }

    /// Requests a reclaim pass and sleeps until one that started after
    /// the request has finished (or [`RECLAIM_WAIT_NS`] passed). Returns
    /// whether a pass ran, that is, whether retrying an allocation is
    /// worth it. Call it holding no lock a [`Reclaim`] takes.
    pub fn wait_for_reclaim(&self, context: &Context<'_>) -> bool {
        if !self.pressure.has_daemon() {
            return false;
        }
        self.pressure.waits.fetch_add(1, Relaxed);
        let deadline = context.now_ns().saturating_add(RECLAIM_WAIT_NS);
        let mut passes = self.pressure.passes.lock(context);
        let wanted = passes.started + 1;
        self.pressure.request(true);
        while passes.finished < wanted {
            let (next, result) = self.pressure.pass_done.wait_until(passes, deadline);
            passes = next;
            if result == WaitResult::TimedOut {
                return passes.finished >= wanted;
            }
        }
        true
    }

    /// The pagedaemon's counters.
    pub fn pagedaemon_stats(&self) -> PagedaemonStats {
        self.pressure.stats()
    }
}
