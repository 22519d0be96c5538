//! Write-back: dirty buffers to their disks, syncs, and the syncer.
//!
//! A batch lends each chosen dirty buffer to its disk as one write and
//! counts the writes still out; each completion puts the buffer back
//! (clean, or dirty again when the write failed) and wakes the waiters.
//! [`Block::sync_disk`] keeps the order a file system relies on: first
//! every write-back already going to the disk ends, then every dirty
//! buffer of the disk is written and waited for, and only when all
//! succeeded is the device flushed.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

use base::Context;
use base::hypercall::WaitResult;
use base::sync::MutexGuard;

use super::runs::runs;
use super::table::{Key, Table};
use super::{DIRTY_EXPIRE_NS, SYNC_INTERVAL_NS};
use crate::disk::{Disk, IO_TIMEOUT_NS};
use crate::driver::{Completion, Operation, Request, Segments};
use crate::error::BlockError;
use crate::registry::Block;

/// Writes started together, for whoever waits for them.
#[derive(Debug, Default)]
pub(super) struct Batch {
    remaining: AtomicUsize,
    failed: AtomicBool,
}

impl Block {
    /// Starts writing back the dirty buffers of `keys` (others are
    /// skipped), consecutive ones as one request (`runs.rs`); returns the
    /// lock again and the batch.
    pub(super) fn start_writeback<'a>(
        self: &'a Arc<Self>,
        context: &'a Context<'_>,
        mut table: MutexGuard<'a, Table>,
        keys: Vec<Key>,
    ) -> (MutexGuard<'a, Table>, Arc<Batch>) {
        let batch = Arc::new(Batch::default());
        let writes: Vec<(Key, Vec<u8>)> = keys
            .into_iter()
            .filter_map(|key| table.start_write(&key).map(|data| (key, data)))
            .collect();
        batch.remaining.store(writes.len(), Relaxed);
        drop(table);
        for run in runs(writes) {
            self.write_run(context, run, &batch);
        }
        (self.cache.table.lock(context), batch)
    }

    /// Sends one run of buffers lent by `start_write` to its disk as one
    /// request, one segment per buffer.
    fn write_run(
        self: &Arc<Self>,
        context: &Context<'_>,
        run: Vec<(Key, Vec<u8>)>,
        batch: &Arc<Batch>,
    ) {
        let first = run[0].0;
        let (keys, buffers): (Vec<Key>, Segments) = run.into_iter().unzip();
        let Some(disk) = self.disk_at(context, first.disk) else {
            for (key, data) in keys.into_iter().zip(buffers) {
                self.finish_write(context, key, data, Err(BlockError::NoDevice), batch);
            }
            return;
        };
        let finished = (self.clone(), batch.clone());
        let completion = Completion::new(move |context, buffers, result| {
            let (block, batch) = finished;
            let pieces = keys.into_iter().zip(buffers);
            if result.is_err() && pieces.len() > 1 {
                // Each block again alone, so one bad sector fails only its own.
                for piece in pieces {
                    block.write_run(context, alloc::vec![piece], &batch);
                }
                return;
            }
            for (key, data) in pieces {
                block.finish_write(context, key, data, result, &batch);
            }
        });
        let request = Request {
            operation: Operation::Write,
            sector: sector_of(&disk, &first),
            buffers,
            completion,
        };
        if let Err(refused) = disk.submit(context, request) {
            refused.fail(context);
        }
    }

    /// A write-back is over: the buffer back, its batch told.
    fn finish_write(
        &self,
        context: &Context<'_>,
        key: Key,
        data: Vec<u8>,
        result: Result<(), BlockError>,
        batch: &Batch,
    ) {
        let counters = &self.cache.counters;
        let mut table = self.cache.table.lock(context);
        table.finish_write(&key, data, result.is_ok(), context.now_ns());
        if result.is_err() {
            counters.write_errors.fetch_add(1, Relaxed);
            batch.failed.store(true, Relaxed);
        } else {
            counters.writebacks.fetch_add(1, Relaxed);
        }
        batch.remaining.fetch_sub(1, Relaxed);
        self.cache.changed.notify_all(context);
    }

    /// Waits until every write of `batch` is over; `Err(Io)` if one
    /// failed or the device did not answer in time.
    pub(super) fn wait_batch<'a>(
        &self,
        mut table: MutexGuard<'a, Table>,
        batch: &Batch,
        deadline_ns: u64,
    ) -> Result<MutexGuard<'a, Table>, BlockError> {
        while batch.remaining.load(Relaxed) > 0 {
            table = self.wait_change(table, deadline_ns)?;
        }
        if batch.failed.load(Relaxed) {
            return Err(BlockError::Io);
        }
        Ok(table)
    }

    /// Sleeps until some buffer's I/O ends; `Err(Io)` at the deadline.
    pub(super) fn wait_change<'a>(
        &self,
        table: MutexGuard<'a, Table>,
        deadline_ns: u64,
    ) -> Result<MutexGuard<'a, Table>, BlockError> {
        let (table, waited) = self.cache.changed.wait_until(table, deadline_ns);
        match waited {
            WaitResult::TimedOut => Err(BlockError::Io),
            WaitResult::Woken => Ok(table),
        }
    }

    /// Writes back every dirty buffer of `disk` and waits for them, then
    /// flushes the device (when it has a write cache).
    ///
    /// # Errors
    /// [`BlockError::Io`] when a write-back or the flush failed (the
    /// buffers that did not reach the disk stay dirty) or timed out.
    pub fn sync_disk(
        self: &Arc<Self>,
        context: &Context<'_>,
        disk: &Arc<Disk>,
    ) -> Result<(), BlockError> {
        let deadline = context.now_ns().saturating_add(IO_TIMEOUT_NS);
        let index = disk.index();
        let mut table = self.cache.table.lock(context);
        while table.writing_on(index) > 0 {
            table = self.wait_change(table, deadline)?;
        }
        let keys = table.dirty_keys(usize::MAX, |key, _| key.disk == index);
        let (table, batch) = self.start_writeback(context, table, keys);
        drop(self.wait_batch(table, &batch, deadline)?);
        if disk.geometry().flush && !disk.geometry().read_only {
            disk.transfer(context, Operation::Flush, 0, Vec::new())?;
        }
        self.cache.counters.syncs.fetch_add(1, Relaxed);
        Ok(())
    }

    /// [`Block::sync_disk`] for every disk; the first error, after trying
    /// them all.
    ///
    /// # Errors
    /// As [`Block::sync_disk`].
    pub fn sync_all(self: &Arc<Self>, context: &Context<'_>) -> Result<(), BlockError> {
        let mut outcome = Ok(());
        for disk in self.disks(context) {
            let result = self.sync_disk(context, &disk);
            outcome = outcome.and(result);
        }
        outcome
    }

    /// The syncer thread: every [`SYNC_INTERVAL_NS`] (or when woken under
    /// pressure) it starts writing back the buffers dirty for longer than
    /// [`DIRTY_EXPIRE_NS`] (under pressure, all); it never waits for them.
    pub(crate) fn run_syncer(self: &Arc<Self>, context: &Context<'_>) {
        let kernel = context.kernel();
        let mut table = self.cache.table.lock(context);
        while !kernel.is_shutting_down() {
            let deadline = context.now_ns().saturating_add(SYNC_INTERVAL_NS);
            let mut pressure = table.take_pressure();
            if !pressure {
                table = self.cache.syncer.wait_until(table, deadline).0;
                pressure = table.take_pressure();
            }
            if kernel.is_shutting_down() {
                return;
            }
            let now = context.now_ns();
            let expired =
                |_: &Key, since: u64| pressure || now.saturating_sub(since) >= DIRTY_EXPIRE_NS;
            let keys = table.dirty_keys(usize::MAX, expired);
            if !keys.is_empty() {
                table = self.start_writeback(context, table, keys).0;
            }
        }
    }

    /// Wakes the syncer to see the kernel shutting down (under the table's
    /// lock, so it is either asleep or about to look at the flag).
    pub(crate) fn stop_syncer(&self, context: &Context<'_>) {
        let _table = self.cache.table.lock(context);
        self.cache.syncer.notify_all(context);
    }

    /// Asks the syncer to write back everything dirty now.
    pub(super) fn wake_syncer(&self, context: &Context<'_>, table: &mut Table) {
        table.set_pressure();
        self.cache.syncer.notify_one(context);
    }
}

/// The first sector of `key`'s block on `disk`.
pub(super) fn sector_of(disk: &Disk, key: &Key) -> u64 {
    let per_block = u64::from(key.block_size / disk.geometry().sector_size);
    key.block * per_block
}
