//! Accounts: who holds the kernel's memory, one named share per subsystem.
//!
//! Every byte counted against the limit is charged to an [`Account`]:
//! pages to `pages` (or to the account that asked for them), each pool's
//! chunks to the pool's name, thread stacks to `threads`, TCP's control
//! blocks and buffers to `tcp`, and so on (NetBSD's `vmstat -m` idea). A
//! charge is two relaxed atomic adds, one against the limit and one to the
//! account, so a subsystem can charge on its data path.
//!
//! There are at most [`ACCOUNTS`] names; a name past those shares the last
//! slot, `other`. Names are registered once and never removed.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use hypercall::MemoryError;

use super::{Memory, Pages};

/// Accounts a kernel can name.
pub const ACCOUNTS: usize = 16;

/// What the last slot is called when every other one is taken.
const OVERFLOW_NAME: &str = "other";

/// One account's counters.
#[derive(Debug, Default)]
pub(super) struct Counters {
    bytes: AtomicUsize,
    refused: AtomicU64,
}

/// The account slots of one [`Memory`].
#[derive(Debug)]
pub(super) struct Registry {
    names: spin::Mutex<Vec<String>>,
    counters: [Counters; ACCOUNTS],
}

impl Registry {
    /// A registry whose first account is `first` (index 0).
    pub(super) fn new(first: &str) -> Self {
        let mut names = Vec::with_capacity(ACCOUNTS);
        names.push(String::from(first));
        Self {
            names: spin::Mutex::new(names),
            counters: Default::default(),
        }
    }

    /// The slot of `name`, registering it on first use.
    pub(super) fn index_of(&self, name: &str) -> usize {
        let mut names = self.names.lock();
        if let Some(index) = names.iter().position(|known| known == name) {
            return index;
        }
        if names.len() < ACCOUNTS - 1 {
            names.push(String::from(name));
            return names.len() - 1;
        }
        if names.len() == ACCOUNTS - 1 {
            names.push(String::from(OVERFLOW_NAME));
        }
        ACCOUNTS - 1
    }

    pub(super) fn counters(&self, index: usize) -> &Counters {
        &self.counters[index]
    }

    /// Every account's name, bytes and refusals, in registration order.
    pub(super) fn snapshot(&self) -> Vec<AccountStats> {
        let names = self.names.lock().clone();
        names
            .into_iter()
            .zip(&self.counters)
            .map(|(name, counters)| AccountStats {
                name,
                bytes: counters.bytes.load(Relaxed),
                refused: counters.refused.load(Relaxed),
            })
            .collect()
    }
}

/// One account as `/stats` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStats {
    /// The subsystem.
    pub name: String,
    /// Bytes charged now.
    pub bytes: usize,
    /// Charges refused (the limit, or the host, said no).
    pub refused: u64,
}

/// A subsystem's handle for charging memory against the kernel's limit.
#[derive(Clone)]
pub struct Account {
    memory: Arc<Memory>,
    index: usize,
}

impl Account {
    pub(super) fn new(memory: Arc<Memory>, index: usize) -> Self {
        Self { memory, index }
    }

    /// Counts `bytes` against the limit for this account, or refuses
    /// (and wakes the pagedaemon). Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] past the limit.
    #[inline]
    pub fn charge(&self, bytes: usize) -> Result<(), MemoryError> {
        match self.memory.reserve(bytes) {
            Ok(()) => {
                self.counters().bytes.fetch_add(bytes, Relaxed);
                Ok(())
            }
            Err(error) => {
                self.counters().refused.fetch_add(1, Relaxed);
                Err(error)
            }
        }
    }

    /// Gives back `bytes` charged to this account before.
    #[inline]
    pub fn release(&self, bytes: usize) {
        self.counters().bytes.fetch_sub(bytes, Relaxed);
        self.memory.release(bytes);
    }

    /// Allocates `count` zeroed pages charged to this account.
    ///
    /// # Errors
    /// As [`Memory::alloc_pages`].
    pub fn alloc_pages(&self, count: usize) -> Result<Pages, MemoryError> {
        self.memory.alloc_pages_for(self, count)
    }

    /// Bytes charged to this account now.
    pub fn bytes(&self) -> usize {
        self.counters().bytes.load(Relaxed)
    }

    /// The memory this account draws on.
    pub fn memory(&self) -> &Arc<Memory> {
        &self.memory
    }

    pub(super) fn note_refused(&self) {
        self.counters().refused.fetch_add(1, Relaxed);
    }

    fn counters(&self) -> &Counters {
        self.memory.accounts.counters(self.index)
    }
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Account")
            .field("index", &self.index)
            .field("bytes", &self.bytes())
            .finish()
    }
}
