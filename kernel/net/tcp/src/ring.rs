//! A byte ring that grows lazily up to a limit: the storage of the send and
//! receive buffers.
//!
//! Offsets are logical, counted from the oldest byte (`head`). `length`
//! bytes from the head are committed (queued to send, or readable); bytes
//! may also be written past them (`write_at`), for out-of-order data that
//! the reassembly ranges track, and `extent` remembers how far such writes
//! reach so growing the storage keeps them. The storage starts empty and
//! doubles when a write needs more, never past `limit`, so a connection
//! costs memory only as its data needs it and nothing is allocated per
//! segment once the ring has grown. Growth is charged to the engine's
//! [`Charges`] first; when it is refused the ring grows only as far as the
//! write needs, and if that is refused too the write fails.

use alloc::vec::Vec;

use crate::memory::Charges;

/// The first allocation of a ring that receives data.
const MINIMUM_CAPACITY: usize = 2048;

/// A growable byte ring.
#[derive(Debug, Default)]
pub struct Ring {
    storage: Vec<u8>,
    /// Physical index of logical offset 0.
    head: usize,
    /// Committed bytes from the head.
    length: usize,
    /// Bytes from the head that hold data (committed or not): >= length.
    extent: usize,
    /// The most bytes the ring may hold.
    limit: usize,
}

impl Ring {
    /// An empty ring that may grow to `limit` bytes.
    pub const fn new(limit: usize) -> Self {
        Self {
            storage: Vec::new(),
            head: 0,
            length: 0,
            extent: 0,
            limit,
        }
    }

    /// Committed bytes.
    pub const fn len(&self) -> usize {
        self.length
    }

    /// No committed bytes.
    #[cfg(test)]
    pub const fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The most bytes the ring may hold.
    pub const fn limit(&self) -> usize {
        self.limit
    }

    /// Room for committed bytes: `limit - len`.
    pub const fn free(&self) -> usize {
        self.limit.saturating_sub(self.length)
    }

    /// Changes the limit; it never drops below the bytes held.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(self.extent);
    }

    /// Bytes currently allocated (and charged).
    pub fn capacity(&self) -> usize {
        self.storage.len()
    }

    /// Appends as much of `data` as fits; returns how much did (0 also
    /// when memory for it was refused).
    pub fn push(&mut self, data: &[u8], charges: &mut Charges) -> usize {
        let wanted = data.len().min(self.free());
        // Without memory to grow, what fits the storage already goes in.
        let fits = self.storage.len().saturating_sub(self.extent).min(wanted);
        for count in [wanted, fits] {
            let taken = data.get(..count).unwrap_or_default();
            if count > 0 && self.write_at(self.length, taken, charges) {
                self.commit(count);
                return count;
            }
        }
        0
    }

    /// Writes `data` at logical `offset` without committing it; false (and
    /// nothing written) when it would pass the limit or memory for it was
    /// refused.
    pub fn write_at(&mut self, offset: usize, data: &[u8], charges: &mut Charges) -> bool {
        let Some(end) = offset.checked_add(data.len()) else {
            return false;
        };
        if end > self.limit {
            return false;
        }
        if data.is_empty() {
            return true;
        }
        if !self.reserve(end, charges) {
            return false;
        }
        let capacity = self.storage.len();
        let start = (self.head + offset) % capacity;
        let first = data.len().min(capacity - start);
        let (before_wrap, after_wrap) = data.split_at(first);
        self.storage[start..start + first].copy_from_slice(before_wrap);
        self.storage[..after_wrap.len()].copy_from_slice(after_wrap);
        self.extent = self.extent.max(end);
        true
    }

    /// Makes sure a write up to logical offset `end` will not need memory
    /// (charging the growth now); false when past the limit or refused.
    pub fn make_room(&mut self, end: usize, charges: &mut Charges) -> bool {
        end <= self.limit && self.reserve(end, charges)
    }

    /// Forgets every byte held, keeping the storage.
    pub fn clear(&mut self) {
        self.head = 0;
        self.length = 0;
        self.extent = 0;
    }

    /// Marks `count` more bytes after the committed ones as committed.
    pub fn commit(&mut self, count: usize) {
        self.length = (self.length + count).min(self.limit);
        self.extent = self.extent.max(self.length);
    }

    /// Copies bytes from logical `offset` into `out`; returns how many
    /// (limited by the committed length).
    pub fn read_at(&self, offset: usize, out: &mut [u8]) -> usize {
        let count = out.len().min(self.length.saturating_sub(offset));
        if count == 0 {
            return 0;
        }
        let capacity = self.storage.len();
        let start = (self.head + offset) % capacity;
        let first = count.min(capacity - start);
        out[..first].copy_from_slice(&self.storage[start..start + first]);
        out[first..count].copy_from_slice(&self.storage[..count - first]);
        count
    }

    /// Drops up to `count` committed bytes from the head.
    pub fn consume(&mut self, count: usize) {
        let count = count.min(self.length);
        self.length -= count;
        self.extent -= count;
        if self.extent == 0 {
            self.head = 0;
        } else if !self.storage.is_empty() {
            self.head = (self.head + count) % self.storage.len();
        }
    }

    /// Gives the storage back when nothing is held (a connection that
    /// will not carry data again, or an idle one, keeps no buffer memory);
    /// the next write allocates it again.
    pub fn release(&mut self, charges: &mut Charges) {
        if self.extent == 0 {
            charges.release(self.storage.len());
            self.storage = Vec::new();
            self.head = 0;
        }
    }

    /// Reads and drops bytes from the head; returns how many.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let count = self.read_at(0, out);
        self.consume(count);
        count
    }

    /// Makes the storage hold at least `needed` bytes, keeping the data;
    /// false when the memory was refused.
    fn reserve(&mut self, needed: usize, charges: &mut Charges) -> bool {
        let old_capacity = self.storage.len();
        if needed <= old_capacity {
            return true;
        }
        let wanted = needed.max(old_capacity * 2).max(MINIMUM_CAPACITY);
        let doubled = wanted.min(self.limit.max(needed));
        let Some(capacity) = [doubled, needed]
            .into_iter()
            .find(|&capacity| charges.charge(capacity - old_capacity))
        else {
            return false;
        };
        // Fallible: a heap that runs out before the limit is a refusal too.
        let mut storage = Vec::new();
        if storage.try_reserve_exact(capacity).is_err() {
            charges.release(capacity - old_capacity);
            return false;
        }
        if old_capacity > 0 {
            let start = self.head;
            let first = self.extent.min(old_capacity - start);
            storage.extend_from_slice(&self.storage[start..start + first]);
            storage.extend_from_slice(&self.storage[..self.extent - first]);
        }
        storage.resize(capacity, 0);
        self.storage = storage;
        self.head = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryBudget;
    use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Arc;

    #[test]
    fn push_pop_wraps_and_grows() {
        let mut charges = Charges::default();
        let mut ring = Ring::new(10_000);
        assert_eq!(ring.capacity(), 0);
        let data: std::vec::Vec<u8> = (0..3000u32).map(|value| value as u8).collect();
        assert_eq!(ring.push(&data[..1500], &mut charges), 1500);
        assert_eq!(ring.capacity(), MINIMUM_CAPACITY);
        let mut out = [0u8; 1000];
        assert_eq!(ring.pop(&mut out), 1000);
        assert_eq!(&out[..], &data[..1000]);
        // This push wraps inside the 2048-byte storage, then forces growth.
        assert_eq!(ring.push(&data[1500..2500], &mut charges), 1000);
        assert_eq!(ring.push(&data[2500..], &mut charges), 500);
        assert!(ring.capacity() >= 2000);
        let mut rest = [0u8; 2000];
        assert_eq!(ring.pop(&mut rest), 2000);
        assert_eq!(&rest[..], &data[1000..]);
        assert!(ring.is_empty());
        assert_eq!(charges.held(), ring.capacity());
        ring.release(&mut charges);
        assert_eq!((ring.capacity(), charges.held()), (0, 0));
    }

    #[test]
    fn limit_caps_pushes_and_writes() {
        let mut charges = Charges::default();
        let mut ring = Ring::new(100);
        assert_eq!(ring.push(&[1u8; 150], &mut charges), 100);
        assert_eq!(ring.free(), 0);
        assert!(!ring.write_at(100, &[1], &mut charges));
        assert!(ring.capacity() <= 100);
        ring.consume(40);
        assert!(ring.write_at(90, &[7; 10], &mut charges));
        assert!(!ring.write_at(95, &[7; 10], &mut charges));
        assert!(!ring.write_at(usize::MAX, &[7], &mut charges));
    }

    #[test]
    fn uncommitted_writes_survive_growth() {
        let mut charges = Charges::default();
        let mut ring = Ring::new(1 << 20);
        assert!(ring.write_at(5000, b"later", &mut charges));
        assert!(ring.write_at(0, &[9u8; 5000], &mut charges));
        ring.commit(5005);
        let mut out = [0u8; 5];
        assert_eq!(ring.read_at(5000, &mut out), 5);
        assert_eq!(&out, b"later");
    }

    #[test]
    fn read_at_stops_at_the_committed_length() {
        let mut charges = Charges::default();
        let mut ring = Ring::new(64);
        ring.push(b"abc", &mut charges);
        let mut out = [0u8; 8];
        assert_eq!(ring.read_at(1, &mut out), 2);
        assert_eq!(&out[..2], b"bc");
        assert_eq!(ring.read_at(5, &mut out), 0);
    }

    /// A budget of `room` bytes.
    struct Room(AtomicUsize);

    impl MemoryBudget for Room {
        fn charge(&self, bytes: usize) -> bool {
            self.0
                .fetch_update(Relaxed, Relaxed, |room| room.checked_sub(bytes))
                .is_ok()
        }

        fn release(&self, bytes: usize) {
            self.0.fetch_add(bytes, Relaxed);
        }
    }

    #[test]
    fn growth_falls_back_to_what_is_needed_then_fails_cleanly() {
        let room = Arc::new(Room(AtomicUsize::new(3000)));
        let mut charges = Charges::default();
        assert!(charges.set_budget(room.clone()));
        let mut ring = Ring::new(1 << 20);
        assert_eq!(ring.push(&[1u8; 2000], &mut charges), 2000);
        assert_eq!(ring.capacity(), MINIMUM_CAPACITY);
        // Doubling to 4096 is refused; exactly what the write needs fits.
        assert_eq!(ring.push(&[2u8; 900], &mut charges), 900);
        assert_eq!(ring.capacity(), 2900);
        // Nothing more fits: the write fails, the data stays intact.
        assert_eq!(ring.push(&[3u8; 500], &mut charges), 0);
        assert_eq!(ring.len(), 2900);
        assert_eq!(room.0.load(Relaxed), 100);
        ring.consume(2900);
        ring.release(&mut charges);
        assert_eq!(room.0.load(Relaxed), 3000);
    }
}
