//! The descriptor table: which transport endpoint each socket is, and the
//! condition variable its callers sleep on.
//!
//! Events from the transports name their own handles; the table maps them
//! back to descriptors so that exactly the threads waiting on a socket
//! wake when it changes. Each descriptor is charged to the `sockets`
//! account ([`ENTRY_BYTES`]); with the memory refused, no descriptor.
//! The table also holds the system-call layer's one other state: the DNS
//! resolver's servers and cache.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use base::sync::Condvar;

use super::resolver::state::ResolverState;
use super::watch::{QUEUE_SLOT_BYTES, WatchSets, Watched};
use crate::memory::Budget;
use crate::slab::{Slab, SlabKey};
use crate::udp::UdpHandle;

/// Open sockets at most: 2^20, more than a gigabyte of memory holds, so
/// that memory is the real bound (each descriptor is charged, and so is
/// its transport endpoint): 10,000 idle connections fit in 64 MiB.
pub const MAX_SOCKETS: usize = 1 << 20;

/// What one descriptor holds: its slab slot, its condition variable (and
/// the `Arc`'s counts), its entry in the transport map (B-tree nodes
/// about half full) and its place in a watch set's queue (which grows by
/// doubling).
pub const ENTRY_BYTES: usize = core::mem::size_of::<Option<SocketEntry>>()
    + 8
    + core::mem::size_of::<Condvar>()
    + 16
    + 2 * core::mem::size_of::<(Transport, Fd)>()
    + 2 * QUEUE_SLOT_BYTES;

/// A socket descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(pub(crate) SlabKey);

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.index())
    }
}

/// The transport endpoint behind a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    /// A TCP connection or listener.
    Tcp(tcp::SocketHandle),
    /// A UDP endpoint.
    Udp(UdpHandle),
}

/// One open socket.
#[derive(Debug)]
pub struct SocketEntry {
    /// Its endpoint.
    pub transport: Transport,
    /// O_NONBLOCK.
    pub nonblocking: bool,
    /// An AF_INET6 socket (it was bound, connected or sent to an IPv6
    /// address, accepted from such a listener, or set IPV6_V6ONLY): the
    /// addresses it reports are IPv6, IPv4 ones mapped (`family.rs`).
    pub inet6: bool,
    /// Where its callers sleep.
    pub wait: Arc<Condvar>,
    /// The watch set that watches it, and for what.
    pub(crate) watched: Option<Watched>,
}

/// The table.
pub struct SocketTable {
    slab: Slab<SocketEntry>,
    budget: Budget,
    by_transport: BTreeMap<Transport, Fd>,
    /// Threads inside `poll` now; events wake them only when non-zero.
    pub pollers: u32,
    /// Reused for the events of one stack call.
    pub(crate) tcp_events: Vec<tcp::SocketHandle>,
    /// Reused for the events of one stack call.
    pub(crate) udp_events: Vec<UdpHandle>,
    /// The DNS resolver's servers and cache.
    pub resolver: ResolverState,
    /// The watch sets.
    pub(crate) watches: WatchSets,
}

impl SocketTable {
    /// An empty table charging its descriptors (and the resolver's
    /// cache) to `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            slab: Slab::new(MAX_SOCKETS),
            resolver: ResolverState::new(budget.clone()),
            watches: WatchSets::new(budget.clone()),
            budget,
            by_transport: BTreeMap::new(),
            pollers: 0,
            tcp_events: Vec::new(),
            udp_events: Vec::new(),
        }
    }

    /// Adds a socket for `transport`; `None` when the table is full or
    /// the memory is refused.
    pub fn insert(&mut self, transport: Transport) -> Option<Fd> {
        if !self.budget.charge(ENTRY_BYTES) {
            return None;
        }
        let entry = SocketEntry {
            transport,
            nonblocking: false,
            inet6: false,
            wait: Arc::new(Condvar::new()),
            watched: None,
        };
        let Some(key) = self.slab.insert(entry) else {
            self.budget.release(ENTRY_BYTES);
            return None;
        };
        self.by_transport.insert(transport, Fd(key));
        Some(Fd(key))
    }

    /// The socket `fd`.
    pub fn get(&self, fd: Fd) -> Option<&SocketEntry> {
        self.slab.get(fd.0)
    }

    /// The socket `fd`, writable.
    pub fn get_mut(&mut self, fd: Fd) -> Option<&mut SocketEntry> {
        self.slab.get_mut(fd.0)
    }

    /// Removes `fd`; returns what it was.
    pub fn remove(&mut self, fd: Fd) -> Option<SocketEntry> {
        let entry = self.slab.remove(fd.0)?;
        self.by_transport.remove(&entry.transport);
        self.budget.release(ENTRY_BYTES);
        Some(entry)
    }

    /// The socket of a transport endpoint.
    pub fn find(&self, transport: Transport) -> Option<&SocketEntry> {
        self.find_fd(transport).and_then(|fd| self.get(fd))
    }

    /// The descriptor of a transport endpoint.
    pub fn find_fd(&self, transport: Transport) -> Option<Fd> {
        self.by_transport.get(&transport).copied()
    }

    /// Every open socket, in slot order (`netstat`).
    pub fn iter(&self) -> impl Iterator<Item = (Fd, &SocketEntry)> {
        self.slab.iter().map(|(key, entry)| (Fd(key), entry))
    }

    /// Open sockets.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }
}

impl Drop for SocketTable {
    fn drop(&mut self) {
        self.budget.release(self.slab.len() * ENTRY_BYTES);
    }
}

impl core::fmt::Debug for SocketTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SocketTable").finish_non_exhaustive()
    }
}
