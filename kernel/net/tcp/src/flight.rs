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
}

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

    /// The highest record.
    pub fn last(&self) -> Option<&Sent> {
        self.segments.back()
    }

    /// Records held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Frees the ring (a connection that will send no more).
    pub fn release(&mut self) {
        *self = Self::default();
    }

    /// Records a new segment `[start, end)` sent at `now`.
    pub fn push(&mut self, start: Sequence, end: Sequence, now: u64) {
        let sent = Sent {
            start,
            end,
            sent_ns: now,
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
        let trimmed = Sent { start: ack, ..front };
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
        if self.segments.get(index).is_none_or(|sent| sent.mark == Mark::Sacked) {
            return;
        }
        self.set_mark(index, Mark::InFlight);
        if let Some(sent) = self.segments.get_mut(index) {
            sent.sent_ns = now;
            sent.retransmitted = true;
        }
    }
}
