//! The timer index: every socket's earliest deadline in a min-heap, so the
//! next deadline costs O(1) and a timer run visits only expired sockets.
//!
//! Each mutable access to a socket ([`Table::at`], [`Table::get_mut`],
//! [`Table::free`]) lists its slot as touched; [`Table::reindex`], which
//! the engine runs at the end of every public call, re-reads the touched
//! sockets' timers. That one funnel covers every path that can change a
//! timer (input, socket calls, timers firing, listener children, close,
//! TIME-WAIT, slot reuse) without each of them having to say so.
//!
//! A slot remembers the deadline it is indexed under (`Slot::indexed`). A
//! heap entry `(deadline, index)` is current while that slot's `indexed`
//! equals its deadline; others are stale and deleted lazily: dropped when
//! they reach the top, so the top is always current, and all at once when
//! the heap holds more than twice the timed slots plus [`SLACK`]. The heap
//! vector therefore stops growing at that bound: no allocation per segment
//! once it has grown (a `BTreeSet` would allocate and free nodes as
//! entries come and go).

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;

use super::Table;

/// Stale entries tolerated beyond twice the current ones.
const SLACK: usize = 64;

/// `(deadline, slot index)`, smallest deadline on top.
type Entry = Reverse<(u64, u32)>;

/// The index itself (the per-slot half lives in `Slot`).
#[derive(Debug, Default)]
pub struct Deadlines {
    heap: BinaryHeap<Entry>,
    /// Slots whose `touched` flag is set.
    touched: Vec<u32>,
    /// Slots whose `indexed` is set.
    timed: usize,
    /// Scratch for [`Table::take_due`], kept to reuse its memory.
    due: Vec<u32>,
}

impl Deadlines {
    /// The list of touched slots, to append to.
    pub(super) fn touched(&mut self) -> &mut Vec<u32> {
        &mut self.touched
    }
}

impl Table {
    /// Brings the index up to date with every touched socket's timers.
    pub fn reindex(&mut self) {
        while let Some(index) = self.deadlines.touched.pop() {
            self.reindex_slot(index);
        }
        self.prune();
    }

    fn reindex_slot(&mut self, index: u32) {
        self.visit();
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return;
        };
        slot.touched = false;
        let earliest = slot.tcb.as_ref().and_then(|tcb| tcb.timers.earliest());
        if earliest == slot.indexed {
            return;
        }
        let deadlines = &mut self.deadlines;
        match (slot.indexed, earliest) {
            (None, Some(_)) => deadlines.timed += 1,
            (Some(_), None) => deadlines.timed -= 1,
            _ => {}
        }
        slot.indexed = earliest;
        if let Some(deadline) = earliest {
            deadlines.heap.push(Reverse((deadline, index)));
        }
    }

    /// The entry still stands for its slot's earliest deadline.
    fn current(&self, Reverse((deadline, index)): Entry) -> bool {
        self.visit();
        let slot = self.slots.get(index as usize);
        slot.is_some_and(|slot| slot.indexed == Some(deadline))
    }

    /// Drops stale entries from the top, and compacts when they abound.
    fn prune(&mut self) {
        while let Some(&top) = self.deadlines.heap.peek()
            && !self.current(top)
        {
            self.deadlines.heap.pop();
        }
        if self.deadlines.heap.len() > 2 * self.deadlines.timed + SLACK {
            self.compact();
        }
    }

    /// Keeps only current entries, each once (a slot may have gone from
    /// deadline `a` to `b` and back, leaving `a` twice). Amortised over
    /// the more than `timed + SLACK` pushes since the last compaction.
    fn compact(&mut self) {
        let mut entries = core::mem::take(&mut self.deadlines.heap).into_vec();
        entries.retain(|&entry| self.current(entry));
        entries.sort_unstable();
        entries.dedup();
        self.deadlines.heap = BinaryHeap::from(entries);
    }

    /// The earliest deadline of any socket (valid after [`Table::reindex`]).
    pub fn next_socket_deadline(&self) -> Option<u64> {
        let Reverse((deadline, _)) = self.deadlines.heap.peek()?;
        Some(*deadline)
    }

    /// Takes the slots with a deadline at or before `now` out of the index,
    /// in slot order, and lists them as touched so the next reindex puts
    /// back what firing leaves armed. Give the list back with
    /// [`Table::return_due`].
    pub fn take_due(&mut self, now: u64) -> Vec<u32> {
        let mut due = core::mem::take(&mut self.deadlines.due);
        while let Some(&top) = self.deadlines.heap.peek()
            && top.0.0 <= now
        {
            self.deadlines.heap.pop();
            if !self.current(top) {
                continue;
            }
            let index = top.0.1;
            if let Some(slot) = self.slots.get_mut(index as usize) {
                slot.indexed = None;
                slot.touch(index, &mut self.deadlines.touched);
                self.deadlines.timed -= 1;
                due.push(index);
            }
        }
        due.sort_unstable();
        due
    }

    /// Keeps the memory of a list from [`Table::take_due`].
    pub fn return_due(&mut self, mut due: Vec<u32>) {
        due.clear();
        self.deadlines.due = due;
    }

    /// The index agrees with the sockets: each slot is indexed under its
    /// socket's earliest timer, with an entry in the heap, the top is the
    /// brute-force minimum, and the heap is within its bound.
    pub fn check_deadlines(&self) -> Result<(), &'static str> {
        let entries: alloc::collections::BTreeSet<(u64, u32)> =
            self.deadlines.heap.iter().map(|entry| entry.0).collect();
        let mut timed = 0;
        for (index, slot) in self.slots.iter().enumerate() {
            let earliest = slot.tcb.as_ref().and_then(|tcb| tcb.timers.earliest());
            if slot.indexed != earliest {
                return Err("timer index out of date");
            }
            if let Some(deadline) = earliest {
                timed += 1;
                if !entries.contains(&(deadline, index as u32)) {
                    return Err("timer missing from the index");
                }
            }
        }
        let minimum = self.slots.iter().filter_map(|slot| slot.indexed).min();
        if timed != self.deadlines.timed || self.next_socket_deadline() != minimum {
            return Err("next deadline is not the earliest timer");
        }
        if self.deadlines.heap.len() > 2 * timed + SLACK {
            return Err("timer index over its bound");
        }
        Ok(())
    }

    /// Slots touched and not yet re-indexed.
    pub fn unindexed(&self) -> usize {
        self.deadlines.touched.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{SLACK, Table};
    use crate::TcpConfig;
    use crate::memory::Charges;

    fn table(sockets: usize) -> Table {
        let mut table = Table::default();
        for _ in 0..sockets {
            let charges = &mut Charges::default();
            table
                .allocate(&TcpConfig::default(), 16, charges)
                .expect("room");
        }
        table
    }

    fn arm(table: &mut Table, index: u32, deadline: Option<u64>) {
        table.at(index).expect("a socket").timers.retransmit = deadline;
        table.reindex();
        assert_eq!(table.check_deadlines(), Ok(()));
    }

    #[test]
    fn the_next_deadline_follows_every_change() {
        let mut table = table(3);
        assert_eq!(table.next_deadline(), None);
        arm(&mut table, 0, Some(300));
        arm(&mut table, 1, Some(100));
        arm(&mut table, 2, Some(200));
        assert_eq!(table.next_deadline(), Some(100));
        arm(&mut table, 1, Some(400));
        assert_eq!(table.next_deadline(), Some(200));
        arm(&mut table, 2, None);
        arm(&mut table, 0, None);
        assert_eq!(table.next_deadline(), Some(400));
        arm(&mut table, 1, None);
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn a_deadline_set_back_and_forth_is_due_once() {
        let mut table = table(2);
        arm(&mut table, 0, Some(100));
        arm(&mut table, 0, Some(500));
        arm(&mut table, 0, Some(100));
        arm(&mut table, 1, Some(150));
        let due = table.take_due(120);
        assert_eq!(due, [0]);
        table.return_due(due);
        table.at(0).expect("a socket").timers.retransmit = None;
        table.reindex();
        assert_eq!(table.check_deadlines(), Ok(()));
        assert_eq!(table.next_deadline(), Some(150));
    }

    #[test]
    fn stale_entries_never_pile_up() {
        let mut table = table(2);
        arm(&mut table, 1, Some(u64::MAX));
        for deadline in 1..10_000 {
            arm(&mut table, 0, Some(1_000_000 - deadline));
        }
        assert!(table.deadlines.heap.len() <= 2 * 2 + SLACK);
        assert!(table.deadlines.heap.capacity() <= 4 * (2 * 2 + SLACK));
    }

    #[test]
    fn a_freed_and_reused_slot_leaves_the_index() {
        let mut table = table(2);
        arm(&mut table, 0, Some(100));
        arm(&mut table, 1, Some(200));
        let mut charges = Charges::default();
        assert!(charges.charge(crate::tcb::SOCKET_BYTES));
        table.free(0, &mut charges);
        assert_eq!(charges.held(), 0);
        table.reindex();
        assert_eq!(table.check_deadlines(), Ok(()));
        assert_eq!(table.next_deadline(), Some(200));
        let charges = &mut Charges::default();
        let handle = table
            .allocate(&TcpConfig::default(), 16, charges)
            .expect("room");
        assert_eq!(handle.index(), 0);
        table.reindex();
        assert_eq!(table.next_deadline(), Some(200));
        arm(&mut table, 0, Some(100));
        assert_eq!(table.next_deadline(), Some(100));
    }
}
