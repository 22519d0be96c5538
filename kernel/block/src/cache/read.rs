//! Reads to the device: a miss and the blocks read ahead of a sequential
//! reader, one request per run of consecutive blocks (`runs.rs`).

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Relaxed;

use base::Context;

use super::READ_AHEAD;
use super::io::Guard;
use super::runs::runs;
use super::table::{Key, Sequence, Table};
use super::writeback::sector_of;
use crate::disk::Disk;
use crate::driver::{Completion, Operation, Request};
use crate::error::BlockError;
use crate::registry::Block;

impl Block {
    /// Submits reads for `keys` (buffers inserted as reading), one
    /// request per run of consecutive blocks.
    pub(super) fn start_reads<'a>(
        self: &'a Arc<Self>,
        context: &'a Context<'_>,
        table: Guard<'a>,
        disk: &Arc<Disk>,
        keys: Vec<Key>,
    ) -> Guard<'a> {
        if keys.is_empty() {
            return table;
        }
        drop(table);
        for run in runs(keys.into_iter().map(|key| (key, ())).collect()) {
            let keys = run.into_iter().map(|(key, ())| key).collect();
            self.read_run(context, disk, keys);
        }
        self.cache.table.lock(context)
    }

    /// One request for a run of consecutive blocks, or one per block when
    /// no buffer for the run can be had.
    fn read_run(self: &Arc<Self>, context: &Context<'_>, disk: &Arc<Disk>, keys: Vec<Key>) {
        let first = keys[0];
        let length = keys.len() * first.size();
        let buffer = match keys.len() {
            1 => Some(vec![0; length]),
            _ => super::runs::buffer(length),
        };
        let Some(buffer) = buffer else {
            for key in keys {
                self.read_run(context, disk, vec![key]);
            }
            return;
        };
        let (block, on) = (self.clone(), disk.clone());
        let completion = Completion::new(move |context, data, result| {
            match result {
                // Each block again alone, so one bad sector fails only its own.
                Err(_) if keys.len() > 1 => {
                    for key in keys {
                        block.read_run(context, &on, vec![key]);
                    }
                }
                _ => block.finish_reads(context, &keys, data, result),
            }
        });
        let request = Request {
            operation: Operation::Read,
            sector: sector_of(disk, &first),
            buffer,
            completion,
        };
        if let Err(refused) = disk.submit(context, request) {
            let Request {
                buffer, completion, ..
            } = refused.request;
            completion.complete(context, buffer, Err(refused.error));
        }
    }

    /// A read of the run `keys` is over: each block gets its part (a
    /// failed run of several blocks is read again block by block first).
    fn finish_reads(
        &self,
        context: &Context<'_>,
        keys: &[Key],
        data: Vec<u8>,
        result: Result<(), BlockError>,
    ) {
        let mut table = self.cache.table.lock(context);
        if result.is_err() {
            let errors = &self.cache.counters.read_errors;
            errors.fetch_add(keys.len() as u64, Relaxed);
        }
        match keys {
            [key] => table.finish_read(key, result.map(|()| data)),
            _ => {
                for (key, part) in keys.iter().zip(data.chunks_exact(keys[0].size())) {
                    table.finish_read(key, result.map(|()| part.to_vec()));
                }
            }
        }
        self.cache.changed.notify_all(context);
    }

    /// After a read of `key` that followed the one before on its disk,
    /// keeps up to [`READ_AHEAD`] blocks requested ahead (a quarter of the
    /// bound at most), in room clean buffers can make; `demand` (the
    /// block a miss is waiting for) goes in the same requests.
    pub(super) fn read_ahead<'a>(
        self: &'a Arc<Self>,
        context: &'a Context<'_>,
        mut table: Guard<'a>,
        disk: &Arc<Disk>,
        key: Key,
        before: Sequence,
        demand: Option<Key>,
    ) -> Guard<'a> {
        let mut keys: Vec<Key> = demand.into_iter().collect();
        keys.extend(self.plan_ahead(&mut table, disk, key, before));
        self.start_reads(context, table, disk, keys)
    }

    /// The blocks to read ahead after `key` (inserted as reading).
    fn plan_ahead(&self, table: &mut Table, disk: &Disk, key: Key, before: Sequence) -> Vec<Key> {
        let window = READ_AHEAD.min((self.cache.limit / 4 / key.size()) as u64);
        let blocks = disk.geometry().bytes() / u64::from(key.block_size);
        let sequential = key.block == before.last.wrapping_add(1);
        if !sequential || window == 0 || before.ahead >= key.block + window / 2 {
            return Vec::new();
        }
        let first = before.ahead.max(key.block) + 1;
        let last = (key.block + window).min(blocks.saturating_sub(1));
        let mut keys = Vec::new();
        for block in first..=last {
            let ahead = Key { block, ..key };
            if table.get(&ahead).is_some() {
                continue;
            }
            if !self.try_room(table, &ahead) {
                break;
            }
            table.insert_reading(ahead);
            keys.push(ahead);
        }
        self.note_peak(table);
        table.note_ahead(key.disk, last.max(before.ahead));
        let counters = &self.cache.counters;
        counters.read_ahead.fetch_add(keys.len() as u64, Relaxed);
        keys
    }
}
