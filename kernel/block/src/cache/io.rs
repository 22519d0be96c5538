//! Reading and writing blocks through the cache, making room (reads to
//! the device and read-ahead: `read.rs`).
//!
//! Every path holds the table's lock while it looks and lets go only to
//! submit requests or to sleep until some buffer's I/O ends, then looks
//! again from the start: what it saw may have changed meanwhile. Every
//! sleep has the deadline of the operation ([`IO_TIMEOUT_NS`] from its
//! start), past which it fails with EIO.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Relaxed;

use base::Context;
use base::sync::MutexGuard;

use super::table::{Key, State, Table};
use super::{BUFFER_OVERHEAD, ROOM_BATCH};
use crate::disk::{Disk, IO_TIMEOUT_NS};
use crate::error::BlockError;
use crate::registry::Block;

pub(super) type Guard<'a> = MutexGuard<'a, Table>;

/// The bytes of buffers just dropped, kept to be filled again.
pub(super) type Spares = Vec<Vec<u8>>;

/// How often an update reads its block in before it gives up (the block
/// would have to be dropped again each time before the update looks).
const UPDATE_TRIES: usize = 4;

impl Block {
    /// Copies the bytes of block `key` of `disk` from `offset` on into
    /// `out` (within the block), reading the block in if it must.
    pub(crate) fn read_block(
        self: &Arc<Self>,
        context: &Context<'_>,
        disk: &Arc<Disk>,
        key: Key,
        offset: usize,
        out: &mut [u8],
    ) -> Result<(), BlockError> {
        let mut table = self.cache.table.lock(context);
        let sequence = table.note_read(&key);
        if table.read_into(&key, offset, out) {
            // A hit, the common case, reads no clock.
            self.count(false);
            drop(self.read_ahead(context, table, disk, key, sequence, None));
            return Ok(());
        }
        let deadline = context.now_ns().saturating_add(IO_TIMEOUT_NS);
        let mut missed = false;
        loop {
            if table.read_into(&key, offset, out) {
                self.count(missed);
                drop(self.read_ahead(context, table, disk, key, sequence, None));
                return Ok(());
            }
            match table.get(&key).map(|buffer| buffer.state) {
                Some(State::Failed(error)) => {
                    self.drop_buffer(&mut table, &key);
                    return Err(error);
                }
                Some(_) => table = self.wait_change(table, deadline)?,
                None => {
                    missed = true;
                    let (next, absent) = self.make_room(context, table, &key, deadline)?;
                    table = next;
                    if absent {
                        table.insert_reading(key);
                        self.note_peak(&table);
                        table = self.read_ahead(context, table, disk, key, sequence, Some(key));
                    }
                }
            }
        }
    }

    /// Copies `data` into block `key`, which becomes dirty.
    pub(crate) fn write_block(
        self: &Arc<Self>,
        context: &Context<'_>,
        key: Key,
        data: &[u8],
    ) -> Result<(), BlockError> {
        let deadline = context.now_ns().saturating_add(IO_TIMEOUT_NS);
        let mut table = self.cache.table.lock(context);
        let mut missed = false;
        loop {
            if table.write_from(&key, 0, data, context.now_ns()) {
                self.count(missed);
                break;
            }
            match table.get(&key).map(|buffer| buffer.state) {
                // The whole block is written: what failed to read is moot.
                Some(State::Failed(_)) => self.drop_buffer(&mut table, &key),
                Some(_) => table = self.wait_change(table, deadline)?,
                None => {
                    missed = true;
                    let (next, absent) = self.make_room(context, table, &key, deadline)?;
                    table = next;
                    if absent {
                        table.insert_dirty(key, data.to_vec(), context.now_ns());
                        self.note_peak(&table);
                        break;
                    }
                }
            }
        }
        if table.dirty_bytes() > self.cache.limit / 2 {
            self.wake_syncer(context, &mut table);
        }
        Ok(())
    }

    /// Copies `data` into block `key` of `disk` from `offset` on (within
    /// the block), which becomes dirty; the rest of the block is read in
    /// first if it is not cached.
    pub(crate) fn update_block(
        self: &Arc<Self>,
        context: &Context<'_>,
        disk: &Arc<Disk>,
        key: Key,
        offset: usize,
        data: &[u8],
    ) -> Result<(), BlockError> {
        for _ in 0..UPDATE_TRIES {
            let mut table = self.cache.table.lock(context);
            if table.write_from(&key, offset, data, context.now_ns()) {
                self.count(false);
                if table.dirty_bytes() > self.cache.limit / 2 {
                    self.wake_syncer(context, &mut table);
                }
                return Ok(());
            }
            drop(table);
            // Absent or busy: this reads it in, or waits until it is idle.
            self.read_block(context, disk, key, 0, &mut [])?;
        }
        Err(BlockError::Io)
    }

    fn count(&self, missed: bool) {
        let counters = &self.cache.counters;
        let counter = if missed {
            &counters.misses
        } else {
            &counters.hits
        };
        counter.fetch_add(1, Relaxed);
    }

    pub(super) fn note_peak(&self, table: &Table) {
        self.cache
            .counters
            .peak_bytes
            .fetch_max(table.bytes(), Relaxed);
    }

    /// Makes room for `key`'s buffer within the bound and charges it:
    /// clean buffers go first, then dirty ones are written back, else it
    /// waits for I/O in flight. Returns whether `key` is still absent
    /// (when it appeared meanwhile, nothing was charged).
    ///
    /// # Errors
    /// [`BlockError::NoMemory`] when the block is larger than the bound or
    /// the kernel has no memory even with every clean buffer dropped;
    /// [`BlockError::Io`] when a write-back for room failed or timed out.
    fn make_room<'a>(
        self: &'a Arc<Self>,
        context: &'a Context<'_>,
        mut table: Guard<'a>,
        key: &Key,
        deadline: u64,
    ) -> Result<(Guard<'a>, bool), BlockError> {
        if key.size() > self.cache.limit {
            return Err(BlockError::NoMemory);
        }
        loop {
            if table.get(key).is_some() {
                return Ok((table, false));
            }
            if table.bytes() + key.size() <= self.cache.limit {
                break;
            }
            if self.evict_one(&mut table) {
                continue;
            }
            let keys = table.dirty_keys(ROOM_BATCH, |_, _| true);
            if keys.is_empty() {
                table = self.wait_change(table, deadline)?;
                continue;
            }
            let (next, batch) = self.start_writeback(context, table, keys);
            table = self.wait_batch(next, &batch, deadline)?;
        }
        while self
            .cache
            .account
            .charge(key.size() + BUFFER_OVERHEAD)
            .is_err()
        {
            if !self.evict_one(&mut table) {
                return Err(BlockError::NoMemory);
            }
        }
        Ok((table, true))
    }

    /// Room and a charge for `key` without writing back or waiting; the
    /// bytes of the buffers dropped for it go to `spares`.
    pub(super) fn try_room(&self, table: &mut Table, key: &Key, spares: &mut Spares) -> bool {
        while table.bytes() + key.size() > self.cache.limit {
            if !self.evict_into(table, spares) {
                return false;
            }
        }
        self.cache
            .account
            .charge(key.size() + BUFFER_OVERHEAD)
            .is_ok()
    }

    /// Drops the least recently used clean buffer, if any.
    pub(super) fn evict_one(&self, table: &mut Table) -> bool {
        self.evict_into(table, &mut Vec::new())
    }

    /// Drops the least recently used clean buffer, if any, and keeps its
    /// bytes in `spares` (a read can fill them again instead of new ones).
    fn evict_into(&self, table: &mut Table, spares: &mut Spares) -> bool {
        let Some((size, bytes)) = table.take_oldest_clean() else {
            return false;
        };
        spares.extend(bytes);
        self.cache.account.release(size + BUFFER_OVERHEAD);
        self.cache.counters.evictions.fetch_add(1, Relaxed);
        true
    }

    /// Removes `key`'s (idle) buffer and gives its charge back.
    pub(super) fn drop_buffer(&self, table: &mut Table, key: &Key) {
        if table.remove(key).is_some() {
            self.cache.account.release(key.size() + BUFFER_OVERHEAD);
        }
    }

    /// Writes back and forgets every buffer of `disk` kept with another
    /// block size than `block_size`, so that no two sizes alias a sector.
    pub(crate) fn forget_other_sizes(
        self: &Arc<Self>,
        context: &Context<'_>,
        disk: &Arc<Disk>,
        block_size: u32,
    ) -> Result<(), BlockError> {
        self.forget_where(context, disk, |key| key.block_size != block_size)
    }

    /// Writes back and forgets every buffer of `disk` (the next reads
    /// come from the device: Linux's `drop_caches` for one disk).
    pub(crate) fn forget_disk(
        self: &Arc<Self>,
        context: &Context<'_>,
        disk: &Arc<Disk>,
    ) -> Result<(), BlockError> {
        self.forget_where(context, disk, |_| true)
    }

    /// Writes back and forgets the buffers of `disk` that `chosen` picks.
    fn forget_where(
        self: &Arc<Self>,
        context: &Context<'_>,
        disk: &Arc<Disk>,
        chosen: impl Fn(&Key) -> bool,
    ) -> Result<(), BlockError> {
        let deadline = context.now_ns().saturating_add(IO_TIMEOUT_NS);
        let mut table = self.cache.table.lock(context);
        loop {
            let keys = table.keys_of(disk.index(), &chosen);
            let mut dirty = Vec::new();
            let mut busy = false;
            for key in keys {
                match table.get(&key).map(|buffer| buffer.state) {
                    Some(State::Clean | State::Failed(_)) => self.drop_buffer(&mut table, &key),
                    Some(State::Dirty { .. }) => dirty.push(key),
                    _ => busy = true,
                }
            }
            if !dirty.is_empty() {
                let (next, batch) = self.start_writeback(context, table, dirty);
                table = self.wait_batch(next, &batch, deadline)?;
            } else if busy {
                table = self.wait_change(table, deadline)?;
            } else {
                return Ok(());
            }
        }
    }
}
