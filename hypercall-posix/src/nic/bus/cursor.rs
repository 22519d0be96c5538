//! A reader's own position on the bus, with overrun and garbage accounting.
//!
//! The ring never waits for readers: a writer overwrites the oldest slot.
//! A cursor that fell more than a ring behind notices (the frame it wants
//! is no longer among the newest slot-count frames, or its slot was
//! overwritten while being read), jumps to the oldest frame still there
//! and counts the frames it skipped as `lapped`. A slot whose contents do
//! not fit its sequence number is skipped and counted as `bad`.

use super::ring::{BusFrame, Ring, SlotMeta, SlotRead};

/// Where a reader is, and what it missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RingCursor {
    /// The sequence number of the next frame to read.
    next: u64,
    /// Frames skipped because writers overtook this reader.
    pub(crate) lapped: u64,
    /// Slots skipped because they held garbage.
    pub(crate) bad: u64,
}

impl RingCursor {
    /// A cursor that reads only frames written from now on.
    pub(crate) fn at_end(ring: &Ring) -> Self {
        Self::starting_at(ring.frames_written().saturating_add(1))
    }

    /// A cursor at the oldest frame still in the ring.
    pub(crate) fn at_oldest(ring: &Ring) -> Self {
        Self::starting_at(oldest_in_ring(ring, ring.frames_written()))
    }

    fn starting_at(next: u64) -> Self {
        Self {
            next: next.max(1),
            lapped: 0,
            bad: 0,
        }
    }

    /// Whether every frame written so far was read.
    pub(crate) fn caught_up(&self, ring: &Ring) -> bool {
        self.next > ring.frames_written()
    }

    /// The next frame, oldest first, or `None` when this reader is level
    /// with the writers. Gives up after one ring's worth of bad slots.
    pub(crate) fn next_frame(&mut self, ring: &Ring) -> Option<BusFrame> {
        let mut bytes = Vec::new();
        let (sequence, slot) = self.next_slot(ring, &mut bytes)?;
        Some(BusFrame {
            sequence,
            sender: slot.sender,
            timestamp_ns: slot.timestamp_ns,
            bytes,
        })
    }

    /// As [`RingCursor::next_frame`], into `bytes` (cleared first, its
    /// capacity reused): the sender's id, or `None`.
    pub(crate) fn next_frame_into(&mut self, ring: &Ring, bytes: &mut Vec<u8>) -> Option<u32> {
        self.next_slot(ring, bytes).map(|(_, slot)| slot.sender)
    }

    fn next_slot(&mut self, ring: &Ring, bytes: &mut Vec<u8>) -> Option<(u64, SlotMeta)> {
        for _ in 0..=ring.slot_count() {
            let written = ring.frames_written();
            if self.next > written || self.next == u64::MAX {
                return None;
            }
            self.skip_to(oldest_in_ring(ring, written));
            match ring.read_into(self.next, bytes) {
                SlotRead::Frame(slot) => {
                    self.next += 1;
                    return Some((self.next - 1, slot));
                }
                SlotRead::Bad => self.skip_bad(),
                SlotRead::Stale => self.after_stale(ring),
            }
        }
        None
    }

    /// The slot did not hold `next`: a writer is overwriting it (this
    /// reader is a ring behind) or it holds garbage.
    fn after_stale(&mut self, ring: &Ring) {
        let written = ring.frames_written();
        let behind = written.saturating_sub(self.next);
        if behind.saturating_add(1) >= ring.slot_count() {
            // The writer of `written + 1` may be in the oldest slot: skip it.
            self.skip_to(oldest_in_ring(ring, written).saturating_add(1));
        } else {
            self.skip_bad();
        }
    }

    fn skip_bad(&mut self) {
        self.bad += 1;
        self.next += 1;
    }

    /// Moves forward to `target` if behind it, counting the frames missed.
    fn skip_to(&mut self, target: u64) {
        if self.next < target {
            self.lapped += target - self.next;
            self.next = target;
        }
    }
}

/// The oldest sequence number still in the ring when `written` is the newest.
fn oldest_in_ring(ring: &Ring, written: u64) -> u64 {
    written.saturating_sub(ring.slot_count()).saturating_add(1)
}
