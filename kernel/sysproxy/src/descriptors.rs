//! One client's descriptors: its own small numbers for the kernel's
//! sockets, and the rule that all of them close when the client goes.
//!
//! A client names sockets by [`Descriptor`] numbers that only it can
//! use: another client's sockets are not reachable by guessing. The
//! table is bounded ([`crate::Limits::max_descriptors`]) and, once the
//! client has gone ([`Descriptors::close_all`]), refuses new entries, so
//! that a socket a call opens while the client is going is closed by that
//! call, not leaked.
//!
//! This belongs in the client's process context: when the vfs faction's
//! per-process descriptor table lands in the base, a remote client gets a
//! process context like a local application, its sockets live in that
//! table (one table for sockets and files), and this module goes.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use net::{Errno, Fd};
use sysproxy_proto::types::Descriptor;

/// The table.
#[derive(Debug)]
pub struct Descriptors {
    open: BTreeMap<u32, Fd>,
    limit: usize,
    closed: bool,
}

impl Descriptors {
    /// An empty table of at most `limit` descriptors.
    pub fn new(limit: usize) -> Self {
        Self {
            open: BTreeMap::new(),
            limit,
            closed: false,
        }
    }

    /// The socket behind `descriptor`.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn get(&self, descriptor: Descriptor) -> Result<Fd, Errno> {
        self.open
            .get(&descriptor.0)
            .copied()
            .ok_or(Errno::BadDescriptor)
    }

    /// Whether one more fits.
    ///
    /// # Errors
    /// [`Errno::TooManySockets`] when full (or the client is gone).
    pub fn check_room(&self) -> Result<(), Errno> {
        if self.closed || self.open.len() >= self.limit {
            return Err(Errno::TooManySockets);
        }
        Ok(())
    }

    /// Numbers `fd` with the lowest free number; gives it back when the
    /// table is full or the client is gone, for the caller to close.
    ///
    /// # Errors
    /// The `fd`, unnumbered.
    pub fn insert(&mut self, fd: Fd) -> Result<Descriptor, Fd> {
        if self.check_room().is_err() {
            return Err(fd);
        }
        let number = (0u32..)
            .zip(self.open.keys())
            .find(|(expected, used)| expected != *used)
            .map_or(self.open.len() as u32, |(free, _)| free);
        self.open.insert(number, fd);
        Ok(Descriptor(number))
    }

    /// Takes `descriptor` out of the table.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn remove(&mut self, descriptor: Descriptor) -> Result<Fd, Errno> {
        self.open.remove(&descriptor.0).ok_or(Errno::BadDescriptor)
    }

    /// The client is gone: every socket, to close; no more entries.
    pub fn close_all(&mut self) -> Vec<Fd> {
        self.closed = true;
        core::mem::take(&mut self.open).into_values().collect()
    }

    /// Open descriptors.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}
