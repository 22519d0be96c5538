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

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;

use crate::memory::Account;

/// Descriptors a process may hold open at once (RLIMIT_NOFILE).
pub const MAX_DESCRIPTORS: usize = 4096;

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
    /// The process holds [`MAX_DESCRIPTORS`] already (EMFILE).
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
pub struct DescriptorTable {
    entries: Vec<Option<Arc<dyn Descriptor>>>,
    open: usize,
    account: Account,
}

impl DescriptorTable {
    /// An empty table charging its entries to `account`.
    pub fn new(account: Account) -> Self {
        Self {
            entries: Vec::new(),
            open: 0,
            account,
        }
    }

    /// Opens the lowest free descriptor for `object`.
    ///
    /// # Errors
    /// [`DescriptorError::TooMany`], [`DescriptorError::OutOfMemory`].
    pub fn insert(&mut self, object: Arc<dyn Descriptor>) -> Result<Fd, DescriptorError> {
        if self.open >= MAX_DESCRIPTORS {
            return Err(DescriptorError::TooMany);
        }
        self.account
            .charge(ENTRY_BYTES)
            .map_err(|_| DescriptorError::OutOfMemory)?;
        let free = self.entries.iter().position(Option::is_none);
        let index = free.unwrap_or(self.entries.len());
        if index == self.entries.len() {
            self.entries.push(None);
        }
        self.entries[index] = Some(object);
        self.open += 1;
        Ok(Fd(u32::try_from(index).expect("below MAX_DESCRIPTORS")))
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
        while self.entries.last().is_some_and(Option::is_none) {
            self.entries.pop();
        }
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

    /// Closes every descriptor; returns the objects for the caller to drop.
    pub fn take_all(&mut self) -> Vec<Arc<dyn Descriptor>> {
        let objects: Vec<_> = self.entries.drain(..).flatten().collect();
        self.account.release(self.open * ENTRY_BYTES);
        self.open = 0;
        objects
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
