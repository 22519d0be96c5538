//! The input queue: received frames waiting for the `softnet` softint.
//!
//! Its slots are charged to the `net` account. It starts with room for
//! [`INITIAL_SLOTS`] frames and doubles, charging each growth, up to
//! [`INPUT_QUEUE_LIMIT`]; a frame that finds the queue full, or no memory
//! to grow it, is dropped and counted (the link-layer answer to
//! overload). The pagedaemon shrinks an empty queue back
//! ([`InputQueue::shrink`]). All of it runs under the queue's kernel
//! mutex.

use alloc::collections::VecDeque;

use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::memory::Budget;

/// Received frames waiting for the softint, at most; more are dropped.
pub const INPUT_QUEUE_LIMIT: usize = 2048;
/// The room a fresh (or shrunk) queue has.
const INITIAL_SLOTS: usize = 64;
/// Bytes per slot.
const SLOT: usize = core::mem::size_of::<(InterfaceIndex, PacketBuffer)>();

/// Frames from the drivers, oldest first.
pub(crate) struct InputQueue {
    frames: VecDeque<(InterfaceIndex, PacketBuffer)>,
    budget: Budget,
    /// Frames dropped because the queue was full or could not grow.
    pub(crate) dropped: u64,
}

impl InputQueue {
    /// An empty queue with its first slots charged to `budget`; `None`
    /// when those are refused.
    pub(crate) fn new(budget: Budget) -> Option<Self> {
        if !budget.charge(INITIAL_SLOTS * SLOT) {
            return None;
        }
        Some(Self {
            frames: VecDeque::with_capacity(INITIAL_SLOTS),
            budget,
            dropped: 0,
        })
    }

    /// Queues `frame`; false (and counted) when it was dropped.
    #[inline]
    pub(crate) fn push(&mut self, interface: InterfaceIndex, frame: PacketBuffer) -> bool {
        if self.frames.len() == self.frames.capacity() && !self.grow() {
            self.dropped += 1;
            return false;
        }
        self.frames.push_back((interface, frame));
        true
    }

    /// The oldest frame.
    pub(crate) fn pop(&mut self) -> Option<(InterfaceIndex, PacketBuffer)> {
        self.frames.pop_front()
    }

    #[cold]
    fn grow(&mut self) -> bool {
        let capacity = self.frames.capacity();
        let wanted = (capacity * 2).min(INPUT_QUEUE_LIMIT);
        if wanted <= capacity || !self.budget.charge((wanted - capacity) * SLOT) {
            return false;
        }
        if self
            .frames
            .try_reserve_exact(wanted - self.frames.len())
            .is_err()
        {
            self.budget.release((wanted - capacity) * SLOT);
            return false;
        }
        true
    }

    /// Gives the slots of an empty queue back, down to its first ones;
    /// returns the bytes freed.
    pub(crate) fn shrink(&mut self) -> usize {
        let capacity = self.frames.capacity();
        if !self.frames.is_empty() || capacity <= INITIAL_SLOTS {
            return 0;
        }
        self.frames = VecDeque::with_capacity(INITIAL_SLOTS);
        let freed = (capacity - self.frames.capacity()) * SLOT;
        self.budget.release(freed);
        freed
    }
}

impl Drop for InputQueue {
    fn drop(&mut self) {
        self.budget.release(self.frames.capacity() * SLOT);
    }
}
