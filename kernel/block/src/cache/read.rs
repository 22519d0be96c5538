//! Reads to the device: a miss and the blocks read ahead of a sequential
//! reader, one request per run of consecutive blocks (`runs.rs`).
//!
//! A run's request has one segment per block: the buffer each block will
//! be kept in, so nothing is copied when it ends. The buffers are those
//! eviction just dropped to make room for the run, when they fit, else
//! new ones.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Relaxed;

use base::Context;

use super::io::{Guard, Spares};
use super::runs::runs;
use super::table::{Key, Sequence, Table};
use super::writeback::sector_of;
use super::{MAX_RUN_BYTES, READ_AHEAD};
use crate::disk::Disk;
use crate::driver::{Completion, Operation, Request, Segments};
use crate::error::BlockError;
use crate::registry::Block;

/// A block to read, and the bytes it may be read into.
type Planned = (Key, Option<Vec<u8>>);

impl Block {
    /// Submits reads for `planned` (buffers inserted as reading), one
    /// request per run of consecutive blocks.
    pub(super) fn start_reads<'a>(
        self: &'a Arc<Self>,
        context: &'a Context<'_>,
        table: Guard<'a>,
        disk: &Arc<Disk>,
        planned: Vec<Planned>,
    ) -> Guard<'a> {
        if planned.is_empty() {
            return table;
        }
        drop(table);
        for run in runs(planned) {
            let (keys, buffers) = run
                .into_iter()
                .map(|(key, bytes)| {
                    let fits = bytes.filter(|bytes| bytes.len() == key.size());
                    (key, fits.unwrap_or_else(|| vec![0; key.size()]))
                })
                .unzip();
            self.read_run(context, disk, keys, buffers);
        }
        self.cache.table.lock(context)
    }

    /// One request for a run of consecutive blocks, one segment each.
    fn read_run(
        self: &Arc<Self>,
        context: &Context<'_>,
        disk: &Arc<Disk>,
        keys: Vec<Key>,
        buffers: Segments,
    ) {
        let first = keys[0];
        let (block, on) = (self.clone(), disk.clone());
        let completion = Completion::new(move |context, buffers, result| {
            match result {
                // Each block again alone, so one bad sector fails only its own.
                Err(_) if keys.len() > 1 => {
                    for (key, bytes) in keys.into_iter().zip(buffers) {
                        block.read_run(context, &on, vec![key], vec![bytes]);
                    }
                }
                _ => block.finish_reads(context, &keys, buffers, result),
            }
        });
        let request = Request {
            operation: Operation::Read,
            sector: sector_of(disk, &first),
            buffers,
            completion,
        };
        if let Err(refused) = disk.submit(context, request) {
            refused.fail(context);
        }
    }

    /// A read of the run `keys` is over: each block gets its segment (a
    /// failed run of several blocks is read again block by block first).
    fn finish_reads(
        &self,
        context: &Context<'_>,
        keys: &[Key],
        buffers: Segments,
        result: Result<(), BlockError>,
    ) {
        let mut table = self.cache.table.lock(context);
        if result.is_err() {
            let errors = &self.cache.counters.read_errors;
            errors.fetch_add(keys.len() as u64, Relaxed);
        }
        let mut buffers = buffers.into_iter();
        for key in keys {
            let filled = buffers.next().filter(|bytes| bytes.len() == key.size());
            let outcome = result.and_then(|()| filled.ok_or(BlockError::Io));
            table.finish_read(key, outcome);
        }
        self.cache.changed.notify_all(context);
    }

    /// After a read of `key` that followed the one before on its disk,
    /// keeps up to [`READ_AHEAD`] blocks requested ahead (a quarter of the
    /// bound at most), in room clean buffers can make, topping the window
    /// up a whole request ([`MAX_RUN_BYTES`]) at a time: the device always
    /// has the next requests while the reader copies, and each request is
    /// as large as it may be. `demand` (the block a miss is waiting for)
    /// goes in the same requests.
    pub(super) fn read_ahead<'a>(
        self: &'a Arc<Self>,
        context: &'a Context<'_>,
        mut table: Guard<'a>,
        disk: &Arc<Disk>,
        key: Key,
        before: Sequence,
        demand: Option<Key>,
    ) -> Guard<'a> {
        let mut planned: Vec<Planned> = demand.map(|key| (key, None)).into_iter().collect();
        planned.extend(self.plan_ahead(&mut table, disk, key, before));
        self.start_reads(context, table, disk, planned)
    }

    /// The blocks to read ahead after `key` (inserted as reading), each
    /// with the bytes of a buffer dropped to make room for it, if any.
    fn plan_ahead(
        &self,
        table: &mut Table,
        disk: &Disk,
        key: Key,
        before: Sequence,
    ) -> Vec<Planned> {
        let window = READ_AHEAD.min(blocks_in(self.cache.limit / 4, key.size()));
        let step = blocks_in(MAX_RUN_BYTES, key.size()).clamp(1, window.max(1));
        let sequential = key.block == before.last.wrapping_add(1);
        // A request's worth short of the window: the next request goes.
        let short = before.ahead.saturating_add(step) <= key.block + window;
        if !sequential || window == 0 || !short {
            return Vec::new();
        }
        let blocks = disk.geometry().bytes() / u64::from(key.block_size);
        let first = before.ahead.max(key.block) + 1;
        let last = (key.block + window).min(blocks.saturating_sub(1));
        let mut keys = Vec::new();
        let mut spares = Spares::new();
        for block in first..=last {
            let ahead = Key { block, ..key };
            if table.get(&ahead).is_some() {
                continue;
            }
            if !self.try_room(table, &ahead, &mut spares) {
                break;
            }
            table.insert_reading(ahead);
            keys.push((ahead, spares.pop()));
        }
        self.note_peak(table);
        table.note_ahead(key.disk, last.max(before.ahead));
        let counters = &self.cache.counters;
        counters.read_ahead.fetch_add(keys.len() as u64, Relaxed);
        keys
    }
}

/// Blocks of `size` bytes in `bytes` (a shift for the usual sizes: this
/// runs for every block a sequential reader reads).
fn blocks_in(bytes: usize, size: usize) -> u64 {
    match size.is_power_of_two() {
        true => (bytes >> size.trailing_zeros()) as u64,
        false => (bytes / size.max(1)) as u64,
    }
}
