//! The segments in flight: one record per segment sent and not yet
//! cumulatively acknowledged. It is the sender's SACK scoreboard (RFC
//! 6675) and holds the send times RACK needs (RFC 8985).
//!
//! Records are in sequence order, disjoint and contiguous from SND.UNA to
//! SND.MAX, in a per-connection ring that grows to the largest flight once;
//! nothing is allocated per segment after that. Each record is in flight,
//! lost (waiting for its retransmission) or SACKed. The counters `pipe`
//! (bytes in flight, RFC 6675's estimate), `sacked` and `lost` follow every
//! change of mark, so reading them costs nothing. No record before
//! `first_lost` is lost.

use alloc::collections::VecDeque;

use crate::memory::Charges;
use crate::options::SackBlock;
use crate::sequence::Sequence;

/// What the sender knows about one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Sent (or retransmitted) and presumed in the network.
    InFlight,
    /// Deemed lost and not retransmitted since.
    Lost,
    /// The receiver reported holding it.
    Sacked,
}

/// One segment as sent: `[start, end)` (a FIN counts as one octet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// First sequence number.
    pub start: Sequence,
    /// One past the last sequence number.
    pub end: Sequence,
    /// When it was last (re)transmitted.
    pub sent_ns: u64,
    /// The connection's transmission count then: orders transmissions
    /// made at the same `sent_ns`.
    pub order: u64,
    /// Its mark.
    pub mark: Mark,
    /// It was retransmitted at least once.
    pub retransmitted: bool,
}

impl Sent {
    /// Sequence space it covers.
    pub const fn length(&self) -> u32 {
        self.end.since(self.start)
    }
}

/// The records of one connection.
#[derive(Debug, Default)]
pub struct Flight {
    segments: VecDeque<Sent>,
    pipe: u32,
    sacked: u32,
    lost: usize,
    first_lost: usize,
    transmissions: u64,
    /// The latest retransmissions, to tell a D-SACK of a needless
    /// retransmission from one of a duplicate the network made.
    recent: [(Sequence, Sequence); RECENT_RETRANSMISSIONS],
    recent_next: usize,
}

/// Records a flight ring starts with.
const MINIMUM_RECORDS: usize = 8;

/// Retransmissions remembered for D-SACK matching.
const RECENT_RETRANSMISSIONS: usize = 16;

impl Flight {
    /// Bytes in flight: neither SACKed nor lost (RFC 6675 `pipe`).
    pub const fn pipe(&self) -> u32 {
        self.pipe
    }

    /// SACKed bytes.
    pub const fn sacked_bytes(&self) -> u32 {
        self.sacked
    }

    /// Records waiting for a retransmission.
    pub const fn lost_count(&self) -> usize {
        self.lost
    }

    /// The record at `index` (0 starts at SND.UNA).
    pub fn get(&self, index: usize) -> Option<&Sent> {
        self.segments.get(index)
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Bytes allocated (and charged) for records.
    pub fn capacity(&self) -> usize {
        self.segments.capacity() * core::mem::size_of::<Sent>()
    }

    /// Makes room for `count` more records without allocating in
    /// [`Flight::push`], charging the growth; false when refused (the
    /// sender then holds new data back).
    pub fn make_room(&mut self, count: usize, charges: &mut Charges) -> bool {
        let capacity = self.segments.capacity();
        let needed = self.segments.len() + count;
        if needed <= capacity {
            return true;
        }
        let wanted = (capacity * 2).max(MINIMUM_RECORDS).max(needed);
        let record = core::mem::size_of::<Sent>();
        if !charges.charge((wanted - capacity) * record) {
            return false;
        }
        // Exact (the invariant check holds charged bytes to `capacity()`)
        // and fallible: a heap that runs out first is a refusal too.
        let reserved = self
            .segments
            .try_reserve_exact(wanted - self.segments.len());
        if reserved.is_err() {
            charges.release((wanted - capacity) * record);
        }
        reserved.is_ok()
    }

    /// Frees the ring (a connection that will send no more, or whose
    /// records are all acknowledged while it idles).
    pub fn release(&mut self, charges: &mut Charges) {
        charges.release(self.capacity());
        self.segments = VecDeque::new();
        self.pipe = 0;
        self.sacked = 0;
        self.lost = 0;
        self.first_lost = 0;
    }

    /// Records a new segment `[start, end)` sent at `now`, after
    /// [`Flight::make_room`] said yes.
    pub fn push(&mut self, start: Sequence, end: Sequence, now: u64) {
        self.transmissions += 1;
        let sent = Sent {
            start,
            end,
            sent_ns: now,
            order: self.transmissions,
            mark: Mark::InFlight,
            retransmitted: false,
        };
        self.pipe = self.pipe.saturating_add(sent.length());
        self.segments.push_back(sent);
    }

    /// Adds `sent` to the counters of its mark, or takes it away.
    fn count(&mut self, sent: &Sent, add: bool) {
        let length = sent.length();
        let apply = |counter: u32| {
            if add {
                counter.saturating_add(length)
            } else {
                counter.saturating_sub(length)
            }
        };
        match sent.mark {
            Mark::InFlight => self.pipe = apply(self.pipe),
            Mark::Sacked => self.sacked = apply(self.sacked),
            Mark::Lost if add => self.lost += 1,
            Mark::Lost => self.lost = self.lost.saturating_sub(1),
        }
    }

    /// Changes the mark of record `index`, keeping the counters.
    fn set_mark(&mut self, index: usize, mark: Mark) {
        let Some(sent) = self.segments.get(index).copied() else {
            return;
        };
        self.count(&sent, false);
        let changed = Sent { mark, ..sent };
        self.count(&changed, true);
        self.segments[index] = changed;
        if mark == Mark::Lost {
            self.first_lost = self.first_lost.min(index);
        }
    }

    /// Drops what a cumulative ACK up to `ack` covers, calling `delivered`
    /// for each record it newly delivers (not SACKed before).
    pub fn acknowledge(&mut self, ack: Sequence, mut delivered: impl FnMut(&Sent)) {
        while let Some(front) = self.segments.front().copied() {
            if front.end.after(ack) {
                if front.start.before(ack) {
                    self.trim_front(ack);
                }
                return;
            }
            self.segments.pop_front();
            self.count(&front, false);
            self.first_lost = self.first_lost.saturating_sub(1);
            if front.mark != Mark::Sacked {
                delivered(&front);
            }
        }
    }

    fn trim_front(&mut self, ack: Sequence) {
        let Some(front) = self.segments.front().copied() else {
            return;
        };
        self.count(&front, false);
        let trimmed = Sent {
            start: ack,
            ..front
        };
        self.count(&trimmed, true);
        self.segments[0] = trimmed;
    }

    /// Marks the records `block` covers whole as SACKed, calling `delivered`
    /// for each newly SACKed one; returns how many were.
    pub fn sack(&mut self, block: &SackBlock, mut delivered: impl FnMut(&Sent)) -> usize {
        let mut index = self
            .segments
            .partition_point(|sent| sent.end.before_or_at(block.start));
        let mut newly = 0;
        while let Some(sent) = self.segments.get(index).copied() {
            if sent.end.after(block.end) {
                break;
            }
            if sent.start.after_or_at(block.start) && sent.mark != Mark::Sacked {
                self.set_mark(index, Mark::Sacked);
                delivered(&sent);
                newly += 1;
            }
            index += 1;
        }
        newly
    }

    /// Marks record `index` lost unless it is SACKed or already lost.
    pub fn mark_lost(&mut self, index: usize) -> bool {
        let in_flight = self
            .segments
            .get(index)
            .is_some_and(|sent| sent.mark == Mark::InFlight);
        if in_flight {
            self.set_mark(index, Mark::Lost);
        }
        in_flight
    }

    /// Marks every record lost; SACKed ones too unless `keep_sacked`.
    pub fn mark_all_lost(&mut self, keep_sacked: bool) {
        for index in 0..self.segments.len() {
            let sacked = self.segments[index].mark == Mark::Sacked;
            if !(sacked && keep_sacked) {
                self.set_mark(index, Mark::Lost);
            }
        }
    }

    /// Puts every lost record back in flight (a loss found spurious).
    pub fn unmark_lost(&mut self) {
        for index in self.first_lost..self.segments.len() {
            if self.segments[index].mark == Mark::Lost {
                self.set_mark(index, Mark::InFlight);
            }
        }
        self.first_lost = self.segments.len();
    }

    /// The first lost record's index.
    pub fn first_lost(&mut self) -> Option<usize> {
        if self.lost == 0 {
            self.first_lost = self.segments.len();
            return None;
        }
        let offset = self
            .segments
            .range(self.first_lost..)
            .position(|sent| sent.mark == Mark::Lost)?;
        self.first_lost += offset;
        Some(self.first_lost)
    }

    /// Record `index` was sent again at `now`: it is in flight again.
    pub fn retransmitted(&mut self, index: usize, now: u64) {
        if self
            .segments
            .get(index)
            .is_none_or(|sent| sent.mark == Mark::Sacked)
        {
            return;
        }
        self.set_mark(index, Mark::InFlight);
        self.transmissions += 1;
        self.remember(index);
        if let Some(sent) = self.segments.get_mut(index) {
            sent.sent_ns = now;
            sent.order = self.transmissions;
            sent.retransmitted = true;
        }
    }

    fn remember(&mut self, index: usize) {
        let Some(sent) = self.segments.get(index) else {
            return;
        };
        self.recent[self.recent_next] = (sent.start, sent.end);
        self.recent_next = (self.recent_next + 1) % RECENT_RETRANSMISSIONS;
    }

    /// `block` lies within one of the latest retransmissions.
    pub fn retransmitted_recently(&self, block: &SackBlock) -> bool {
        self.recent.iter().any(|&(start, end)| {
            start.before(end) && block.start.after_or_at(start) && block.end.before_or_at(end)
        })
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

    /// Five records of 100 from `u32::MAX - 199` (wrapping), sent 1 ns apart.
    fn five() -> Flight {
        let mut flight = Flight::default();
        let start = Sequence(u32::MAX - 199);
        for index in 0..5 {
            let from = start.add(index * 100);
            flight.push(from, from.add(100), u64::from(index));
        }
        flight
    }

    #[test]
    fn sack_loss_and_retransmission_keep_pipe() {
        let mut flight = five();
        assert_eq!(flight.pipe(), 500);
        let base = Sequence(u32::MAX - 199);
        let mut delivered = 0;
        let sacked = flight.sack(&block(base.add(150).0, base.add(400).0), |_| delivered += 1);
        // Only records wholly inside the block: 200..300 and 300..400.
        assert_eq!((sacked, delivered), (2, 2));
        assert_eq!((flight.pipe(), flight.sacked_bytes()), (300, 200));
        assert!(flight.mark_lost(0) && !flight.mark_lost(2));
        assert_eq!((flight.pipe(), flight.lost_count()), (200, 1));
        assert_eq!(flight.first_lost(), Some(0));
        flight.retransmitted(0, 9);
        assert_eq!((flight.pipe(), flight.lost_count()), (300, 0));
        assert!(
            flight
                .get(0)
                .is_some_and(|sent| sent.retransmitted && sent.sent_ns == 9)
        );
        assert!(flight.retransmitted_recently(&block(base.0, base.add(100).0)));
        assert!(!flight.retransmitted_recently(&block(base.add(100).0, base.add(200).0)));
    }

    #[test]
    fn cumulative_ack_pops_trims_and_reports_unsacked_only() {
        let mut flight = five();
        let base = Sequence(u32::MAX - 199);
        flight.sack(&block(base.add(100).0, base.add(200).0), |_| {});
        let mut delivered = std::vec::Vec::new();
        flight.acknowledge(base.add(250), |sent| delivered.push(sent.start));
        assert_eq!(delivered, [base]);
        assert_eq!(flight.len(), 3);
        assert_eq!(flight.get(0).map(|sent| sent.start), Some(base.add(250)));
        assert_eq!((flight.pipe(), flight.sacked_bytes()), (250, 0));
    }

    #[test]
    fn timeout_marks_and_undo_restores() {
        let mut flight = five();
        let base = Sequence(u32::MAX - 199);
        flight.sack(&block(base.add(400).0, base.add(500).0), |_| {});
        flight.mark_all_lost(true);
        assert_eq!(
            (flight.pipe(), flight.lost_count(), flight.sacked_bytes()),
            (0, 4, 100)
        );
        flight.unmark_lost();
        assert_eq!((flight.pipe(), flight.lost_count()), (400, 0));
        flight.mark_all_lost(false);
        assert_eq!((flight.lost_count(), flight.sacked_bytes()), (5, 0));
    }
}
