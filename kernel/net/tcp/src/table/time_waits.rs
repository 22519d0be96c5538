//! Where TIME-WAIT records live: per family, a queue in deadline order
//! that is both their storage and their timer, found by 4-tuple through
//! that family's connection map (whose entry holds the record's ticket).
//!
//! Every record enters the queue at its back with a deadline of now plus
//! the engine's fixed TIME-WAIT duration, so the queue is in deadline
//! order and expiring is popping its front: O(1) per record, however many
//! wait. A ticket numbers a queue position for good (`first` is the
//! number of the front), so the map entry stays valid while the queue
//! turns. A record that ends early (a reset, a SYN or a connect reusing
//! its 4-tuple) leaves an empty slot behind, and one whose timer restarts
//! (a retransmitted FIN) moves to the back, leaving one too; empty slots
//! at the front are dropped at once, and the queue is compacted (tickets
//! renumbered, map entries updated) when they outnumber the records.
//!
//! The one exception to the order: a user's TIME-WAIT socket closed later
//! becomes a record then, keeping its earlier deadline; it may wait behind
//! later deadlines, so it can outlive 2 MSL, never fall short of it.
//!
//! The two families keep apart ([`Family`]) so an IPv4 record stays 40
//! bytes: an IPv6 one, with its 40-byte key, takes 72.

use alloc::collections::{BTreeMap, VecDeque};
use core::net::SocketAddr;

use super::endpoints::{Endpoints, Endpoints4, Endpoints6, Ticket, Tuple};
use super::{Entry, Table};
use crate::memory::Charges;
use crate::time_wait::TimeWait;

/// What each IPv4 record is charged: its 40 bytes in the queue and its 20
/// in the connection map, with room for the slack of both containers (the
/// queue grows by half, B-tree nodes run a little over half full). The
/// TIME-WAIT tests measure the real figure with a counting allocator.
pub const TIME_WAIT_BYTES: usize = 96;

/// The same for an IPv6 record: 72 bytes in the queue, 48 in the map.
pub const TIME_WAIT_BYTES_6: usize = 192;

/// Empty slots tolerated beyond the number of records.
const SLACK: usize = 64;

/// The queue grows by half its length at a time (at least this many
/// slots), not twice over, and shrinks once a quarter of it is in use.
const MINIMUM_GROWTH: usize = 64;

/// A record in its queue: the 4-tuple, when it ends, and its state.
#[derive(Clone, Copy, Debug)]
pub struct Record<K> {
    /// The 4-tuple.
    pub endpoints: K,
    /// When it ends: 2 MSL after its last FIN arrived.
    pub deadline: u64,
    /// What TIME-WAIT still needs.
    pub state: TimeWait,
}

/// The records of one family, in deadline order.
#[derive(Debug)]
struct Queue<K> {
    slots: VecDeque<Option<Record<K>>>,
    /// The ticket number of `slots[0]`.
    first: u32,
    /// Records (non-empty slots) in the queue.
    live: usize,
}

impl<K: Tuple> Queue<K> {
    fn position(&self, number: u32) -> usize {
        number.wrapping_sub(self.first) as usize
    }

    fn get_mut(&mut self, number: u32) -> Option<&mut Record<K>> {
        let position = self.position(number);
        self.slots.get_mut(position)?.as_mut()
    }

    /// Empties the slot of `number`, returning its record.
    fn take(&mut self, number: u32) -> Option<Record<K>> {
        let position = self.position(number);
        let record = self.slots.get_mut(position)?.take()?;
        self.live -= 1;
        Some(record)
    }

    /// Makes room for one more slot without allocating in `push`; false
    /// when the heap refuses.
    fn reserve(&mut self) -> bool {
        let length = self.slots.len();
        if length < self.slots.capacity() {
            return true;
        }
        let growth = (length / 2).max(MINIMUM_GROWTH);
        self.slots.try_reserve_exact(growth).is_ok()
    }

    /// Gives memory back once the queue uses a quarter of it.
    fn shrink(&mut self) {
        let length = self.slots.len().max(MINIMUM_GROWTH);
        if self.slots.capacity() > 4 * length {
            self.slots.shrink_to(2 * length);
        }
    }

    /// Appends `record` after [`Queue::reserve`] said yes.
    fn push(&mut self, record: Record<K>) -> u32 {
        let number = self.first.wrapping_add(self.slots.len() as u32);
        self.slots.push_back(Some(record));
        self.live += 1;
        number
    }

    /// Drops empty slots at the front, so the front is a record.
    fn prune(&mut self) {
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.first = self.first.wrapping_add(1);
        }
    }

    /// Takes the front record if its deadline is at or before `now`.
    fn pop_due(&mut self, now: u64) -> Option<Record<K>> {
        self.prune();
        let due = self
            .slots
            .front()?
            .is_some_and(|record| record.deadline <= now);
        if !due {
            return None;
        }
        self.live -= 1;
        self.first = self.first.wrapping_add(1);
        self.slots.pop_front().flatten()
    }

    /// The deadline of the front (a record after any change).
    fn next_deadline(&self) -> Option<u64> {
        let front = self.slots.front()?;
        front.as_ref().map(|record| record.deadline)
    }
}

impl<K> Default for Queue<K> {
    fn default() -> Self {
        Self {
            slots: VecDeque::new(),
            first: 0,
            live: 0,
        }
    }
}

/// One family's connection map and TIME-WAIT queue.
#[derive(Debug)]
pub struct Family<K> {
    /// Connections by 4-tuple: sockets and records.
    pub connections: BTreeMap<K, Entry>,
    queue: Queue<K>,
    /// What each record is charged.
    record_bytes: usize,
}

impl<K: Tuple> Family<K> {
    fn new(record_bytes: usize) -> Self {
        Self {
            connections: BTreeMap::new(),
            queue: Queue::default(),
            record_bytes,
        }
    }

    fn bury(&mut self, record: Record<K>, charges: &mut Charges) -> bool {
        if !self.queue.reserve() || !charges.charge(self.record_bytes) {
            return false;
        }
        let number = self.queue.push(record);
        let entry = Entry::TimeWait(K::ticket(number));
        self.connections.insert(record.endpoints, entry);
        true
    }

    fn end(&mut self, number: u32, charges: &mut Charges) -> bool {
        let Some(record) = self.queue.take(number) else {
            return false;
        };
        self.connections.remove(&record.endpoints);
        charges.release(self.record_bytes);
        self.tidy();
        true
    }

    fn restart(&mut self, number: u32, deadline: u64) {
        if !self.queue.reserve() {
            if let Some(record) = self.queue.get_mut(number) {
                record.deadline = deadline;
            }
            return;
        }
        let Some(mut record) = self.queue.take(number) else {
            return;
        };
        record.deadline = deadline;
        let number = self.queue.push(record);
        let entry = Entry::TimeWait(K::ticket(number));
        self.connections.insert(record.endpoints, entry);
        self.tidy();
    }

    fn expire(&mut self, now: u64, charges: &mut Charges) -> usize {
        let mut expired = 0;
        while let Some(record) = self.queue.pop_due(now) {
            self.connections.remove(&record.endpoints);
            charges.release(self.record_bytes);
            expired += 1;
        }
        self.tidy();
        expired
    }

    /// Drops empty slots at the front and compacts when they abound.
    fn tidy(&mut self) {
        self.queue.prune();
        if self.queue.slots.len() > 2 * self.queue.live + SLACK {
            self.compact();
        }
        self.queue.shrink();
    }

    /// Keeps only the records, renumbering their tickets from `first`.
    /// Amortised over the more than `live + SLACK` slots emptied since the
    /// last compaction.
    fn compact(&mut self) {
        let queue = &mut self.queue;
        queue.slots.retain(Option::is_some);
        let first = queue.first;
        for (offset, record) in queue.slots.iter().flatten().enumerate() {
            let ticket = K::ticket(first.wrapping_add(offset as u32));
            self.connections
                .insert(record.endpoints, Entry::TimeWait(ticket));
        }
    }

    fn records(&self) -> impl Iterator<Item = &Record<K>> {
        self.queue.slots.iter().flatten()
    }

    /// See [`Table::check_time_waits`].
    fn check(&self) -> Result<(), &'static str> {
        let queue = &self.queue;
        for (position, slot) in queue.slots.iter().enumerate() {
            let Some(record) = slot else { continue };
            let ticket = K::ticket(queue.first.wrapping_add(position as u32));
            if self.connections.get(&record.endpoints) != Some(&Entry::TimeWait(ticket)) {
                return Err("a TIME-WAIT record's map entry");
            }
        }
        let counted = self.records().count();
        let entries = self.connections.values();
        let in_map = entries.filter(|entry| matches!(entry, Entry::TimeWait(_)));
        if counted != queue.live || in_map.count() != queue.live {
            return Err("TIME-WAIT record count");
        }
        if queue.slots.front().is_some_and(Option::is_none) {
            return Err("an empty slot at the front of the TIME-WAIT queue");
        }
        if queue.slots.len() > 2 * queue.live + SLACK {
            return Err("TIME-WAIT queue over its bound");
        }
        Ok(())
    }
}

impl Default for Family<Endpoints4> {
    fn default() -> Self {
        Self::new(TIME_WAIT_BYTES)
    }
}

impl Default for Family<Endpoints6> {
    fn default() -> Self {
        Self::new(TIME_WAIT_BYTES_6)
    }
}

/// A TIME-WAIT record as the engine sees it, whatever its family.
pub struct RecordView<'a> {
    /// The 4-tuple.
    pub endpoints: Endpoints,
    /// Its state, to change in place.
    pub state: &'a mut TimeWait,
}

impl Table {
    /// The TIME-WAIT record of `ticket`.
    pub fn time_wait(&mut self, ticket: Ticket) -> Option<RecordView<'_>> {
        self.visit();
        match ticket {
            Ticket::V4(number) => view(self.v4.queue.get_mut(number)?),
            Ticket::V6(number) => view(self.v6.queue.get_mut(number)?),
        }
    }

    /// Every TIME-WAIT record's local address, IPv4 first.
    pub fn time_wait_locals(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        let v4 = self.v4.records().map(|r| r.endpoints.endpoints().local());
        v4.chain(self.v6.records().map(|r| r.endpoints.endpoints().local()))
    }

    /// Every TIME-WAIT record's deadline and state, IPv4 first.
    #[cfg(test)]
    pub fn time_wait_records(&self) -> impl Iterator<Item = (u64, &TimeWait)> + '_ {
        let v4 = self.v4.records().map(|r| (r.deadline, &r.state));
        v4.chain(self.v6.records().map(|r| (r.deadline, &r.state)))
    }

    /// TIME-WAIT records held.
    pub fn time_wait_count(&self) -> usize {
        self.v4.queue.live + self.v6.queue.live
    }

    /// What the TIME-WAIT records are charged, together.
    pub fn time_wait_charge(&self) -> usize {
        self.v4.queue.live * TIME_WAIT_BYTES + self.v6.queue.live * TIME_WAIT_BYTES_6
    }

    /// Replaces the socket in slot `index`, a TIME-WAIT connection nobody
    /// holds, with a record of `state` until `deadline`; false (and
    /// nothing changes) if its memory is refused.
    pub fn bury(
        &mut self,
        index: u32,
        state: TimeWait,
        deadline: u64,
        charges: &mut Charges,
    ) -> bool {
        let Some(tcb) = self.at(index) else {
            return false;
        };
        let buried = match Endpoints::new(tcb.local, tcb.remote) {
            Endpoints::V4(endpoints) => self.v4.bury(record(endpoints, deadline, state), charges),
            Endpoints::V6(endpoints) => self.v6.bury(record(endpoints, deadline, state), charges),
        };
        if buried {
            // The record's map entry took the socket's place, so freeing
            // the socket leaves it there.
            self.free(index, charges);
        }
        buried
    }

    /// Ends the record of `ticket` before its time; false if there is none.
    pub fn end_time_wait(&mut self, ticket: Ticket, charges: &mut Charges) -> bool {
        match ticket {
            Ticket::V4(number) => self.v4.end(number, charges),
            Ticket::V6(number) => self.v6.end(number, charges),
        }
    }

    /// Restarts the timer of `ticket` to `deadline`: the record moves to
    /// the back of the queue (`deadline` is the latest yet). Should the
    /// heap refuse the queue room, it keeps its place and holds up the
    /// records behind it until then (they end late, never early).
    pub fn restart_time_wait(&mut self, ticket: Ticket, deadline: u64) {
        match ticket {
            Ticket::V4(number) => self.v4.restart(number, deadline),
            Ticket::V6(number) => self.v6.restart(number, deadline),
        }
    }

    /// Ends every record whose deadline is at or before `now`; returns
    /// how many.
    pub fn expire_time_waits(&mut self, now: u64, charges: &mut Charges) -> usize {
        let expired = self.v4.expire(now, charges) + self.v6.expire(now, charges);
        (0..expired).for_each(|_| self.visit());
        expired
    }

    /// The earliest TIME-WAIT deadline.
    pub fn next_time_wait_deadline(&self) -> Option<u64> {
        let (v4, v6) = (self.v4.queue.next_deadline(), self.v6.queue.next_deadline());
        v4.into_iter().chain(v6).min()
    }

    /// The earliest deadline of a socket or a record.
    pub fn next_deadline(&self) -> Option<u64> {
        let socket = self.next_socket_deadline();
        socket
            .into_iter()
            .chain(self.next_time_wait_deadline())
            .min()
    }

    /// The records agree with the maps: each is found under its 4-tuple
    /// with its own ticket, each front is a record, and the empty slots
    /// are within their bound.
    pub fn check_time_waits(&self) -> Result<(), &'static str> {
        self.v4.check()?;
        self.v6.check()
    }
}

fn record<K>(endpoints: K, deadline: u64, state: TimeWait) -> Record<K> {
    Record {
        endpoints,
        deadline,
        state,
    }
}

fn view<K: Tuple>(record: &mut Record<K>) -> Option<RecordView<'_>> {
    Some(RecordView {
        endpoints: record.endpoints.endpoints(),
        state: &mut record.state,
    })
}

#[cfg(test)]
mod tests;
