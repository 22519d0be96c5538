//! Where waiting lwps queue, keyed by the address of what they wait for.
//!
//! Locks and condition variables hold no queue of their own (so they are
//! `const`-constructible and allocation-free); waiters go into one of a
//! fixed number of buckets hashed by the object's address, in arrival order,
//! as turnstiles do in Solaris and NetBSD. Each entry also records what kind
//! of object it waits for, so that objects sharing an address (a lock
//! wrapping another at offset 0) never steal each other's waiters.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::context::Context;
use crate::cpu_cell::CpuCell;
use crate::lwp::{Lwp, LwpId};

const BUCKETS: usize = 64;

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

/// Parks the current lwp until a waker has taken it off `object`'s queue.
///
/// Wakers remove the waiter before unparking it, so "no longer queued" is
/// the grant; the loop makes a stray wakeup harmless.
pub(crate) fn park_until_dequeued(context: &Context<'_>, object: usize) {
    let queues = &context.kernel().sleep_queues;
    while queues.contains(context, object, context.lwp_id()) {
        context.park(None);
    }
}
