//! Which of host 0's data bytes reached host 1 intact, to count spurious
//! retransmissions independently of the engine.
//!
//! A delivered data segment is spurious when every byte of it had already
//! arrived intact (a network duplicate of the same transmission does not
//! count). Offsets are taken from the first SYN host 0 sends, so one
//! ledger follows one connection.

use std::collections::{BTreeMap, BTreeSet};

use crate::header::{Flags, Segment};
use crate::sequence::Sequence;

/// Intact deliveries of host 0's data.
#[derive(Debug, Default)]
pub struct Ledger {
    /// The first data byte's sequence number.
    base: Option<Sequence>,
    /// Arrived ranges [start, end) of offsets, merged.
    covered: BTreeMap<u64, u64>,
    /// Transmissions delivered at least once.
    seen: BTreeSet<u64>,
    /// Data segments that arrived carrying only bytes already there.
    pub spurious: u64,
}

impl Ledger {
    /// A segment host 0 handed to the network.
    pub fn sent(&mut self, bytes: &[u8]) {
        let Ok(segment) = Segment::parse(bytes) else {
            return;
        };
        if segment.has(Flags::SYN) && self.base.is_none() {
            self.base = Some(segment.sequence.add(1));
        }
    }

    /// A segment of transmission `transmission` reached host 1 intact.
    pub fn delivered(&mut self, transmission: u64, bytes: &[u8]) {
        if !self.seen.insert(transmission) {
            return;
        }
        let (Ok(segment), Some(base)) = (Segment::parse(bytes), self.base) else {
            return;
        };
        if segment.payload.is_empty() {
            return;
        }
        let start = u64::from(segment.sequence.since(base));
        let end = start + segment.payload.len() as u64;
        if self.covers(start, end) {
            self.spurious += 1;
        }
        self.insert(start, end);
    }

    fn covers(&self, start: u64, end: u64) -> bool {
        self.covered
            .range(..=start)
            .next_back()
            .is_some_and(|(_, &covered_end)| covered_end >= end)
    }

    fn insert(&mut self, mut start: u64, mut end: u64) {
        if let Some((&before, &before_end)) = self.covered.range(..=start).next_back()
            && before_end >= start
        {
            start = before;
            end = end.max(before_end);
        }
        let overlapping: std::vec::Vec<u64> = self
            .covered
            .range(start..=end)
            .map(|(&key, _)| key)
            .collect();
        for key in overlapping {
            if let Some(other_end) = self.covered.remove(&key) {
                end = end.max(other_end);
            }
        }
        self.covered.insert(start, end);
    }
}
