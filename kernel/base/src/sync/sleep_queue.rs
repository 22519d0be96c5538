//! Where waiting lwps queue, keyed by the address of what they wait for.
//!
//! Locks and condition variables hold no queue of their own (so they are
//! `const`-constructible and allocation-free); waiters go into one of a
//! fixed number of buckets hashed by the object's address, in arrival order,
//! as turnstiles do in Solaris and NetBSD. Each entry also records what it
//! waits for ([`WaitKind`]): a rwlock's readers and writers share its key.
//!
//! An lwp is in at most one queue at a time, and only the holder of the
//! virtual CPU touches the queues, so "queued" and "dequeued by a waker"
//! are exact and tell a waiter whether it was granted what it waited for.

use alloc::sync::Arc;
use alloc::vec::Vec;

use hypercall::WaitResult;

use crate::context::Context;
use crate::cpu_cell::CpuCell;
use crate::lwp::{Lwp, LwpId};

const BUCKETS: usize = 64;

/// The sleep-queue key of `object`: its address. Two live locks or
/// condvars never share one: a lock's value is its last field (it may be
/// unsized), so nothing inside it starts at the lock's own address.
pub(crate) fn sleep_key<T: ?Sized>(object: &T) -> usize {
    core::ptr::from_ref(object).cast::<u8>().addr()
}

/// What a waiter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitKind {
    Mutex,
    RwReader,
    RwWriter,
    Condition,
}

struct Waiter {
    object: usize,
    kind: WaitKind,
    lwp: Arc<Lwp>,
}

/// The kernel's sleep queues.
pub(crate) struct SleepQueues {
    buckets: CpuCell<[Vec<Waiter>; BUCKETS]>,
}

impl SleepQueues {
    pub(crate) fn new() -> Self {
        Self {
            buckets: CpuCell::new([const { Vec::new() }; BUCKETS]),
        }
    }

    fn bucket(object: usize) -> usize {
        // Objects are at least 4-byte aligned; mix the rest (Fibonacci hash).
        ((object >> 2).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> 26) % BUCKETS
    }

    /// Queues the current lwp behind earlier waiters for `object`.
    pub(crate) fn enqueue(&self, context: &Context<'_>, object: usize, kind: WaitKind) {
        let lwp = context.lwp().clone();
        self.buckets.with(context, |buckets| {
            buckets[Self::bucket(object)].push(Waiter { object, kind, lwp });
        });
    }

    /// Removes and returns the first waiter of `kind` for `object`.
    pub(crate) fn dequeue_first(
        &self,
        context: &Context<'_>,
        object: usize,
        kind: WaitKind,
    ) -> Option<Arc<Lwp>> {
        self.buckets.with(context, |buckets| {
            let bucket = &mut buckets[Self::bucket(object)];
            let index = bucket
                .iter()
                .position(|w| w.object == object && w.kind == kind)?;
            Some(bucket.remove(index).lwp)
        })
    }

    /// Removes every waiter of `kind` for `object`, unparking each; returns
    /// how many there were.
    pub(crate) fn wake_all(&self, context: &Context<'_>, object: usize, kind: WaitKind) -> u32 {
        self.buckets.with(context, |buckets| {
            let mut woken = 0;
            buckets[Self::bucket(object)].retain(|w| {
                let matches = w.object == object && w.kind == kind;
                if matches {
                    w.lwp.unpark();
                    woken += 1;
                }
                !matches
            });
            woken
        })
    }

    /// Removes `lwp`'s entry for `object`; false if it is not queued.
    pub(crate) fn remove(&self, context: &Context<'_>, object: usize, lwp: LwpId) -> bool {
        self.buckets.with(context, |buckets| {
            let bucket = &mut buckets[Self::bucket(object)];
            match bucket
                .iter()
                .position(|w| w.object == object && w.lwp.id() == lwp)
            {
                Some(index) => {
                    bucket.remove(index);
                    true
                }
                None => false,
            }
        })
    }

    /// Whether `lwp` still waits for `object`.
    pub(crate) fn contains(&self, context: &Context<'_>, object: usize, lwp: LwpId) -> bool {
        self.buckets.with(context, |buckets| {
            buckets[Self::bucket(object)]
                .iter()
                .any(|w| w.object == object && w.lwp.id() == lwp)
        })
    }
}

/// Parks the current lwp while it is queued for `object`: until a waker
/// has taken it off the queue (`Woken`), or until `deadline_ns` passed with
/// it still queued, in which case it leaves the queue (`TimedOut`).
///
/// Wakers remove the waiter before unparking it, so "no longer queued" is
/// the grant. [`Context::park`] may return without that grant (a wake meant
/// for a service thread's loop, sent while its handler waits here), so the
/// queue, not the park, decides.
pub(crate) fn park_while_queued(
    context: &Context<'_>,
    object: usize,
    deadline_ns: Option<u64>,
) -> WaitResult {
    let queues = &context.kernel().sleep_queues;
    let me = context.lwp_id();
    loop {
        if !queues.contains(context, object, me) {
            return WaitResult::Woken;
        }
        if context.park(deadline_ns) == WaitResult::TimedOut && queues.remove(context, object, me) {
            return WaitResult::TimedOut;
        }
    }
}
