//! The watch sets' state: per set, the queue of descriptors that had
//! events and the condition variable its waiters sleep on; per watched
//! descriptor, what it is watched for ([`Watched`], in its table entry).
//!
//! A queue entry carries the stamp of the watch that queued it, so an
//! entry left behind by an earlier watch of the same descriptor (watched,
//! unwatched, watched again) is told apart and skipped. Each set is
//! charged to the sockets' budget; its queue's slots are charged with the
//! descriptors (`table::ENTRY_BYTES`).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::mem::size_of;

use base::sync::Condvar;

use super::super::Errno;
use super::super::poll::PollEvents;
use super::super::table::Fd;
use crate::memory::Budget;
use crate::slab::{Slab, SlabKey};

/// Watch sets open at once, at most.
pub const MAX_WATCH_SETS: usize = 4096;

/// What one set costs: its slot, its condition variable (and the `Arc`'s
/// counts), and its queue's first allocation.
const SET_BYTES: usize =
    size_of::<Option<SetState>>() + 8 + size_of::<Condvar>() + 16 + 8 * QUEUE_SLOT_BYTES;

/// One queue entry.
pub const QUEUE_SLOT_BYTES: usize = size_of::<(Fd, u32)>();

/// What a watched descriptor is watched for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watched {
    pub(crate) set: SlabKey,
    pub(crate) events: PollEvents,
    pub(crate) token: u64,
    /// Tells this watch's queue entries from those of an earlier one.
    pub(crate) stamp: u32,
    /// Its descriptor is in the set's queue.
    pub(crate) queued: bool,
}

impl Watched {
    pub(crate) fn new(set: SlabKey, events: PollEvents, token: u64, stamp: u32) -> Self {
        Self {
            set,
            events,
            token,
            stamp,
            queued: false,
        }
    }
}

struct SetState {
    queue: VecDeque<(Fd, u32)>,
    wait: Arc<Condvar>,
    /// Threads waiting on it now: events notify only when some are.
    sleepers: u32,
}

/// Every open watch set.
pub(crate) struct WatchSets {
    sets: Slab<SetState>,
    budget: Budget,
    next_stamp: u32,
}

impl WatchSets {
    /// No sets yet; each will be charged to `budget`.
    pub(crate) fn new(budget: Budget) -> Self {
        Self {
            sets: Slab::new(MAX_WATCH_SETS),
            budget,
            next_stamp: 0,
        }
    }

    /// Opens a set.
    pub(crate) fn create(&mut self) -> Result<SlabKey, Errno> {
        if !self.budget.charge(SET_BYTES) {
            return Err(Errno::NoBuffers);
        }
        let state = SetState {
            queue: VecDeque::with_capacity(8),
            wait: Arc::new(Condvar::new()),
            sleepers: 0,
        };
        self.sets.insert(state).ok_or_else(|| {
            self.budget.release(SET_BYTES);
            Errno::TooManySockets
        })
    }

    /// Closes `set`; its condition variable, to wake its waiters.
    pub(crate) fn remove(&mut self, set: SlabKey) -> Result<Arc<Condvar>, Errno> {
        let state = self.sets.remove(set).ok_or(Errno::BadDescriptor)?;
        self.budget.release(SET_BYTES);
        Ok(state.wait)
    }

    pub(crate) fn is_open(&self, set: SlabKey) -> bool {
        self.sets.get(set).is_some()
    }

    /// A stamp for a new watch.
    pub(crate) fn stamp(&mut self) -> u32 {
        self.next_stamp = self.next_stamp.wrapping_add(1);
        self.next_stamp
    }

    /// Queues `fd` on `set` (`None`: no such set); the condition variable
    /// to notify when a thread waits on it.
    pub(crate) fn push(
        &mut self,
        set: SlabKey,
        fd: Fd,
        stamp: u32,
    ) -> Option<Option<Arc<Condvar>>> {
        let state = self.sets.get_mut(set)?;
        state.queue.push_back((fd, stamp));
        Some((state.sleepers > 0).then(|| state.wait.clone()))
    }

    /// Puts a ready descriptor back at the end of the queue.
    pub(crate) fn push_again(&mut self, set: SlabKey, fd: Fd, stamp: u32) {
        if let Some(state) = self.sets.get_mut(set) {
            state.queue.push_back((fd, stamp));
        }
    }

    pub(crate) fn pop(&mut self, set: SlabKey) -> Option<(Fd, u32)> {
        self.sets.get_mut(set)?.queue.pop_front()
    }

    /// Entries queued on `set`.
    pub(crate) fn queued(&self, set: SlabKey) -> Result<usize, Errno> {
        let state = self.sets.get(set).ok_or(Errno::BadDescriptor)?;
        Ok(state.queue.len())
    }

    /// A thread is about to wait on `set`: its condition variable.
    pub(crate) fn sleep(&mut self, set: SlabKey) -> Result<Arc<Condvar>, Errno> {
        let state = self.sets.get_mut(set).ok_or(Errno::BadDescriptor)?;
        state.sleepers += 1;
        Ok(state.wait.clone())
    }

    /// A thread stopped waiting on `set`.
    pub(crate) fn wake(&mut self, set: SlabKey) {
        if let Some(state) = self.sets.get_mut(set) {
            state.sleepers = state.sleepers.saturating_sub(1);
        }
    }
}

impl Drop for WatchSets {
    fn drop(&mut self) {
        self.budget.release(self.sets.len() * SET_BYTES);
    }
}
