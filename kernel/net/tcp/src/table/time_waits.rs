//! Where TIME-WAIT records live: a queue in deadline order that is both
//! their storage and their timer, found by 4-tuple through the connection
//! map (whose entry holds the record's ticket).
//!
//! Every record enters the queue at its back with a deadline of now plus
//! the engine's fixed TIME-WAIT duration, so the queue is in deadline
//! order and expiring is popping its front: O(1) per record, however many
//! wait. A ticket numbers a queue position for good (`first` is the
//! ticket of the front), so the map entry stays valid while the queue
//! turns. A record that ends early (a reset, a SYN or a connect reusing
//! its 4-tuple) leaves an empty slot behind, and one whose timer restarts
//! (a retransmitted FIN) moves to the back, leaving one too; empty slots
//! at the front are dropped at once, and the queue is compacted (tickets
//! renumbered, map entries updated) when they outnumber the records.
//!
//! The one exception to the order: a user's TIME-WAIT socket closed later
//! becomes a record then, keeping its earlier deadline; it may wait behind
//! later deadlines, so it can outlive 2 MSL, never fall short of it.

use alloc::collections::VecDeque;

use super::{Entry, Table};
use crate::memory::Charges;
use crate::time_wait::TimeWait;

/// What each record is charged: its 40 bytes in the queue and its 20 in the
/// connection map, with room for the slack of both containers (the queue
/// doubles when it grows, B-tree nodes run a little over half full). The
/// TIME-WAIT tests measure the real figure with a counting allocator.
pub const TIME_WAIT_BYTES: usize = 96;

/// Empty slots tolerated beyond the number of records.
const SLACK: usize = 64;

/// The queue grows by half its length at a time (at least this many
/// slots), not twice over, and shrinks once a quarter of it is in use.
const MINIMUM_GROWTH: usize = 64;

/// The records, in deadline order.
#[derive(Debug, Default)]
pub struct TimeWaits {
    queue: VecDeque<Option<TimeWait>>,
    /// The ticket of `queue[0]`.
    first: u32,
    /// Records (non-empty slots) in the queue.
    live: usize,
}

impl TimeWaits {
    fn position(&self, ticket: u32) -> usize {
        ticket.wrapping_sub(self.first) as usize
    }

    fn get_mut(&mut self, ticket: u32) -> Option<&mut TimeWait> {
        let position = self.position(ticket);
        self.queue.get_mut(position)?.as_mut()
    }

    /// Empties the slot of `ticket`, returning its record.
    fn take(&mut self, ticket: u32) -> Option<TimeWait> {
        let position = self.position(ticket);
        let record = self.queue.get_mut(position)?.take()?;
        self.live -= 1;
        Some(record)
    }

    /// Makes room for one more slot without allocating in `push`; false
    /// when the heap refuses.
    fn reserve(&mut self) -> bool {
        let length = self.queue.len();
        if length < self.queue.capacity() {
            return true;
        }
        let growth = (length / 2).max(MINIMUM_GROWTH);
        self.queue.try_reserve_exact(growth).is_ok()
    }

    /// Gives memory back once the queue uses a quarter of it.
    fn shrink(&mut self) {
        let length = self.queue.len().max(MINIMUM_GROWTH);
        if self.queue.capacity() > 4 * length {
            self.queue.shrink_to(2 * length);
        }
    }

    /// Appends `record` after [`TimeWaits::reserve`] said yes.
    fn push(&mut self, record: TimeWait) -> u32 {
        let ticket = self.first.wrapping_add(self.queue.len() as u32);
        self.queue.push_back(Some(record));
        self.live += 1;
        ticket
    }

    /// Drops empty slots at the front, so the front is a record.
    fn prune(&mut self) {
        while let Some(None) = self.queue.front() {
            self.queue.pop_front();
            self.first = self.first.wrapping_add(1);
        }
    }

    /// Takes the front record if its deadline is at or before `now`.
    fn pop_due(&mut self, now: u64) -> Option<TimeWait> {
        self.prune();
        let due = self
            .queue
            .front()?
            .is_some_and(|record| record.deadline <= now);
        if !due {
            return None;
        }
        self.live -= 1;
        self.first = self.first.wrapping_add(1);
        self.queue.pop_front().flatten()
    }
}

impl Table {
    /// The TIME-WAIT record of `ticket`.
    pub fn time_wait(&mut self, ticket: u32) -> Option<&mut TimeWait> {
        self.visit();
        self.time_waits.get_mut(ticket)
    }

    /// Every TIME-WAIT record, front to back.
    pub fn time_wait_records(&self) -> impl Iterator<Item = &TimeWait> {
        self.time_waits.queue.iter().flatten()
    }

    /// TIME-WAIT records held.
    pub fn time_wait_count(&self) -> usize {
        self.time_waits.live
    }

    /// Replaces the socket in slot `index`, a TIME-WAIT connection nobody
    /// holds, with `record`; false (and nothing changes) if its memory is
    /// refused.
    pub fn bury(&mut self, index: u32, record: TimeWait, charges: &mut Charges) -> bool {
        if !self.time_waits.reserve() {
            return false;
        }
        if !charges.charge(TIME_WAIT_BYTES) {
            return false;
        }
        self.free(index, charges);
        let ticket = self.time_waits.push(record);
        let entry = Entry::TimeWait(ticket);
        self.connections.insert(record.endpoints, entry);
        true
    }

    /// Ends the record of `ticket` before its time; returns it.
    pub fn end_time_wait(&mut self, ticket: u32, charges: &mut Charges) -> Option<TimeWait> {
        let record = self.time_waits.take(ticket)?;
        self.connections.remove(&record.endpoints);
        charges.release(TIME_WAIT_BYTES);
        self.tidy_time_waits();
        Some(record)
    }

    /// Restarts the timer of `ticket` to `deadline`: the record moves to
    /// the back of the queue (`deadline` is the latest yet). Should the
    /// heap refuse the queue room, it keeps its place and holds up the
    /// records behind it until then (they end late, never early).
    pub fn restart_time_wait(&mut self, ticket: u32, deadline: u64) {
        if !self.time_waits.reserve() {
            if let Some(record) = self.time_waits.get_mut(ticket) {
                record.deadline = deadline;
            }
            return;
        }
        let Some(mut record) = self.time_waits.take(ticket) else {
            return;
        };
        record.deadline = deadline;
        let ticket = self.time_waits.push(record);
        self.connections
            .insert(record.endpoints, Entry::TimeWait(ticket));
        self.tidy_time_waits();
    }

    /// Ends every record whose deadline is at or before `now`; returns
    /// how many.
    pub fn expire_time_waits(&mut self, now: u64, charges: &mut Charges) -> usize {
        let mut expired = 0;
        while let Some(record) = self.time_waits.pop_due(now) {
            self.visit();
            self.connections.remove(&record.endpoints);
            charges.release(TIME_WAIT_BYTES);
            expired += 1;
        }
        self.tidy_time_waits();
        expired
    }

    /// The earliest TIME-WAIT deadline (the front is a record after any
    /// change, see [`Table::tidy_time_waits`]).
    pub fn next_time_wait_deadline(&self) -> Option<u64> {
        let front = self.time_waits.queue.front()?;
        front.as_ref().map(|record| record.deadline)
    }

    /// The earliest deadline of a socket or a record.
    pub fn next_deadline(&self) -> Option<u64> {
        let socket = self.next_socket_deadline();
        let record = self.next_time_wait_deadline();
        match (socket, record) {
            (Some(socket), Some(record)) => Some(socket.min(record)),
            (socket, record) => socket.or(record),
        }
    }

    /// Drops empty slots at the front and compacts when they abound.
    fn tidy_time_waits(&mut self) {
        self.time_waits.prune();
        let waits = &self.time_waits;
        if waits.queue.len() > 2 * waits.live + SLACK {
            self.compact_time_waits();
        }
        self.time_waits.shrink();
    }

    /// Keeps only the records, renumbering their tickets from `first`.
    /// Amortised over the more than `live + SLACK` slots emptied since the
    /// last compaction.
    fn compact_time_waits(&mut self) {
        let waits = &mut self.time_waits;
        waits.queue.retain(Option::is_some);
        let first = waits.first;
        for (offset, record) in waits.queue.iter().flatten().enumerate() {
            let ticket = first.wrapping_add(offset as u32);
            self.connections
                .insert(record.endpoints, Entry::TimeWait(ticket));
        }
    }

    /// The records agree with the map: each is found under its 4-tuple
    /// with its own ticket, the front is a record, and the empty slots
    /// are within their bound.
    pub fn check_time_waits(&self) -> Result<(), &'static str> {
        let waits = &self.time_waits;
        for (position, slot) in waits.queue.iter().enumerate() {
            let Some(record) = slot else { continue };
            let ticket = waits.first.wrapping_add(position as u32);
            if self.connections.get(&record.endpoints) != Some(&Entry::TimeWait(ticket)) {
                return Err("a TIME-WAIT record's map entry");
            }
        }
        let counted = waits.queue.iter().flatten().count();
        let entries = self.connections.values();
        let in_map = entries.filter(|entry| matches!(entry, Entry::TimeWait(_)));
        if counted != waits.live || in_map.count() != waits.live {
            return Err("TIME-WAIT record count");
        }
        if waits.queue.front().is_some_and(Option::is_none) {
            return Err("an empty slot at the front of the TIME-WAIT queue");
        }
        if waits.queue.len() > 2 * waits.live + SLACK {
            return Err("TIME-WAIT queue over its bound");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::Sequence;
    use crate::table::Endpoints;
    use core::net::{Ipv4Addr, SocketAddrV4};

    fn record(port: u16, deadline: u64) -> TimeWait {
        let local = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80);
        let remote = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), port);
        TimeWait {
            endpoints: Endpoints::new(local, remote),
            deadline,
            send_next: Sequence(1),
            receive_next: Sequence(2),
            timestamp_recent: 0,
            last_acknowledgment_ms: 0,
            window: 100,
            receive_scale: 0,
            timestamps: false,
        }
    }

    fn insert(table: &mut Table, record: TimeWait) -> u32 {
        assert!(table.time_waits.reserve());
        let ticket = table.time_waits.push(record);
        table
            .connections
            .insert(record.endpoints, Entry::TimeWait(ticket));
        ticket
    }

    #[test]
    fn records_are_forty_bytes_and_their_map_entries_twenty() {
        assert_eq!(core::mem::size_of::<TimeWait>(), 40);
        assert_eq!(core::mem::size_of::<Option<TimeWait>>(), 40);
        let entry = core::mem::size_of::<Endpoints>() + core::mem::size_of::<Entry>();
        assert_eq!(entry, 20);
    }

    #[test]
    fn restarts_and_early_ends_leave_bounded_empty_slots() {
        let mut table = Table::default();
        let mut charges = Charges::default();
        let tickets: std::vec::Vec<u32> = (0..100)
            .map(|port| insert(&mut table, record(1000 + port, 10)))
            .collect();
        assert!(charges.charge(100 * TIME_WAIT_BYTES));
        // Restart every other record many times: slots empty behind them.
        for round in 0..10u64 {
            for port in (0..100u16).step_by(2) {
                let key = record(1000 + port, 0).endpoints;
                let Some(Entry::TimeWait(ticket)) = table.find(&key) else {
                    panic!("the record is in the map");
                };
                table.restart_time_wait(ticket, 20 + round);
                assert_eq!(table.check_time_waits(), Ok(()));
            }
        }
        assert_eq!(table.time_wait_count(), 100);
        assert_eq!(table.next_time_wait_deadline(), Some(10));
        assert_eq!(table.expire_time_waits(10, &mut charges), 50);
        assert_eq!(table.next_time_wait_deadline(), Some(29));
        // Ending one early: it is gone from the map at once.
        let key = record(1001, 0).endpoints;
        assert!(table.find(&key).is_none(), "expired with the odd ports");
        let key = record(1002, 0).endpoints;
        let Some(Entry::TimeWait(ticket)) = table.find(&key) else {
            panic!("still waiting");
        };
        assert!(table.end_time_wait(ticket, &mut charges).is_some());
        assert!(table.find(&key).is_none());
        assert_eq!(table.check_time_waits(), Ok(()));
        assert_eq!(table.expire_time_waits(29, &mut charges), 49);
        assert_eq!(table.time_wait_count(), 0);
        assert_eq!(charges.held(), 0);
        assert!(tickets.len() == 100 && table.connection_entries() == 0);
    }
}
