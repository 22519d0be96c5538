//! Kernel memory: one limit over every byte the kernel holds, by account.
//!
//! [`Memory`] counts bytes against the kernel's limit (boot parameter
//! `mem=`, default: all the host offers). Whatever the kernel holds is
//! charged to an [`Account`] first: pages from the host ([`Pages`]),
//! pools' chunks ([`Pool`], pool(9)), and the subsystems' own heap
//! structures, which they charge explicitly because the global allocator
//! belongs to the image's host and the kernel cannot wrap it (TCP charges
//! its control blocks, buffers and table entries; the socket layer its
//! descriptors; the base its thread stacks). Past the limit, or when the
//! host has nothing left, a charge fails with [`MemoryError::Exhausted`]
//! and the caller decides what to do: drop a packet, refuse a connection.
//! Nothing here panics on exhaustion, and nothing here blocks.
//!
//! Pressure is handled by the pagedaemon ([`pagedaemon`]): crossing the
//! high-water mark (90 % of the limit) or a refused charge wakes it, and
//! it asks pools and registered reclaimers ([`Reclaim`]) for memory back.
//! A caller that may sleep retries once after a pass
//! ([`Memory::wait_for_reclaim`]).

mod account;
pub mod pagedaemon;
mod pages;
mod pool;
mod pressure;

use alloc::sync::Arc;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

pub use account::{ACCOUNTS, Account, AccountStats};
pub use hypercall::MemoryError;
use hypercall::{Hypercalls, PAGE_SIZE};
pub use pages::Pages;
pub use pool::{Pool, PoolBlock, PoolStats};
pub use pressure::{PagedaemonStats, RECLAIM_WAIT_NS, Reclaim, ReclaimLevel};

/// The share of the limit at which the pagedaemon is woken, in percent.
pub const HIGH_WATER_PERCENT: usize = 90;
/// The share of the limit a normal reclaim pass brings use under.
pub const LOW_WATER_PERCENT: usize = 80;

/// The kernel's memory limit and its accounting.
pub struct Memory {
    hyper: Arc<dyn Hypercalls>,
    limit: usize,
    high_water: usize,
    low_water: usize,
    in_use: AtomicUsize,
    peak: AtomicUsize,
    failures: AtomicU64,
    accounts: account::Registry,
    pressure: pressure::Pressure,
}

/// A snapshot of the kernel's memory accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStats {
    /// The most the kernel may use, in bytes.
    pub limit: usize,
    /// Bytes charged now, all accounts.
    pub in_use: usize,
    /// The highest `in_use` seen.
    pub peak: usize,
    /// Charges refused (limit reached or host exhausted).
    pub failures: u64,
}

impl Memory {
    /// A memory of `limit` bytes over `hyper`; its first account is
    /// `pages`, where [`Memory::alloc_pages`] charges.
    pub fn new(hyper: Arc<dyn Hypercalls>, limit: usize) -> Self {
        Self {
            hyper,
            limit,
            high_water: limit / 100 * HIGH_WATER_PERCENT,
            low_water: limit / 100 * LOW_WATER_PERCENT,
            in_use: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            failures: AtomicU64::new(0),
            accounts: account::Registry::new("pages"),
            pressure: pressure::Pressure::new(),
        }
    }

    /// The account called `name` (registered on first use).
    pub fn account(self: &Arc<Self>, name: &str) -> Account {
        Account::new(self.clone(), self.accounts.index_of(name))
    }

    /// Allocates `count` zeroed, page-aligned pages, charged to `pages`.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] past the limit or when the host has no
    /// block that large; [`MemoryError::InvalidRequest`] for zero pages.
    pub fn alloc_pages(self: &Arc<Self>, count: usize) -> Result<Pages, MemoryError> {
        self.alloc_pages_for(&Account::new(self.clone(), 0), count)
    }

    fn alloc_pages_for(&self, account: &Account, count: usize) -> Result<Pages, MemoryError> {
        let bytes = count
            .checked_mul(PAGE_SIZE)
            .filter(|&b| b > 0)
            .ok_or(MemoryError::InvalidRequest)?;
        account.charge(bytes)?;
        match self.hyper.memory_allocate(bytes, PAGE_SIZE) {
            // SAFETY: the host just returned `block` for this request.
            #[allow(unsafe_code, reason = "the block is the host's answer")]
            Ok(block) => Ok(unsafe { Pages::new(account.clone(), block, count) }),
            Err(error) => {
                account.release(bytes);
                account.note_refused();
                self.failures.fetch_add(1, Relaxed);
                self.pressure.request(true);
                Err(error)
            }
        }
    }

    /// Counts `bytes` against the limit, or refuses. Crossing the
    /// high-water mark or a refusal asks the pagedaemon for a pass.
    #[inline]
    fn reserve(&self, bytes: usize) -> Result<(), MemoryError> {
        let mut current = self.in_use.load(Relaxed);
        loop {
            let Some(next) = current.checked_add(bytes).filter(|&n| n <= self.limit) else {
                return Err(self.refuse());
            };
            match self
                .in_use
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Relaxed);
                    if next >= self.high_water && current < self.high_water {
                        self.pressure.request(false);
                    }
                    return Ok(());
                }
                Err(actual) => current = actual,
            }
        }
    }

    #[cold]
    fn refuse(&self) -> MemoryError {
        self.failures.fetch_add(1, Relaxed);
        self.pressure.request(true);
        MemoryError::Exhausted
    }

    #[inline]
    fn release(&self, bytes: usize) {
        self.in_use.fetch_sub(bytes, Relaxed);
    }

    /// Bytes charged now.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Relaxed)
    }

    /// Whether use is at or above the high-water mark.
    pub fn above_high_water(&self) -> bool {
        self.in_use() >= self.high_water
    }

    fn low_water(&self) -> usize {
        self.low_water
    }

    /// The current accounting.
    pub fn stats(&self) -> MemoryStats {
        MemoryStats {
            limit: self.limit,
            in_use: self.in_use(),
            peak: self.peak.load(Relaxed),
            failures: self.failures.load(Relaxed),
        }
    }

    /// Every account with its bytes and refusals.
    pub fn accounts(&self) -> alloc::vec::Vec<AccountStats> {
        self.accounts.snapshot()
    }

    /// Writes the accounting as `memory name value` and `pagedaemon name
    /// value` lines (for `/stats`): totals, `<account>_bytes` and
    /// `<account>_refused` per account, then the pagedaemon's counters.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_stats(&self, out: &mut dyn Write) -> fmt::Result {
        let stats = self.stats();
        writeln!(out, "memory in_use {}", stats.in_use)?;
        writeln!(out, "memory peak {}", stats.peak)?;
        writeln!(out, "memory limit {}", stats.limit)?;
        writeln!(out, "memory failures {}", stats.failures)?;
        for account in self.accounts() {
            writeln!(out, "memory {}_bytes {}", account.name, account.bytes)?;
            writeln!(out, "memory {}_refused {}", account.name, account.refused)?;
        }
        let daemon = self.pagedaemon_stats();
        writeln!(out, "pagedaemon requests {}", daemon.requests)?;
        writeln!(out, "pagedaemon passes {}", daemon.passes)?;
        writeln!(out, "pagedaemon reclaimed_bytes {}", daemon.reclaimed_bytes)?;
        writeln!(out, "pagedaemon waits {}", daemon.waits)
    }

    pub(crate) fn hypercalls(&self) -> &dyn Hypercalls {
        &*self.hyper
    }
}

impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memory")
            .field("stats", &self.stats())
            .finish()
    }
}
