//! Kernel memory: pages and pools under a memory limit.
//!
//! [`Memory`] takes pages from the host ([`hypercall::Memory`]) and counts
//! them against the kernel's limit (boot parameter `mem=`, default: all the
//! host offers). Past the limit, or when the host has nothing left, an
//! allocation returns [`MemoryError::Exhausted`] and the caller decides what
//! to do: drop a packet, refuse a connection. Nothing here panics on
//! exhaustion. [`Pool`] carves fixed-size blocks out of pages (pool(9)).
//!
//! Small, long-lived control structures use Rust's `alloc` (the host's
//! global allocator) and are not counted; the limit governs the bulk: pages
//! and pool blocks.

mod pages;
mod pool;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

pub use hypercall::MemoryError;
use hypercall::{Hypercalls, PAGE_SIZE};
pub use pages::Pages;
pub use pool::{Pool, PoolBlock};

/// The kernel's page allocator and its accounting.
pub struct Memory {
    hyper: Arc<dyn Hypercalls>,
    limit: usize,
    in_use: AtomicUsize,
    peak: AtomicUsize,
    failures: AtomicU64,
}

/// A snapshot of the kernel's memory accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStats {
    /// The most the kernel may use, in bytes.
    pub limit: usize,
    /// Bytes in pages handed out now.
    pub in_use: usize,
    /// The highest `in_use` seen.
    pub peak: usize,
    /// Allocations refused (limit reached or host exhausted).
    pub failures: u64,
}

impl Memory {
    /// A page allocator over `hyper` limited to `limit` bytes.
    pub fn new(hyper: Arc<dyn Hypercalls>, limit: usize) -> Self {
        Self {
            hyper,
            limit,
            in_use: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// Allocates `count` zeroed, page-aligned pages.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] past the limit or when the host has no
    /// block that large; [`MemoryError::InvalidRequest`] for zero pages.
    pub fn alloc_pages(self: &Arc<Self>, count: usize) -> Result<Pages, MemoryError> {
        let bytes = count
            .checked_mul(PAGE_SIZE)
            .filter(|&b| b > 0)
            .ok_or(MemoryError::InvalidRequest)?;
        self.reserve(bytes)?;
        match self.hyper.memory_allocate(bytes, PAGE_SIZE) {
            // SAFETY: the host just returned `block` for this request.
            #[allow(unsafe_code, reason = "the block is the host's answer")]
            Ok(block) => Ok(unsafe { Pages::new(self.clone(), block, count) }),
            Err(error) => {
                self.release(bytes);
                self.failures.fetch_add(1, Relaxed);
                Err(error)
            }
        }
    }

    /// Counts `bytes` against the limit, or refuses.
    fn reserve(&self, bytes: usize) -> Result<(), MemoryError> {
        let mut current = self.in_use.load(Relaxed);
        loop {
            let next = current
                .checked_add(bytes)
                .filter(|&n| n <= self.limit)
                .ok_or_else(|| {
                    self.failures.fetch_add(1, Relaxed);
                    MemoryError::Exhausted
                })?;
            match self
                .in_use
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Relaxed);
                    return Ok(());
                }
                Err(actual) => current = actual,
            }
        }
    }

    fn release(&self, bytes: usize) {
        self.in_use.fetch_sub(bytes, Relaxed);
    }

    /// The current accounting.
    pub fn stats(&self) -> MemoryStats {
        MemoryStats {
            limit: self.limit,
            in_use: self.in_use.load(Relaxed),
            peak: self.peak.load(Relaxed),
            failures: self.failures.load(Relaxed),
        }
    }

    pub(crate) fn hypercalls(&self) -> &dyn Hypercalls {
        &*self.hyper
    }
}

impl core::fmt::Debug for Memory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Memory")
            .field("stats", &self.stats())
            .finish()
    }
}
