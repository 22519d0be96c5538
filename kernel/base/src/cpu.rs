//! The kernel's virtual CPU: who may run kernel code right now.
//!
//! One host mutex is the CPU; holding it is running on it (the rump papers'
//! `rump_schedule`/`rump_unschedule`). `holder` records which lwp holds it,
//! written only by that lwp, so a thread can check with one plain load
//! whether it is the holder ([`VirtualCpu::is_held_by`]).
//!
//! On bare metal with cooperative threads the host mutex is never contended
//! and costs a few instructions; hosted, it keeps Linux threads from running
//! kernel code at the same time.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hypercall::{HostMutex, ThreadId};

use crate::lwp::LwpId;

/// The one virtual CPU of a kernel.
pub(crate) struct VirtualCpu {
    lock: Box<dyn HostMutex>,
    /// The lwp holding the CPU, 0 if none.
    holder: AtomicU64,
}

impl VirtualCpu {
    pub(crate) fn new(lock: Box<dyn HostMutex>) -> Self {
        Self {
            lock,
            holder: AtomicU64::new(0),
        }
    }

    /// Takes the CPU for `lwp`, waiting for the current holder. *Blocks.*
    pub(crate) fn schedule(&self, lwp: LwpId) {
        self.lock.enter();
        self.holder.store(lwp.0, Relaxed);
    }

    /// Gives the CPU back. The caller is `lwp` and holds it.
    pub(crate) fn unschedule(&self, lwp: LwpId) {
        assert_eq!(
            self.holder.load(Relaxed),
            lwp.0,
            "CPU given back by a non-holder"
        );
        self.holder.store(0, Relaxed);
        self.lock.exit();
    }

    /// Whether `lwp` holds the CPU. Exact for the calling thread's own lwp:
    /// only that thread ever stores its id here.
    pub(crate) fn is_held_by(&self, lwp: LwpId) -> bool {
        self.holder.load(Relaxed) == lwp.0
    }

    /// Whether host thread `thread` holds the CPU, whatever its lwp. Exact
    /// for the calling thread, as the host mutex records its holder.
    pub(crate) fn is_held_by_thread(&self, thread: ThreadId) -> bool {
        self.lock.owner() == Some(thread)
    }

    /// The host mutex, for parking with it as the interlock.
    pub(crate) fn host_mutex(&self) -> &dyn HostMutex {
        &*self.lock
    }

    /// Marks the CPU free before a host condvar wait releases the mutex.
    pub(crate) fn release_for_park(&self, lwp: LwpId) {
        assert_eq!(self.holder.load(Relaxed), lwp.0, "parked without the CPU");
        self.holder.store(0, Relaxed);
    }

    /// Marks the CPU held again after the host condvar wait re-took it.
    pub(crate) fn resume_after_park(&self, lwp: LwpId) {
        self.holder.store(lwp.0, Relaxed);
    }
}
