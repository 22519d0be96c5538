//! Sockets as descriptors: the object a process's table holds, and the
//! stack's map from transport endpoints back to their sockets.
//!
//! A [`Socket`] lives in the descriptor table of the process that opened
//! it (`base::Process`), numbered with its files. Events from the
//! transports name their own handles; [`SocketTable`] maps them to the
//! condition variable of their socket (and the watch set watching it), so that exactly the threads waiting
//! on it wake when it changes. A socket's last drop may come with no
//! context (its process ending outside the kernel): it queues its
//! transport on the orphan list, which the next taker of the stack
//! lock closes. Each socket is charged [`ENTRY_BYTES`] to the `sockets`
//! account (its descriptor slot goes to `descriptors`). The table also
//! holds the system-call layer's one other state: the DNS resolver's
//! servers and cache.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

use base::descriptor::Descriptor;
use base::sync::Condvar;

use super::Errno;
use super::resolver::state::ResolverState;
use super::watch::{QUEUE_SLOT_BYTES, WatchSets, Watched};
use crate::memory::Budget;
use crate::udp::UdpHandle;

pub use base::descriptor::Fd;

/// Open sockets at most, all processes together: 2^20, more than a
/// gigabyte of memory holds, so that memory is the real bound (each
/// socket is charged, and so is its transport endpoint): 10,000 idle
/// connections fit in 64 MiB.
pub const MAX_SOCKETS: usize = 1 << 20;

/// What one socket holds in the faction: the object and its condition
/// variable (with their `Arc` counts), its record in the transport map
/// (B-tree nodes about half full), its reserved orphan slot and its place
/// in a watch set's queue (which grows by doubling).
pub const ENTRY_BYTES: usize = core::mem::size_of::<Socket>()
    + 16
    + core::mem::size_of::<Condvar>()
    + 16
    + 2 * core::mem::size_of::<(Transport, SocketRecord)>()
    + core::mem::size_of::<Transport>()
    + 2 * QUEUE_SLOT_BYTES;

/// The transport endpoint behind a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    /// A TCP connection or listener.
    Tcp(tcp::SocketHandle),
    /// A UDP endpoint.
    Udp(UdpHandle),
}

/// One open socket, as a descriptor stands for it.
#[derive(Debug)]
pub struct Socket {
    /// Its endpoint.
    pub(crate) transport: Transport,
    /// O_NONBLOCK.
    nonblocking: AtomicBool,
    /// An AF_INET6 socket (`family.rs`).
    inet6: AtomicBool,
    /// Where its callers sleep.
    pub(crate) wait: Arc<Condvar>,
    orphans: Arc<Orphans>,
}

impl Socket {
    /// Whether it is non-blocking.
    pub(crate) fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Relaxed)
    }

    /// Makes it (non-)blocking.
    pub(crate) fn set_nonblocking(&self, on: bool) {
        self.nonblocking.store(on, Relaxed);
    }

    /// Whether it is an AF_INET6 socket.
    pub(crate) fn is_inet6(&self) -> bool {
        self.inet6.load(Relaxed)
    }

    /// Whether a thread sleeps on it now.
    pub fn has_sleepers(&self) -> bool {
        self.wait.has_waiters()
    }

    /// Makes it an AF_INET6 socket.
    pub(crate) fn make_inet6(&self) {
        self.inet6.store(true, Relaxed);
    }
}

impl Descriptor for Socket {
    fn kind(&self) -> &'static str {
        "socket"
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.orphans.push(self.transport);
    }
}

/// Transports whose sockets are gone, waiting for the stack lock. Room
/// for every open socket is reserved when it opens, so a drop never
/// allocates.
#[derive(Debug, Default)]
pub(crate) struct Orphans {
    list: spin::Mutex<Vec<Transport>>,
    pending: AtomicBool,
}

impl Orphans {
    fn push(&self, transport: Transport) {
        self.list.lock().push(transport);
        self.pending.store(true, Relaxed);
    }

    /// Whether any waits (a hint: one atomic load on every lock).
    pub(crate) fn pending(&self) -> bool {
        self.pending.load(Relaxed)
    }

    /// Moves the waiting transports into `into`.
    pub(crate) fn take(&self, into: &mut Vec<Transport>) {
        let mut list = self.list.lock();
        self.pending.store(false, Relaxed);
        into.append(&mut list);
    }

    fn reserve(&self, sockets: usize) -> bool {
        let mut list = self.list.lock();
        let more = sockets.saturating_sub(list.len());
        list.try_reserve(more).is_ok()
    }
}

/// What the stack keeps of one open socket, by its transport endpoint.
#[derive(Debug)]
pub struct SocketRecord {
    /// Where the socket's callers sleep.
    pub wait: Arc<Condvar>,
    /// The watch set that watches it, and for what.
    pub(crate) watched: Option<Watched>,
}

/// The stack's side of the sockets.
pub struct SocketTable {
    budget: Budget,
    by_transport: BTreeMap<Transport, SocketRecord>,
    pub(crate) orphans: Arc<Orphans>,
    /// Threads inside `poll` now; events wake them only when non-zero.
    pub pollers: u32,
    /// Reused for the events of one stack call.
    pub(crate) tcp_events: Vec<tcp::SocketHandle>,
    /// Reused for the events of one stack call.
    pub(crate) udp_events: Vec<UdpHandle>,
    /// Reused to close orphans.
    pub(crate) orphaned: Vec<Transport>,
    /// The DNS resolver's servers and cache.
    pub resolver: ResolverState,
    /// The watch sets.
    pub(crate) watches: WatchSets,
}

impl SocketTable {
    /// An empty table charging its sockets (and the resolver's cache) to
    /// `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            resolver: ResolverState::new(budget.clone()),
            watches: WatchSets::new(budget.clone()),
            budget,
            by_transport: BTreeMap::new(),
            orphans: Arc::default(),
            pollers: 0,
            tcp_events: Vec::new(),
            udp_events: Vec::new(),
            orphaned: Vec::new(),
        }
    }

    /// A socket for `transport`, for a descriptor table to hold.
    ///
    /// # Errors
    /// [`Errno::TooManySockets`], [`Errno::NoBuffers`].
    pub(crate) fn open(&mut self, transport: Transport) -> Result<Arc<Socket>, Errno> {
        if self.by_transport.len() >= MAX_SOCKETS {
            return Err(Errno::TooManySockets);
        }
        if !self.budget.charge(ENTRY_BYTES) {
            return Err(Errno::NoBuffers);
        }
        if !self.orphans.reserve(self.by_transport.len() + 1) {
            self.budget.release(ENTRY_BYTES);
            return Err(Errno::NoBuffers);
        }
        let wait = Arc::new(Condvar::new());
        let record = SocketRecord {
            wait: wait.clone(),
            watched: None,
        };
        self.by_transport.insert(transport, record);
        Ok(Arc::new(Socket {
            transport,
            nonblocking: AtomicBool::new(false),
            inet6: AtomicBool::new(false),
            wait,
            orphans: self.orphans.clone(),
        }))
    }

    /// Forgets the socket of `transport` (gone: its last drop queued it).
    pub(crate) fn forget(&mut self, transport: Transport) {
        if self.by_transport.remove(&transport).is_some() {
            self.budget.release(ENTRY_BYTES);
        }
    }

    /// The record of a transport endpoint's socket.
    pub fn find(&self, transport: Transport) -> Option<&SocketRecord> {
        self.by_transport.get(&transport)
    }

    /// The record of a transport endpoint's socket, writable.
    pub(crate) fn find_mut(&mut self, transport: Transport) -> Option<&mut SocketRecord> {
        self.by_transport.get_mut(&transport)
    }

    /// The transport endpoints of every open socket, in order (`netstat`).
    pub fn transports(&self) -> impl Iterator<Item = Transport> + '_ {
        self.by_transport.keys().copied()
    }

    /// Open sockets (those not yet closed by the stack).
    pub fn len(&self) -> usize {
        self.by_transport.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.by_transport.is_empty()
    }
}

impl Drop for SocketTable {
    fn drop(&mut self) {
        self.budget.release(self.by_transport.len() * ENTRY_BYTES);
    }
}

impl core::fmt::Debug for SocketTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SocketTable").finish_non_exhaustive()
    }
}
