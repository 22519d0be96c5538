//! The buffer cache's table: buffers by (disk, block size, block), with
//! the clean ones in least-recently-used order and the dirty ones in the
//! order they became dirty.
//!
//! A buffer is in exactly one [`State`]. While the device has its bytes
//! (`Reading`, `Writing`) the table holds no data for it and it is in
//! neither order; `Clean` buffers (and `Failed` ones, which nobody may
//! come back for) are in the clean order (eviction takes the oldest),
//! `Dirty` ones in the dirty order (write-back takes the
//! oldest; the clean order is kept lazily, `recency.rs`). Byte counts
//! cover every buffer, busy ones too, so the cache's
//! bound holds while I/O is in flight. Plain data: the cache holds it
//! under its lock.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::hash::{BuildHasherDefault, Hasher};

use hashbrown::HashMap;

use crate::error::BlockError;
use recency::Recency;

mod recency;

/// Which block a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    /// The disk's registry index.
    pub disk: u32,
    /// The block size the buffer was read or written with.
    pub block_size: u32,
    /// The block, in units of `block_size`.
    pub block: u64,
}

impl Key {
    pub(crate) fn size(&self) -> usize {
        self.block_size as usize
    }
}

/// Where a buffer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// The device is filling it.
    Reading,
    /// Its bytes are the disk's.
    Clean,
    /// Newer than the disk since `since_ns`.
    Dirty { since_ns: u64 },
    /// The device is writing it back.
    Writing,
    /// Its read failed; the first to look reports the error and drops it.
    Failed(BlockError),
}

/// One cached block.
#[derive(Debug)]
pub(crate) struct Buffer {
    /// The bytes, except while the device has them.
    pub data: Option<Vec<u8>>,
    pub state: State,
    /// Its place in the clean or dirty order.
    order: u64,
}

type Buffers = HashMap<Key, Buffer, BuildHasherDefault<KeyHasher>>;

/// Every buffer, and the two orders.
#[derive(Debug, Default)]
pub(crate) struct Table {
    buffers: Buffers,
    clean: Recency,
    dirty: BTreeMap<u64, Key>,
    next_order: u64,
    bytes: usize,
    dirty_bytes: usize,
    /// Buffers being written back, by disk.
    writing: BTreeMap<u32, usize>,
    /// The syncer is wanted now (memory pressure, many dirty bytes).
    pressure: bool,
    /// Each disk's sequential reader, for read-ahead.
    sequences: BTreeMap<u32, Sequence>,
}

/// The table's hash of a key: each word mixed in by a rotate, an xor and
/// a multiply (FxHash's step). Keys are block numbers within a disk's
/// size: at worst a crafted image makes lookups slower, never wrong.
#[derive(Debug, Default)]
pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Where a disk's reader was, and how far ahead blocks were requested.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sequence {
    /// The last block read.
    pub last: u64,
    /// The last block requested ahead (0: none).
    pub ahead: u64,
}

impl Table {
    /// Bytes of all buffers.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Bytes of dirty buffers (not those being written).
    pub(crate) fn dirty_bytes(&self) -> usize {
        self.dirty_bytes
    }

    /// How many buffers there are.
    pub(crate) fn len(&self) -> usize {
        self.buffers.len()
    }

    /// Takes the syncer's request.
    pub(crate) fn take_pressure(&mut self) -> bool {
        core::mem::take(&mut self.pressure)
    }

    /// Asks for the syncer.
    pub(crate) fn set_pressure(&mut self) {
        self.pressure = true;
    }

    /// The sequential reader of `key`'s disk and block size, updated to
    /// `key`'s block; its state before the read. A read of a block in the
    /// cache that does not continue the sequence (a file system's inode or
    /// indirect block between two data blocks) leaves it as it was; a
    /// miss starts a new one.
    pub(crate) fn note_read(&mut self, key: &Key) -> Sequence {
        let cached = self.buffers.contains_key(key);
        let sequence = self.sequences.entry(key.disk).or_default();
        let before = *sequence;
        if !cached || key.block == before.last.wrapping_add(1) {
            sequence.last = key.block;
        }
        before
    }

    /// Records that blocks up to `block` were requested ahead.
    pub(crate) fn note_ahead(&mut self, disk: u32, block: u64) {
        self.sequences.entry(disk).or_default().ahead = block;
    }

    pub(crate) fn get(&self, key: &Key) -> Option<&Buffer> {
        self.buffers.get(key)
    }

    /// A new buffer the device is about to fill.
    pub(crate) fn insert_reading(&mut self, key: Key) {
        self.insert(key, None, State::Reading);
    }

    /// A new buffer holding `data`, newer than the disk.
    pub(crate) fn insert_dirty(&mut self, key: Key, data: Vec<u8>, now_ns: u64) {
        self.insert(key, Some(data), State::Dirty { since_ns: now_ns });
    }

    fn insert(&mut self, key: Key, data: Option<Vec<u8>>, state: State) {
        let old = self.remove(&key);
        debug_assert!(old.is_none(), "a key is inserted once");
        self.bytes += key.size();
        self.buffers.insert(
            key,
            Buffer {
                data,
                state,
                order: 0,
            },
        );
        self.enter_order(&key);
    }

    /// The device filled (or failed to fill) the buffer of `key`.
    pub(crate) fn finish_read(&mut self, key: &Key, result: Result<Vec<u8>, BlockError>) {
        let Some(buffer) = self.buffers.get_mut(key) else {
            return;
        };
        if buffer.state != State::Reading {
            return;
        }
        match result {
            Ok(data) => {
                buffer.data = Some(data);
                buffer.state = State::Clean;
            }
            Err(error) => buffer.state = State::Failed(error),
        }
        self.enter_order(key);
    }

    /// Copies the bytes of an idle buffer from `offset` on out; a clean
    /// one becomes the most recently used, unless it is among the newest
    /// quarter already (a block read just after it came in is not moved
    /// again). False when it has no bytes here.
    pub(crate) fn read_into(&mut self, key: &Key, offset: usize, out: &mut [u8]) -> bool {
        let Some(buffer) = self.buffers.get(key) else {
            return false;
        };
        let Some(data) = buffer.data.as_ref() else {
            return false;
        };
        out.copy_from_slice(&data[offset..offset + out.len()]);
        let recent = buffer.order + (self.buffers.len() / 4) as u64 >= self.next_order;
        if buffer.state == State::Clean && !recent {
            self.enter_order(key);
        }
        true
    }

    /// Copies `data` into an idle buffer from `offset` on; it becomes
    /// dirty. False when it has no bytes here.
    pub(crate) fn write_from(
        &mut self,
        key: &Key,
        offset: usize,
        data: &[u8],
        now_ns: u64,
    ) -> bool {
        let Some(buffer) = self.buffers.get_mut(key) else {
            return false;
        };
        let Some(bytes) = buffer.data.as_mut() else {
            return false;
        };
        bytes[offset..offset + data.len()].copy_from_slice(data);
        if buffer.state == State::Clean {
            self.leave_order(key);
            self.buffers.get_mut(key).expect("found above").state =
                State::Dirty { since_ns: now_ns };
            self.enter_order(key);
        }
        true
    }

    /// Takes the bytes of a dirty buffer for the device, if it is dirty.
    pub(crate) fn start_write(&mut self, key: &Key) -> Option<Vec<u8>> {
        let buffer = self.buffers.get(key)?;
        if !matches!(buffer.state, State::Dirty { .. }) {
            return None;
        }
        self.leave_order(key);
        let buffer = self.buffers.get_mut(key).expect("found above");
        buffer.state = State::Writing;
        *self.writing.entry(key.disk).or_default() += 1;
        buffer.data.take()
    }

    /// The device wrote the buffer back (clean), or failed to (dirty
    /// again, as new as `now_ns`).
    pub(crate) fn finish_write(&mut self, key: &Key, data: Vec<u8>, ok: bool, now_ns: u64) {
        let Some(buffer) = self.buffers.get_mut(key) else {
            return;
        };
        if buffer.state != State::Writing {
            return;
        }
        buffer.data = Some(data);
        buffer.state = if ok {
            State::Clean
        } else {
            State::Dirty { since_ns: now_ns }
        };
        if let Some(count) = self.writing.get_mut(&key.disk) {
            *count -= 1;
        }
        self.enter_order(key);
    }

    /// Removes the buffer of `key` whatever its state.
    pub(crate) fn remove(&mut self, key: &Key) -> Option<Buffer> {
        self.leave_order(key);
        let buffer = self.buffers.remove(key)?;
        self.bytes -= key.size();
        if buffer.state == State::Writing
            && let Some(count) = self.writing.get_mut(&key.disk)
        {
            *count -= 1;
        }
        Some(buffer)
    }

    /// Drops the least recently used clean buffer; its size.
    pub(crate) fn evict_oldest_clean(&mut self) -> Option<usize> {
        self.take_oldest_clean().map(|(size, _)| size)
    }

    /// Drops the least recently used clean buffer; its size, and its
    /// bytes (none for a failed one) to be used again.
    pub(crate) fn take_oldest_clean(&mut self) -> Option<(usize, Option<Vec<u8>>)> {
        let buffers = &self.buffers;
        let key = self
            .clean
            .oldest(|order, key| is_clean_at(buffers, order, key))?;
        self.remove(&key).map(|buffer| (key.size(), buffer.data))
    }

    /// Up to `limit` dirty buffers, oldest first, that `wanted` accepts
    /// (given the key and when it became dirty).
    pub(crate) fn dirty_keys(
        &self,
        limit: usize,
        mut wanted: impl FnMut(&Key, u64) -> bool,
    ) -> Vec<Key> {
        let since = |key: &Key| match self.buffers[key].state {
            State::Dirty { since_ns } => since_ns,
            _ => 0,
        };
        let keys = self.dirty.values().filter(|key| wanted(key, since(key)));
        keys.take(limit).copied().collect()
    }

    /// Buffers of `disk` being written back now.
    pub(crate) fn writing_on(&self, disk: u32) -> usize {
        self.writing.get(&disk).copied().unwrap_or(0)
    }

    /// Every key of `disk` that `chosen` picks.
    pub(crate) fn keys_of(&self, disk: u32, chosen: impl Fn(&Key) -> bool) -> Vec<Key> {
        let keys = self.buffers.keys();
        let picked = keys.filter(|key| key.disk == disk && chosen(key));
        picked.copied().collect()
    }

    fn enter_order(&mut self, key: &Key) {
        let order = self.next_order;
        let Some(buffer) = self.buffers.get_mut(key) else {
            return;
        };
        match buffer.state {
            State::Clean | State::Failed(_) => {
                buffer.order = order;
                let buffers = &self.buffers;
                let live = |order, key: &Key| is_clean_at(buffers, order, key);
                self.clean.push(order, *key, buffers.len(), live);
            }
            State::Dirty { .. } => {
                buffer.order = order;
                self.dirty_bytes += key.size();
                self.dirty.insert(order, *key);
            }
            _ => return,
        }
        self.next_order += 1;
    }

    fn leave_order(&mut self, key: &Key) {
        let Some(buffer) = self.buffers.get(key) else {
            return;
        };
        match buffer.state {
            // Its entry in the clean order goes stale.
            State::Clean | State::Failed(_) => {}
            State::Dirty { .. } => {
                self.dirty.remove(&buffer.order);
                self.dirty_bytes -= key.size();
            }
            _ => {}
        }
    }
}

/// Whether the buffer of `key` is clean (or failed) and was last used at
/// `order`: whether a clean order entry still stands for it.
fn is_clean_at(buffers: &Buffers, order: u64, key: &Key) -> bool {
    buffers.get(key).is_some_and(|buffer| {
        buffer.order == order && matches!(buffer.state, State::Clean | State::Failed(_))
    })
}

#[cfg(test)]
mod tests;
