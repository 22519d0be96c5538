//! The receive buffer: a ring holding in-order data for the reader and
//! out-of-order data in place beyond it, with a few ranges marking holes.
//!
//! `next` is RCV.NXT. Committed ring bytes are the readable data that ends
//! at `next`; a byte with sequence number `s` at or after `next` lives at
//! ring offset `len + (s - next)`. Out-of-order bytes are written there at
//! once and remembered as at most [`MAXIMUM_RANGES`] disjoint, non-adjacent
//! ranges; a segment that would need one more range is dropped (the peer
//! retransmits it), so memory stays bounded and nothing outside the window
//! is ever kept. When the hole at `next` fills, every range it reaches is
//! committed. A FIN is remembered at its sequence number and consumed when
//! `next` reaches it; no data is accepted past it.

use crate::memory::Charges;
use crate::options::{MAXIMUM_SACK_BLOCKS, SackBlock};
use crate::ring::Ring;
use crate::sequence::Sequence;

/// Out-of-order ranges kept at most.
pub const MAXIMUM_RANGES: usize = 8;

#[derive(Clone, Copy, Debug, Default)]
struct Range {
    start: Sequence,
    end: Sequence,
    /// Larger is more recent: SACK reports the newest range first.
    stamp: u32,
}

/// What one [`ReceiveBuffer::insert`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Insertion {
    /// Bytes that became readable.
    pub readable: usize,
    /// Bytes stored out of order.
    pub out_of_order: usize,
    /// Bytes that were already held (or before `next`).
    pub duplicate: usize,
    /// The FIN was consumed by this insertion.
    pub fin: bool,
    /// Data was dropped for lack of a range slot or window.
    pub dropped: bool,
}

/// Received data of one connection.
#[derive(Debug)]
pub struct ReceiveBuffer {
    ring: Ring,
    next: Sequence,
    ranges: [Range; MAXIMUM_RANGES],
    count: usize,
    stamp: u32,
    fin: Option<Sequence>,
    fin_received: bool,
}

impl ReceiveBuffer {
    /// An empty buffer of at most `limit` bytes expecting `next`.
    pub const fn new(limit: usize, next: Sequence) -> Self {
        Self {
            ring: Ring::new(limit),
            next,
            ranges: [Range {
                start: Sequence(0),
                end: Sequence(0),
                stamp: 0,
            }; MAXIMUM_RANGES],
            count: 0,
            stamp: 0,
            fin: None,
            fin_received: false,
        }
    }

    /// RCV.NXT: the next sequence number expected.
    pub const fn next(&self) -> Sequence {
        self.next
    }

    /// Restarts at `next` (when the peer's SYN arrives); keeps the limit
    /// and whatever storage the ring has.
    pub fn synchronize(&mut self, next: Sequence) {
        let ring = core::mem::take(&mut self.ring);
        *self = Self::new(ring.limit(), next);
        self.ring = ring;
        self.ring.clear();
    }

    /// Readable bytes.
    pub const fn readable(&self) -> usize {
        self.ring.len()
    }

    /// Room after `next`: the window this buffer can offer.
    pub fn window(&self) -> usize {
        if self.fin_received {
            0
        } else {
            self.ring.free()
        }
    }

    /// The buffer size limit.
    pub const fn limit(&self) -> usize {
        self.ring.limit()
    }

    /// Changes the buffer size limit (never below what is held).
    pub fn set_limit(&mut self, limit: usize) {
        self.ring.set_limit(limit);
    }

    /// The peer's FIN has been consumed.
    pub const fn fin_received(&self) -> bool {
        self.fin_received
    }

    /// Out-of-order data is held (there is a hole at `next`).
    pub const fn has_holes(&self) -> bool {
        self.count > 0
    }

    /// Frees the storage if nothing is held.
    pub fn release(&mut self, charges: &mut Charges) {
        if self.count == 0 {
            self.ring.release(charges);
        }
    }

    /// Bytes of ring storage allocated.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Copies readable bytes out; returns how many.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        self.ring.pop(out)
    }

    /// Copies readable bytes out and leaves them readable (MSG_PEEK).
    pub fn peek(&self, out: &mut [u8]) -> usize {
        self.ring.read_at(0, out)
    }

    /// Drops every readable byte; returns how many there were.
    pub fn discard(&mut self) -> usize {
        let count = self.ring.len();
        self.ring.consume(count);
        count
    }

    /// Takes a segment's payload starting at `sequence`, and its FIN. Data
    /// whose memory is refused is dropped (`dropped`), as if outside the
    /// window.
    pub fn insert(
        &mut self,
        sequence: Sequence,
        data: &[u8],
        fin: bool,
        charges: &mut Charges,
    ) -> Insertion {
        let mut insertion = Insertion::default();
        let end = sequence.add(data.len() as u32);
        let (start, kept) = self.clip(sequence, data, &mut insertion);
        let kept_end = start.add(kept.len() as u32);
        if fin && kept_end == end && end.after_or_at(self.next) {
            self.note_fin(end, &mut insertion);
        }
        if !kept.is_empty() {
            self.place(start, kept, &mut insertion, charges);
        }
        if self.fin == Some(self.next) && !self.fin_received {
            self.fin_received = true;
            self.next = self.next.add(1);
            insertion.fin = true;
        }
        insertion
    }

    /// Trims `data` to what is new and fits the window and the FIN.
    fn clip<'a>(
        &self,
        sequence: Sequence,
        data: &'a [u8],
        insertion: &mut Insertion,
    ) -> (Sequence, &'a [u8]) {
        let mut start = sequence;
        let mut data = data;
        if start.before(self.next) {
            let skip = (self.next.since(start) as usize).min(data.len());
            insertion.duplicate += skip;
            data = data.get(skip..).unwrap_or_default();
            start = self.next;
        }
        let mut room = self.window();
        if let Some(fin) = self.fin {
            room = room.min(fin.saturating_since(self.next) as usize);
        }
        let offset = start.since(self.next) as usize;
        let fits = room.saturating_sub(offset).min(data.len());
        if fits < data.len() {
            insertion.dropped = true;
        }
        (start, data.get(..fits).unwrap_or_default())
    }

    fn note_fin(&mut self, at: Sequence, insertion: &mut Insertion) {
        match self.fin {
            None if self.fin_within_window(at) => self.fin = Some(at),
            None => insertion.dropped = true,
            Some(_) => {}
        }
    }

    fn fin_within_window(&self, at: Sequence) -> bool {
        let offset = at.since(self.next) as usize;
        offset <= self.window() && self.ranges().all(|range| range.end.before_or_at(at))
    }

    fn place(
        &mut self,
        start: Sequence,
        data: &[u8],
        insertion: &mut Insertion,
        charges: &mut Charges,
    ) {
        let offset = self.ring.len() + start.since(self.next) as usize;
        if start == self.next {
            if self.ring.write_at(offset, data, charges) {
                self.ring.commit(data.len());
                self.next = self.next.add(data.len() as u32);
                insertion.readable += data.len();
                insertion.readable += self.absorb_ranges();
            } else {
                insertion.dropped = true;
            }
            return;
        }
        let end = start.add(data.len() as u32);
        // Room first: a range must never be recorded for bytes not stored.
        if self.ring.make_room(offset + data.len(), charges)
            && self.add_range(start, end)
            && self.ring.write_at(offset, data, charges)
        {
            insertion.out_of_order += data.len();
        } else {
            insertion.dropped = true;
        }
    }

    /// Commits every range that `next` now reaches; returns the bytes.
    fn absorb_ranges(&mut self) -> usize {
        let mut absorbed = 0;
        let mut index = 0;
        while index < self.count {
            let range = self.ranges[index];
            if range.start.after(self.next) {
                index += 1;
                continue;
            }
            let gained = range.end.saturating_since(self.next) as usize;
            self.ring.commit(gained);
            self.next = self.next.add(gained as u32);
            absorbed += gained;
            self.remove_range(index);
            index = 0;
        }
        absorbed
    }

    /// Records `[start, end)`, merging with ranges it touches; false when a
    /// new range is needed and all slots are taken.
    fn add_range(&mut self, start: Sequence, end: Sequence) -> bool {
        self.stamp = self.stamp.wrapping_add(1);
        let mut merged = Range {
            start,
            end,
            stamp: self.stamp,
        };
        let mut index = 0;
        while index < self.count {
            let range = self.ranges[index];
            if range.start.after(merged.end) || range.end.before(merged.start) {
                index += 1;
                continue;
            }
            merged.start = merged.start.earliest(range.start);
            merged.end = merged.end.latest(range.end);
            self.remove_range(index);
        }
        if self.count == MAXIMUM_RANGES {
            return false;
        }
        self.ranges[self.count] = merged;
        self.count += 1;
        true
    }

    fn remove_range(&mut self, index: usize) {
        self.count -= 1;
        self.ranges[index] = self.ranges[self.count];
    }

    fn ranges(&self) -> impl Iterator<Item = &Range> {
        self.ranges.iter().take(self.count)
    }

    /// SACK blocks for an ACK, most recently changed first (RFC 2018 4):
    /// fills at most `limit` of `out`; returns how many.
    pub fn sack_blocks(&self, out: &mut [SackBlock; MAXIMUM_SACK_BLOCKS], limit: usize) -> usize {
        let mut order: [Range; MAXIMUM_RANGES] = self.ranges;
        let ranges = &mut order[..self.count];
        ranges.sort_unstable_by_key(|range| core::cmp::Reverse(range.stamp));
        let count = ranges.len().min(limit).min(MAXIMUM_SACK_BLOCKS);
        for (slot, range) in out.iter_mut().zip(ranges.iter()).take(count) {
            *slot = SackBlock {
                start: range.start,
                end: range.end,
            };
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(buffer: &mut ReceiveBuffer) -> std::vec::Vec<u8> {
        let mut out = std::vec![0u8; buffer.readable()];
        let count = buffer.read(&mut out);
        out.truncate(count);
        out
    }

    #[test]
    fn in_order_data_is_readable_at_once() {
        let mut buffer = ReceiveBuffer::new(1000, Sequence(10));
        let insertion = buffer.insert(Sequence(10), b"hello", false, &mut Charges::default());
        assert_eq!(insertion.readable, 5);
        assert_eq!(buffer.next(), Sequence(15));
        assert_eq!(buffer.window(), 995);
        assert_eq!(read_all(&mut buffer), b"hello");
        assert_eq!(buffer.window(), 1000);
    }

    #[test]
    fn holes_fill_in_any_order_and_fin_waits_for_them() {
        let start = Sequence(u32::MAX - 3);
        let mut buffer = ReceiveBuffer::new(1000, start);
        let third = buffer.insert(start.add(8), b"ijkl", true, &mut Charges::default());
        assert_eq!(third.out_of_order, 4);
        assert!(!third.fin);
        buffer.insert(start.add(4), b"efgh", false, &mut Charges::default());
        let mut blocks = [SackBlock::default(); MAXIMUM_SACK_BLOCKS];
        assert_eq!(buffer.sack_blocks(&mut blocks, 3), 1);
        assert_eq!(blocks[0].start, start.add(4));
        assert_eq!(blocks[0].end, start.add(12));
        let first = buffer.insert(start, b"abcd", false, &mut Charges::default());
        assert_eq!(first.readable, 12);
        assert!(first.fin);
        assert!(buffer.fin_received());
        assert_eq!(buffer.next(), start.add(13));
        assert_eq!(read_all(&mut buffer), b"abcdefghijkl");
        assert!(!buffer.has_holes());
    }

    #[test]
    fn duplicates_and_overlaps_are_trimmed() {
        let mut buffer = ReceiveBuffer::new(1000, Sequence(0));
        buffer.insert(Sequence(0), b"abcd", false, &mut Charges::default());
        let again = buffer.insert(Sequence(2), b"cdef", false, &mut Charges::default());
        assert_eq!(again.duplicate, 2);
        assert_eq!(again.readable, 2);
        assert_eq!(read_all(&mut buffer), b"abcdef");
    }

    #[test]
    fn nothing_outside_the_window_is_kept() {
        let mut buffer = ReceiveBuffer::new(8, Sequence(0));
        let far = buffer.insert(Sequence(6), b"ghijkl", false, &mut Charges::default());
        assert_eq!(far.out_of_order, 2);
        assert!(far.dropped);
        let beyond = buffer.insert(Sequence(100), b"x", false, &mut Charges::default());
        assert_eq!(beyond.out_of_order, 0);
        buffer.insert(Sequence(0), b"abcdef", false, &mut Charges::default());
        assert_eq!(read_all(&mut buffer), b"abcdefgh");
    }

    #[test]
    fn range_slots_are_bounded_and_newest_sacked_first() {
        let mut buffer = ReceiveBuffer::new(10_000, Sequence(0));
        for index in 0..MAXIMUM_RANGES as u32 {
            let insertion = buffer.insert(
                Sequence(10 + index * 10),
                b"x",
                false,
                &mut Charges::default(),
            );
            assert_eq!(insertion.out_of_order, 1);
        }
        assert!(
            buffer
                .insert(Sequence(500), b"y", false, &mut Charges::default())
                .dropped
        );
        // Touching an existing range merges instead of needing a slot.
        assert!(
            !buffer
                .insert(Sequence(11), b"z", false, &mut Charges::default())
                .dropped
        );
        let mut blocks = [SackBlock::default(); MAXIMUM_SACK_BLOCKS];
        assert_eq!(buffer.sack_blocks(&mut blocks, 4), 4);
        assert_eq!(blocks[0].start, Sequence(10));
        assert_eq!(blocks[0].end, Sequence(12));
        assert_eq!(blocks[1].start, Sequence(80));
    }

    #[test]
    fn data_after_the_fin_is_refused() {
        let mut buffer = ReceiveBuffer::new(100, Sequence(0));
        let insertion = buffer.insert(Sequence(0), b"ab", true, &mut Charges::default());
        assert!(insertion.fin);
        assert_eq!(buffer.window(), 0);
        let late = buffer.insert(Sequence(3), b"cd", false, &mut Charges::default());
        assert_eq!(late.readable + late.out_of_order, 0);
        assert_eq!(read_all(&mut buffer), b"ab");
    }
}
