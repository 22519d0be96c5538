//! The thread table: control blocks by index, and ids that encode it.
//!
//! A thread id is `serial << 16 | index`: the index makes lookups O(1), the
//! serial (which only grows) makes ids unique for the scheduler's life even
//! when an index is reused. A lookup by id checks the stored id, so a stale
//! id finds nothing.

use alloc::vec::Vec;

use crate::{SpawnError, ThreadId, thread::Thread};

/// Bits of a thread id that hold the table index.
const INDEX_BITS: u32 = 16;
/// The most threads one scheduler can hold at a time (the boot thread and
/// exited, unjoined ones included).
pub const MAX_THREADS: usize = 1 << INDEX_BITS;
/// The largest serial that still fits above the index bits.
const MAX_SERIAL: u64 = u64::MAX >> INDEX_BITS;

/// Control blocks in slots, with a free list of empty slots.
pub(crate) struct ThreadTable {
    slots: Vec<Option<Thread>>,
    /// Empty slots. Its capacity is kept at least `slots.len()`, so
    /// removing a thread never allocates.
    free: Vec<u32>,
    /// Threads in the table.
    count: usize,
    /// At most this many threads at a time (at most MAX_THREADS).
    limit: usize,
    /// The serial of the next id; starts at 1 so no id is zero.
    next_serial: u64,
}

impl ThreadTable {
    /// An empty table that will hold at most `limit` threads (capped at
    /// [`MAX_THREADS`]).
    pub(crate) fn new(limit: usize) -> Self {
        let limit = limit.min(MAX_THREADS);
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            count: 0,
            limit,
            next_serial: 1,
        }
    }

    /// Threads in the table.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// One more than the highest index a new thread could get: what the
    /// per-index structures must be ready for before an insert.
    pub(crate) fn index_bound_after_insert(&self) -> usize {
        if self.free.is_empty() {
            self.slots.len() + 1
        } else {
            self.slots.len()
        }
    }

    /// Gives `thread` an id and a slot. Hands the thread back with the error
    /// so that its stack and entry are dropped by the caller.
    pub(crate) fn insert(&mut self, mut thread: Thread) -> Result<u32, (SpawnError, Thread)> {
        if self.count >= self.limit || self.next_serial > MAX_SERIAL {
            return Err((SpawnError::TooManyThreads, thread));
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None => match self.grow() {
                Ok(index) => index,
                Err(error) => return Err((error, thread)),
            },
        };
        thread.id = ThreadId((self.next_serial << INDEX_BITS) | u64::from(index));
        self.next_serial += 1;
        self.count += 1;
        self.slots[index as usize] = Some(thread);
        Ok(index)
    }

    /// Adds one empty slot and returns its index, keeping the free list's
    /// capacity at least the number of slots.
    fn grow(&mut self) -> Result<u32, SpawnError> {
        let index = u32::try_from(self.slots.len()).map_err(|_| SpawnError::TooManyThreads)?;
        self.slots
            .try_reserve(1)
            .map_err(|_| SpawnError::OutOfMemory)?;
        let needed = self.slots.len() + 1 - self.free.len();
        self.free
            .try_reserve(needed)
            .map_err(|_| SpawnError::OutOfMemory)?;
        self.slots.push(None);
        Ok(index)
    }

    /// Removes the thread at `index` and returns it.
    pub(crate) fn remove(&mut self, index: u32) -> Thread {
        let thread = self.slots[index as usize]
            .take()
            .expect("removing a thread that is in the table");
        self.count -= 1;
        self.free.push(index); // never allocates: see `free`
        thread
    }

    /// The index of the thread `id`, if it is in the table.
    pub(crate) fn index_of(&self, id: ThreadId) -> Option<u32> {
        let index = u32::try_from(id.0 & (MAX_THREADS as u64 - 1)).ok()?;
        let thread = self.slots.get(index as usize)?.as_ref()?;
        (thread.id == id).then_some(index)
    }

    /// The thread `id`, if it is in the table.
    pub(crate) fn get_mut(&mut self, id: ThreadId) -> Option<&mut Thread> {
        let index = self.index_of(id)?;
        Some(self.at_mut(index))
    }

    /// The thread at `index`, which the caller knows is occupied.
    pub(crate) fn at(&self, index: u32) -> &Thread {
        self.slots[index as usize]
            .as_ref()
            .expect("the index names a thread in the table")
    }

    /// The thread at `index`, which the caller knows is occupied.
    pub(crate) fn at_mut(&mut self, index: u32) -> &mut Thread {
        self.slots[index as usize]
            .as_mut()
            .expect("the index names a thread in the table")
    }

    /// Every thread in the table.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Thread> {
        self.slots.iter_mut().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_with(names: &[&str], limit: usize) -> (ThreadTable, Vec<u32>) {
        let mut table = ThreadTable::new(limit);
        let indices = names
            .iter()
            .map(|name| {
                table
                    .insert(Thread::adopted(name))
                    .ok()
                    .expect("room in the table")
            })
            .collect();
        (table, indices)
    }

    #[test]
    fn ids_are_unique_even_when_a_slot_is_reused() {
        let (mut table, indices) = table_with(&["a", "b"], 8);
        let old = table.at(indices[0]).id;
        table.remove(indices[0]);
        let reused = table.insert(Thread::adopted("c")).ok().expect("room");
        assert_eq!(reused, indices[0]);
        assert_ne!(table.at(reused).id, old);
        assert!(table.at(reused).id > table.at(indices[1]).id);
        assert_eq!(table.index_of(old), None);
        assert_eq!(table.index_of(table.at(reused).id), Some(reused));
    }

    #[test]
    fn the_limit_is_enforced_and_ids_are_never_zero() {
        let (mut table, indices) = table_with(&["a", "b"], 2);
        assert!(indices.iter().all(|index| table.at(*index).id.0 != 0));
        let refused = table.insert(Thread::adopted("c"));
        assert!(matches!(refused, Err((SpawnError::TooManyThreads, _))));
        assert_eq!(table.count(), 2);
        assert_eq!(table.index_of(ThreadId(0)), None);
    }
}
