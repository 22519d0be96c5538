//! The sender's SACK scoreboard (RFC 6675): which bytes above SND.UNA the
//! receiver reports holding.
//!
//! Blocks are kept disjoint and sorted by start, at most
//! [`MAXIMUM_BLOCKS`]; when a new block does not fit, the lowest one is
//! forgotten, which only costs a needless retransmission. Every block lies
//! in `[SND.UNA, SND.MAX]`: blocks outside (D-SACK, stale or forged) are
//! ignored. The scoreboard answers the RFC 6675 questions: IsLost, NextSeg
//! (the first hole to retransmit) and the `pipe` estimate.

use crate::options::SackBlock;
use crate::sequence::Sequence;

/// Blocks remembered at most.
pub const MAXIMUM_BLOCKS: usize = 8;

/// RFC 6675 DupThresh.
pub const DUPLICATE_THRESHOLD: u32 = 3;

/// SACKed ranges above SND.UNA.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scoreboard {
    blocks: [SackBlock; MAXIMUM_BLOCKS],
    count: usize,
}

impl Scoreboard {
    /// Forgets everything (after a retransmission timeout).
    pub fn clear(&mut self) {
        self.count = 0;
    }

    /// True when no block is held.
    #[cfg(test)]
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn blocks(&self) -> &[SackBlock] {
        self.blocks.get(..self.count).unwrap_or_default()
    }

    /// Adds the blocks of one ACK; returns true when they added SACKed bytes.
    pub fn update(
        &mut self,
        blocks: &[SackBlock],
        unacknowledged: Sequence,
        maximum: Sequence,
    ) -> bool {
        let before = self.sacked_bytes();
        for block in blocks {
            let valid = block.start.before(block.end)
                && block.start.after_or_at(unacknowledged)
                && block.end.before_or_at(maximum);
            if valid {
                self.insert(*block);
            }
        }
        self.sacked_bytes() > before
    }

    fn insert(&mut self, mut block: SackBlock) {
        let mut index = 0;
        while index < self.count {
            let other = self.blocks[index];
            if other.start.after(block.end) || other.end.before(block.start) {
                index += 1;
                continue;
            }
            block.start = block.start.earliest(other.start);
            block.end = block.end.latest(other.end);
            self.remove(index);
        }
        if self.count == MAXIMUM_BLOCKS {
            self.remove(0);
        }
        let position = self
            .blocks()
            .iter()
            .position(|other| other.start.after(block.start));
        let position = position.unwrap_or(self.count);
        self.blocks.copy_within(position..self.count, position + 1);
        self.blocks[position] = block;
        self.count += 1;
    }

    fn remove(&mut self, index: usize) {
        self.blocks.copy_within(index + 1..self.count, index);
        self.count -= 1;
    }

    /// Drops what a cumulative ACK up to `unacknowledged` covers.
    pub fn acknowledge(&mut self, unacknowledged: Sequence) {
        while let Some(first) = self.blocks().first() {
            if first.end.after(unacknowledged) {
                break;
            }
            self.remove(0);
        }
        if let Some(first) = self
            .blocks
            .get_mut(..self.count)
            .and_then(|blocks| blocks.first_mut())
        {
            first.start = first.start.latest(unacknowledged);
        }
    }

    /// Total SACKed bytes.
    pub fn sacked_bytes(&self) -> u32 {
        self.blocks()
            .iter()
            .map(|block| block.end.since(block.start))
            .sum()
    }

    /// SACKed bytes above `sequence`.
    pub fn sacked_above(&self, sequence: Sequence) -> u32 {
        let above = |block: &SackBlock| block.end.saturating_since(block.start.latest(sequence));
        self.blocks().iter().map(above).sum()
    }

    /// The end of the highest SACKed block.
    pub fn highest(&self) -> Option<Sequence> {
        self.blocks().last().map(|block| block.end)
    }

    /// RFC 6675 IsLost: enough SACKed bytes or blocks lie above `sequence`.
    pub fn is_lost(&self, sequence: Sequence, segment_size: u32) -> bool {
        let blocks_above = self
            .blocks()
            .iter()
            .filter(|block| block.end.after(sequence))
            .count();
        blocks_above >= DUPLICATE_THRESHOLD as usize
            || self.sacked_above(sequence) > (DUPLICATE_THRESHOLD - 1) * segment_size
    }

    /// The first hole `[start, end)` at or after `from` below the highest
    /// SACKed byte.
    pub fn next_hole(&self, from: Sequence) -> Option<(Sequence, Sequence)> {
        let mut cursor = from;
        for block in self.blocks() {
            if cursor.before(block.start) {
                return Some((cursor, block.start));
            }
            cursor = cursor.latest(block.end);
        }
        None
    }

    /// RFC 6675 `pipe`: bytes in flight between `unacknowledged` and `next`,
    /// counting lost holes only where retransmitted (below `retransmitted`).
    pub fn pipe(
        &self,
        unacknowledged: Sequence,
        next: Sequence,
        retransmitted: Sequence,
        segment_size: u32,
    ) -> u32 {
        let Some(highest) = self.highest() else {
            return next.saturating_since(unacknowledged);
        };
        let mut pipe = next.saturating_since(highest);
        let mut cursor = unacknowledged;
        while let Some((start, end)) = self.next_hole(cursor) {
            pipe += if self.is_lost(start, segment_size) {
                end.earliest(retransmitted).saturating_since(start)
            } else {
                end.since(start)
            };
            cursor = end;
        }
        pipe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(start: u32, end: u32) -> SackBlock {
        SackBlock {
            start: Sequence(start),
            end: Sequence(end),
        }
    }

    #[test]
    fn blocks_merge_sort_and_are_validated() {
        let mut board = Scoreboard::default();
        let una = Sequence(1000);
        let max = Sequence(9000);
        assert!(board.update(&[block(5000, 6000), block(2000, 3000)], una, max));
        assert!(board.update(&[block(3000, 4000)], una, max));
        assert!(!board.update(
            &[block(500, 1500), block(8000, 9500), block(7, 3)],
            una,
            max
        ));
        assert_eq!(board.sacked_bytes(), 3000);
        assert_eq!(board.next_hole(una), Some((Sequence(1000), Sequence(2000))));
        assert_eq!(
            board.next_hole(Sequence(2000)),
            Some((Sequence(4000), Sequence(5000)))
        );
        assert_eq!(
            board.next_hole(Sequence(4500)),
            Some((Sequence(4500), Sequence(5000)))
        );
        assert_eq!(board.next_hole(Sequence(5000)), None);
        assert_eq!(board.highest(), Some(Sequence(6000)));
    }

    #[test]
    fn loss_needs_three_segments_above() {
        let mut board = Scoreboard::default();
        board.update(&[block(200, 300)], Sequence(0), Sequence(1000));
        assert!(!board.is_lost(Sequence(0), 100));
        board.update(&[block(400, 501)], Sequence(0), Sequence(1000));
        assert!(board.is_lost(Sequence(0), 100));
        assert!(!board.is_lost(Sequence(300), 100));
    }

    #[test]
    fn pipe_counts_unsacked_not_lost_and_retransmitted() {
        let mut board = Scoreboard::default();
        // Segments of 100: 0 lost, 100..400 SACKed, 400..500 in flight.
        board.update(&[block(100, 400)], Sequence(0), Sequence(500));
        let before = board.pipe(Sequence(0), Sequence(500), Sequence(0), 100);
        assert_eq!(before, 100);
        let after = board.pipe(Sequence(0), Sequence(500), Sequence(100), 100);
        assert_eq!(after, 200);
    }

    #[test]
    fn acknowledgment_prunes_and_overflow_forgets_the_lowest() {
        let mut board = Scoreboard::default();
        for index in 0..=MAXIMUM_BLOCKS as u32 {
            board.update(
                &[block(100 + index * 100, 150 + index * 100)],
                Sequence(0),
                Sequence(5000),
            );
        }
        assert_eq!(board.count, MAXIMUM_BLOCKS);
        assert_eq!(
            board.next_hole(Sequence(0)),
            Some((Sequence(0), Sequence(200)))
        );
        board.acknowledge(Sequence(420));
        assert_eq!(
            board.next_hole(Sequence(420)),
            Some((Sequence(450), Sequence(500)))
        );
        board.acknowledge(Sequence(5000));
        assert!(board.is_empty());
    }
}
