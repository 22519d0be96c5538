//! The buffer cache: blocks of every disk in memory, written back later,
//! within a bound.
//!
//! After NetBSD's bufcache, cut down to what a file system needs:
//!
//! - **Buffers** are whole blocks of a volume's block size, kept in one
//!   table (`table.rs`) under one kernel mutex. Reads and writes copy
//!   between the caller's bytes and the buffer; while the device has a
//!   buffer (reading it in, writing it back) others wait for it on one
//!   condition variable, so the device's bytes are never shared.
//! - **Write-back.** A write only dirties its buffer. Dirty buffers go to
//!   the disk when a caller syncs (`io.rs` → `writeback.rs`), when the
//!   syncer thread finds them older than [`DIRTY_EXPIRE_NS`], when room
//!   is needed, or at shutdown. A sync writes back every dirty buffer of
//!   the disk, waits until all are on the device, and only then sends
//!   the device a flush: the order a file system's consistency rests on.
//!   A failed write-back leaves its buffer dirty and fails the sync with
//!   EIO; nothing is dropped silently.
//! - **The bound.** The buffers' bytes never pass the cache's bound
//!   (boot parameter `bcache=SIZE`, default an eighth of the kernel's
//!   memory limit within [`MIN_LIMIT`]..=[`MAX_LIMIT`]). Each buffer is
//!   also charged to the memory account `bcache`. Room is made by
//!   dropping the least recently used clean buffers, then by writing back
//!   the oldest dirty ones; under memory pressure the pagedaemon takes
//!   clean buffers back (`reclaim.rs`) and wakes the syncer.
//! - **Read-ahead.** Sequential reads keep up to [`READ_AHEAD`] blocks
//!   requested ahead of the reader, topped up a whole request at a time.
//! - **Runs.** Consecutive blocks read or written back together go to the
//!   disk as one request of up to [`MAX_RUN_BYTES`] (`runs.rs`).

mod io;
mod read;
mod reclaim;
mod runs;
pub(crate) mod table;
mod writeback;

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use base::memory::Account;
use base::sync::{Condvar, Mutex};

pub use runs::MAX_RUN_BYTES;
use table::Table;

/// The smallest default bound.
pub const MIN_LIMIT: usize = 256 * 1024;
/// The largest default bound.
pub const MAX_LIMIT: usize = 64 * 1024 * 1024;
/// What each buffer costs besides its bytes (table entry, orders).
pub const BUFFER_OVERHEAD: usize = 128;
/// Dirty buffers older than this are written back by the syncer.
pub const DIRTY_EXPIRE_NS: u64 = 5_000_000_000;
/// How often the syncer looks.
pub const SYNC_INTERVAL_NS: u64 = 1_000_000_000;
/// Blocks requested ahead of a sequential reader, at most.
pub const READ_AHEAD: u64 = 256;
/// Dirty buffers written back at once to make room.
pub const ROOM_BATCH: usize = 32;

/// The cache's counters, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// The bound on the buffers' bytes.
    pub limit: usize,
    /// Bytes in buffers now.
    pub bytes: usize,
    /// The most bytes held at once.
    pub peak_bytes: usize,
    /// Buffers now.
    pub buffers: usize,
    /// Bytes of dirty buffers now.
    pub dirty_bytes: usize,
    /// Reads and writes that found their block.
    pub hits: u64,
    /// Reads and writes that did not.
    pub misses: u64,
    /// Blocks read ahead.
    pub read_ahead: u64,
    /// Buffers written back.
    pub writebacks: u64,
    /// Write-backs that failed (their buffers stay dirty).
    pub write_errors: u64,
    /// Reads that failed.
    pub read_errors: u64,
    /// Clean buffers dropped to make room.
    pub evictions: u64,
    /// Bytes given back to the pagedaemon.
    pub reclaimed_bytes: u64,
    /// Syncs (write-back, then flush) completed.
    pub syncs: u64,
}

#[derive(Debug, Default)]
struct Counters {
    peak_bytes: AtomicUsize,
    hits: AtomicU64,
    misses: AtomicU64,
    read_ahead: AtomicU64,
    writebacks: AtomicU64,
    write_errors: AtomicU64,
    read_errors: AtomicU64,
    evictions: AtomicU64,
    reclaimed_bytes: AtomicU64,
    syncs: AtomicU64,
}

/// The cache's state: the table under its lock, and the waits on it.
#[derive(Debug)]
pub(crate) struct Cache {
    account: Account,
    limit: usize,
    table: Mutex<Table>,
    /// Notified whenever a buffer's I/O ends.
    changed: Condvar,
    /// The syncer sleeps here; woken under pressure and at shutdown.
    syncer: Condvar,
    counters: Counters,
}

impl Cache {
    /// An empty cache of at most `limit` bytes, charged to `account`.
    pub(crate) fn new(account: Account, limit: usize) -> Self {
        Self {
            account,
            limit,
            table: Mutex::new(Table::default()),
            changed: Condvar::new(),
            syncer: Condvar::new(),
            counters: Counters::default(),
        }
    }

    /// The counters, and the table's sizes if its lock is free.
    pub(crate) fn stats(&self, context: &base::Context<'_>) -> CacheStats {
        let c = &self.counters;
        let mut stats = CacheStats {
            limit: self.limit,
            peak_bytes: c.peak_bytes.load(Relaxed),
            hits: c.hits.load(Relaxed),
            misses: c.misses.load(Relaxed),
            read_ahead: c.read_ahead.load(Relaxed),
            writebacks: c.writebacks.load(Relaxed),
            write_errors: c.write_errors.load(Relaxed),
            read_errors: c.read_errors.load(Relaxed),
            evictions: c.evictions.load(Relaxed),
            reclaimed_bytes: c.reclaimed_bytes.load(Relaxed),
            syncs: c.syncs.load(Relaxed),
            ..CacheStats::default()
        };
        let table = self.table.lock(context);
        stats.bytes = table.bytes();
        stats.buffers = table.len();
        stats.dirty_bytes = table.dirty_bytes();
        stats
    }
}

/// The default bound for a kernel whose memory limit is `memory_limit`.
pub fn default_limit(memory_limit: usize) -> usize {
    (memory_limit / 8).clamp(MIN_LIMIT, MAX_LIMIT)
}
