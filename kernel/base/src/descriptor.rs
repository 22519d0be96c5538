//! The descriptor table: small numbers standing for open objects.
//!
//! A process context ([`crate::Process`]) owns one table. Each open
//! descriptor names an object that some faction made (a file of the vfs, a
//! socket of the net faction): the base knows them only as
//! [`Descriptor`]s, `Any` underneath, and a faction gets its own type back
//! with [`DescriptorTable::get_as`]. Factions never see each other's types,
//! so they stay orthogonal while sharing one numbering.
//!
//! Numbers are POSIX's: the lowest free one is handed out first. An object
//! lives as long as a descriptor (or a call in progress) holds it: closing
//! one of two duplicates leaves the other working, and an object's `Drop`
//! is its last close. Each open descriptor is charged [`ENTRY_BYTES`] to
//! the `descriptors` account; with the memory refused, no descriptor.

use alloc::collections::BinaryHeap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::cmp::Reverse;
use core::fmt;

use crate::memory::Account;

/// Descriptors a process may hold open at once (RLIMIT_NOFILE): 2^20, as
/// many as the net faction allows sockets, so that memory (each entry is
/// charged) is the real bound and one server process can hold every
/// connection.
pub const MAX_DESCRIPTORS: usize = 1 << 20;

/// What one open descriptor costs: its slot and the object's `Arc` counts.
pub const ENTRY_BYTES: usize = core::mem::size_of::<Option<Arc<dyn Descriptor>>>() + 16;

/// A descriptor number, as `open` and `socket` return them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(pub u32);

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An object a descriptor can stand for. Its `Drop` is its last close:
/// it must not need the virtual CPU (a process may end outside the
/// kernel), so a faction whose close does defers that work.
pub trait Descriptor: Any + Send + Sync + fmt::Debug {
    /// What it is, for diagnostics: `"file"`, `"socket"`, …
    fn kind(&self) -> &'static str;
}

/// Why a descriptor operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescriptorError {
    /// No open descriptor by that number (EBADF).
    BadDescriptor,
    /// The descriptor stands for another kind of object (a socket call on
    /// a file: ENOTSOCK, a file call on a socket).
    WrongKind,
    /// The process holds as many as its limit allows already (EMFILE).
    TooMany,
    /// The memory for the entry was refused (ENOMEM).
    OutOfMemory,
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadDescriptor => "bad descriptor",
            Self::WrongKind => "descriptor of another kind",
            Self::TooMany => "too many open descriptors",
            Self::OutOfMemory => "no memory for a descriptor",
        })
    }
}

impl core::error::Error for DescriptorError {}

/// One process's descriptors.
///
/// The slots grow to the highest number ever open and stay; the free ones
/// are kept in a min-heap, so finding the lowest costs a logarithm, not a
/// scan of every open descriptor (a server with 10,000 connections opens
/// and closes one per request).
pub struct DescriptorTable {
    entries: Vec<Option<Arc<dyn Descriptor>>>,
    /// The numbers of the empty slots; room for every slot is reserved
    /// when a slot is added, so a close never allocates.
    free: BinaryHeap<Reverse<u32>>,
    open: usize,
    /// Its own bound (RLIMIT_NOFILE), at most [`MAX_DESCRIPTORS`].
    limit: usize,
    account: Account,
}

impl DescriptorTable {
    /// An empty table charging its entries to `account`.
    pub fn new(account: Account) -> Self {
        Self {
            entries: Vec::new(),
            free: BinaryHeap::new(),
            open: 0,
            limit: MAX_DESCRIPTORS,
            account,
        }
    }

    /// Opens the lowest free descriptor for `object`.
    ///
    /// # Errors
    /// [`DescriptorError::TooMany`], [`DescriptorError::OutOfMemory`].
    pub fn insert(&mut self, object: Arc<dyn Descriptor>) -> Result<Fd, DescriptorError> {
        if self.open >= self.limit {
            return Err(DescriptorError::TooMany);
        }
        self.account
            .charge(ENTRY_BYTES)
            .map_err(|_| DescriptorError::OutOfMemory)?;
        let index = match self.free.pop() {
            Some(Reverse(index)) => index,
            None => self
                .add_slot()
                .inspect_err(|_| self.account.release(ENTRY_BYTES))?,
        };
        self.entries[index as usize] = Some(object);
        self.open += 1;
        Ok(Fd(index))
    }

    /// A new empty slot at the end, with room in `free` for it.
    fn add_slot(&mut self) -> Result<u32, DescriptorError> {
        let index = u32::try_from(self.entries.len()).map_err(|_| DescriptorError::TooMany)?;
        let grown = self.entries.len() + 1;
        self.entries
            .try_reserve(1)
            .map_err(|_| DescriptorError::OutOfMemory)?;
        self.free
            .try_reserve(grown - self.free.len())
            .map_err(|_| DescriptorError::OutOfMemory)?;
        self.entries.push(None);
        Ok(index)
    }

    /// The object behind `fd`.
    ///
    /// # Errors
    /// [`DescriptorError::BadDescriptor`].
    pub fn get(&self, fd: Fd) -> Result<Arc<dyn Descriptor>, DescriptorError> {
        let slot = self.entries.get(fd.0 as usize);
        slot.and_then(Option::clone)
            .ok_or(DescriptorError::BadDescriptor)
    }

    /// The object behind `fd` as its own type `T`.
    ///
    /// # Errors
    /// [`DescriptorError::BadDescriptor`], [`DescriptorError::WrongKind`].
    pub fn get_as<T: Descriptor>(&self, fd: Fd) -> Result<Arc<T>, DescriptorError> {
        let object: Arc<dyn Any + Send + Sync> = self.get(fd)?;
        object
            .downcast::<T>()
            .map_err(|_| DescriptorError::WrongKind)
    }

    /// Closes `fd`; returns its object (dropped by the caller, after any
    /// lock on the table is released).
    ///
    /// # Errors
    /// [`DescriptorError::BadDescriptor`].
    pub fn remove(&mut self, fd: Fd) -> Result<Arc<dyn Descriptor>, DescriptorError> {
        let slot = self.entries.get_mut(fd.0 as usize);
        let object = slot
            .and_then(Option::take)
            .ok_or(DescriptorError::BadDescriptor)?;
        self.open -= 1;
        self.account.release(ENTRY_BYTES);
        self.free.push(Reverse(fd.0));
        Ok(object)
    }

    /// A second descriptor for `fd`'s object (dup).
    ///
    /// # Errors
    /// As [`DescriptorTable::get`] and [`DescriptorTable::insert`].
    pub fn duplicate(&mut self, fd: Fd) -> Result<Fd, DescriptorError> {
        let object = self.get(fd)?;
        self.insert(object)
    }

    /// A copy with the same objects at the same numbers, charged to this
    /// table's account (a fork's: both tables hold each object).
    ///
    /// # Errors
    /// [`DescriptorError::OutOfMemory`].
    pub fn copy(&self) -> Result<DescriptorTable, DescriptorError> {
        let mut copy = DescriptorTable::new(self.account.clone());
        copy.limit = self.limit;
        copy.fill_from(self)?;
        Ok(copy)
    }

    /// Takes `other`'s objects at their numbers into this empty table,
    /// charged to this table's account; its own limit stays.
    ///
    /// # Errors
    /// [`DescriptorError::TooMany`] when this table is not empty or
    /// `other` holds more than its limit, [`DescriptorError::OutOfMemory`].
    pub fn inherit(&mut self, other: &DescriptorTable) -> Result<(), DescriptorError> {
        if !self.entries.is_empty() || other.open > self.limit {
            return Err(DescriptorError::TooMany);
        }
        self.fill_from(other)
    }

    fn fill_from(&mut self, other: &DescriptorTable) -> Result<(), DescriptorError> {
        let out_of_memory = |_| DescriptorError::OutOfMemory;
        self.entries
            .try_reserve_exact(other.entries.len())
            .map_err(out_of_memory)?;
        self.free
            .try_reserve(other.entries.len())
            .map_err(out_of_memory)?;
        self.account
            .charge(other.open * ENTRY_BYTES)
            .map_err(|_| DescriptorError::OutOfMemory)?;
        self.entries.extend(other.entries.iter().cloned());
        self.free.extend(other.free.iter().copied());
        self.open = other.open;
        Ok(())
    }

    /// Closes every descriptor; returns the objects for the caller to drop.
    pub fn take_all(&mut self) -> Vec<Arc<dyn Descriptor>> {
        let objects: Vec<_> = self.entries.drain(..).flatten().collect();
        self.free.clear();
        self.account.release(self.open * ENTRY_BYTES);
        self.open = 0;
        objects
    }

    /// Bounds the table to `limit` open descriptors (at most
    /// [`MAX_DESCRIPTORS`]); those open stay open.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(MAX_DESCRIPTORS);
    }

    /// The numbers open now, lowest first.
    pub fn numbers(&self) -> Vec<Fd> {
        let open = self.entries.iter().zip(0u32..);
        open.filter(|(entry, _)| entry.is_some())
            .map(|(_, number)| Fd(number))
            .collect()
    }

    /// Open descriptors.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }
}

impl Drop for DescriptorTable {
    fn drop(&mut self) {
        self.account.release(self.open * ENTRY_BYTES);
    }
}

impl fmt::Debug for DescriptorTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DescriptorTable")
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}
