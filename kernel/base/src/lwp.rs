//! Kernel threads' soft context (`struct lwp` in NetBSD, `curlwp` in rump).
//!
//! Every thread running kernel code has an [`Lwp`]: kernel threads for their
//! whole life, application threads while bound ([`crate::ThreadBinding`]) or
//! for one entry (implicit lwps, recycled through a cache). The host
//! thread's slot ([`hypercall::Threads::thread_slot`]) holds the lwp's id
//! and its kernel's ([`slot_value`]): the logger finds a thread's kernel
//! there, and [`crate::Kernel::bind_thread`] a thread already bound.
//!
//! An lwp sleeps by *parking* on its own host condition variable with the
//! virtual CPU's host mutex as the interlock, so sleeping releases the CPU
//! atomically and no wakeup is lost. A wakeup is one flag, not addressed to
//! any particular wait: whoever parks next consumes it. So a park may end
//! for a wakeup meant for another wait of the same lwp, and every caller
//! re-checks its own condition (a queue entry, a work list) and parks again.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use hypercall::{HostCondvar, MemoryError, WaitResult};

use crate::cpu::VirtualCpu;
use crate::process::Process;

/// A kernel thread's identity, unique in the process and never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LwpId(pub u64);

impl fmt::Display for LwpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lwp{}", self.0)
    }
}

static NEXT_LWP_ID: AtomicU64 = AtomicU64::new(1);

/// Bits of the thread slot that hold the lwp id; the kernel id sits above.
const SLOT_LWP_BITS: u32 = 40;

/// The thread-slot value for `lwp` of kernel `kernel`: both ids, so that
/// the slot alone tells which kernel a thread is in (the logger needs it).
pub(crate) fn slot_value(kernel: u32, lwp: LwpId) -> usize {
    debug_assert!(lwp.0 < 1 << SLOT_LWP_BITS);
    ((u64::from(kernel) << SLOT_LWP_BITS) | lwp.0) as usize
}

/// The kernel id in a thread-slot value (0 for an empty slot).
pub(crate) fn slot_kernel(slot: usize) -> u32 {
    (slot as u64 >> SLOT_LWP_BITS) as u32
}

/// A kernel thread's soft context.
pub(crate) struct Lwp {
    id: LwpId,
    /// Where the lwp sleeps; its interlock is the virtual CPU's host mutex.
    park: Box<dyn HostCondvar>,
    /// Set by [`Lwp::unpark`] and consumed by [`Lwp::park`], both with the
    /// virtual CPU's host mutex held; cleared when an implicit lwp goes
    /// back to the cache, where nothing can unpark it.
    woken: AtomicBool,
    /// The process context it runs for.
    process: Arc<Process>,
}

impl Lwp {
    /// Creates an lwp of `process` whose parking place is `park`.
    pub(crate) fn new(park: Box<dyn HostCondvar>, process: Arc<Process>) -> Self {
        Self {
            id: LwpId(NEXT_LWP_ID.fetch_add(1, Relaxed)),
            park,
            woken: AtomicBool::new(false),
            process,
        }
    }

    /// Creates an lwp of `process`, asking the host for its condition
    /// variable.
    pub(crate) fn create(
        hyper: &dyn hypercall::Hypercalls,
        process: Arc<Process>,
    ) -> Result<Self, MemoryError> {
        Ok(Self::new(hyper.condvar_create()?, process))
    }

    pub(crate) fn id(&self) -> LwpId {
        self.id
    }

    pub(crate) fn process(&self) -> &Arc<Process> {
        &self.process
    }

    /// Sleeps until [`Lwp::unpark`] or `deadline_ns`, releasing the virtual
    /// CPU meanwhile; `Woken` may come from an unpark meant for another wait
    /// (see the module docs). The caller holds `cpu` and is this lwp's
    /// thread.
    pub(crate) fn park(&self, cpu: &VirtualCpu, deadline_ns: Option<u64>) -> WaitResult {
        cpu.release_for_park(self.id);
        let result = self.park_on_host(cpu, deadline_ns);
        cpu.resume_after_park(self.id);
        result
    }

    fn park_on_host(&self, cpu: &VirtualCpu, deadline_ns: Option<u64>) -> WaitResult {
        while !self.woken.load(Relaxed) {
            match deadline_ns {
                None => self.park.wait(cpu.host_mutex()),
                Some(deadline) => {
                    let timed_out =
                        self.park.wait_until(cpu.host_mutex(), deadline) == WaitResult::TimedOut;
                    if timed_out && !self.woken.load(Relaxed) {
                        return WaitResult::TimedOut;
                    }
                }
            }
        }
        self.woken.store(false, Relaxed);
        WaitResult::Woken
    }

    /// Wakes the lwp if it is parked, or makes its next park return at
    /// once. The caller holds the virtual CPU.
    pub(crate) fn unpark(&self) {
        self.woken.store(true, Relaxed);
        self.park.signal();
    }

    /// Forgets a pending wakeup, so that an implicit lwp taken from the
    /// cache by another thread does not start with a spurious one.
    pub(crate) fn clear_wakeup(&self) {
        self.woken.store(false, Relaxed);
    }
}
