//! UDP (RFC 768): endpoints, demultiplexing, datagram queues, over IPv4
//! and IPv6.
//!
//! Endpoints hold `SocketAddr`s of the family their datagrams travel in
//! (the socket layer shows IPv4 peers of an IPv6 socket IPv4-mapped); one
//! bound to the IPv6 wildcard hears IPv4 too unless IPV6_V6ONLY
//! ([`UdpFlag::V6Only`]), and shares the IPv4 wildcard's ports, as on
//! Linux. An IPv6 link-local peer's scope id names the interface its
//! datagrams come and go by ([`crate::InterfaceIndex::scope_id`]).
//!
//! A received datagram is queued in the very buffer it arrived in (the
//! headers stripped), so the only copy is the one out to the caller. Each
//! endpoint's queue is bounded by its receive buffer size, charged with
//! the memory each datagram holds (its whole buffer, as BSD charges
//! mbufs), and by a datagram count; past either, datagrams are dropped and
//! counted. A datagram to a port nobody has bound earns an ICMP port
//! unreachable. Endpoints and their queues' slots are charged to the `udp`
//! account (the datagrams' buffers to the packet pool); a queue that
//! cannot grow for lack of memory drops the datagram.
//!
//! Options and shutdown, as BSD has them:
//! - SO_BROADCAST: a send to a broadcast address (255.255.255.255 or a
//!   subnet's directed broadcast) fails with [`UdpError::BroadcastDenied`]
//!   (EACCES) unless the endpoint set it;
//! - SO_REUSEADDR and SO_REUSEPORT: two endpoints may bind one port at
//!   overlapping addresses when both set the same one of them;
//! - a unicast datagram goes to the one best endpoint; a broadcast or
//!   multicast one to every endpoint bound to its port at the wildcard or
//!   its destination address (and connected to its source, if connected),
//!   each with its own copy (`input.rs`);
//! - shutdown for reading drops what is queued and all that comes later
//!   and wakes readers, who read end of file (0 bytes); for writing makes
//!   sends fail with [`UdpError::Shutdown`] (EPIPE) (`transfer.rs`).

mod input;
mod transfer;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use tcp::Binding;
use tcp::address::{scoped, unspecified_like, zone_of};

use wire::udp::HEADER_LEN;

use crate::buffer::PacketBuffer;
use crate::ipv4::{IpLayer, OutputError};
use crate::memory::Budget;
use crate::ports::{EphemeralPorts, PortUse};
use crate::slab::{Slab, SlabKey};

/// A UDP endpoint's handle.
pub type UdpHandle = SlabKey;

/// Default bytes of queued datagrams per endpoint.
pub const DEFAULT_RECEIVE_BUFFER: usize = 256 * 1024;
/// Endpoints at most.
const MAX_ENDPOINTS: usize = 4096;
/// Datagrams an endpoint queues at most, however small.
const MAX_QUEUED: usize = 1024;
/// The largest payload a datagram may carry over IPv4.
pub const MAX_PAYLOAD: usize = 65_535 - 20 - HEADER_LEN;
/// The same over IPv6, whose length field leaves out its header.
pub const MAX_PAYLOAD_6: usize = 65_535 - HEADER_LEN;
/// What an endpoint is charged besides its queue: the endpoint in its
/// slab slot, and the slot's bookkeeping.
const ENDPOINT_BYTES: usize = core::mem::size_of::<Endpoint>() + 16;
/// Queue slots an endpoint's queue grows by at least.
const MINIMUM_QUEUE: usize = 8;

/// Why a UDP call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpError {
    /// No handle like that.
    InvalidHandle,
    /// The address is taken.
    AddressInUse,
    /// The endpoint is bound already.
    AlreadyBound,
    /// Port 0 is no destination.
    InvalidDestination,
    /// The address is not one of ours.
    AddressNotAvailable,
    /// Nothing queued.
    WouldBlock,
    /// No destination given and none connected.
    NotConnected,
    /// Too long for one datagram.
    TooLong,
    /// Too many endpoints.
    NoSpace,
    /// Sending failed below.
    Output(OutputError),
    /// An ICMP port unreachable came back for a connected endpoint.
    Refused,
    /// A broadcast without SO_BROADCAST.
    BroadcastDenied,
    /// A send after shutdown for writing.
    Shutdown,
    /// A destination of a family the endpoint's address cannot reach.
    WrongFamily,
}

impl core::fmt::Display for UdpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidHandle => f.write_str("no such UDP endpoint"),
            Self::AddressInUse => f.write_str("address in use"),
            Self::AlreadyBound => f.write_str("already bound"),
            Self::InvalidDestination => f.write_str("port 0 is no destination"),
            Self::AddressNotAvailable => f.write_str("address not available"),
            Self::WouldBlock => f.write_str("no datagram queued"),
            Self::NotConnected => f.write_str("no destination"),
            Self::TooLong => f.write_str("datagram too long"),
            Self::NoSpace => f.write_str("too many UDP endpoints"),
            Self::Output(error) => write!(f, "{error}"),
            Self::Refused => f.write_str("connection refused"),
            Self::BroadcastDenied => f.write_str("broadcast without SO_BROADCAST"),
            Self::Shutdown => f.write_str("shut down for writing"),
            Self::WrongFamily => f.write_str("address family not reachable from the binding"),
        }
    }
}

impl core::error::Error for UdpError {}

/// A queued datagram.
struct Datagram {
    source: SocketAddr,
    payload: PacketBuffer,
}

/// The boolean socket options of an endpoint (BSD's `so_options`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpFlag {
    /// SO_REUSEADDR.
    ReuseAddress,
    /// SO_REUSEPORT.
    ReusePort,
    /// SO_BROADCAST.
    Broadcast,
    /// IPV6_V6ONLY: bound to the IPv6 wildcard, hear no IPv4.
    V6Only,
}

impl UdpFlag {
    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Which directions `shutdown` ended (both may be).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ShutDown {
    read: bool,
    write: bool,
}

struct Endpoint {
    /// Port 0 while unbound.
    local: SocketAddr,
    remote: Option<SocketAddr>,
    queue: VecDeque<Datagram>,
    queued_bytes: usize,
    receive_buffer: usize,
    /// The [`UdpFlag`]s set, one bit each.
    flags: u8,
    shut_down: ShutDown,
    /// An ICMP port unreachable for this connected endpoint, reported by
    /// its next call (BSD's so_error for UDP).
    refused: bool,
}

impl Endpoint {
    fn has(&self, flag: UdpFlag) -> bool {
        self.flags & flag.bit() != 0
    }

    /// The bound address with IPV6_V6ONLY.
    fn binding(&self) -> Binding {
        Binding {
            address: self.local.ip(),
            v6_only: self.has(UdpFlag::V6Only),
        }
    }

    /// Whether this endpoint hears a datagram to `destination` from
    /// `source`.
    fn hears(&self, destination: IpAddr, source: SocketAddr) -> bool {
        self.local.port() != 0
            && self.binding().covers(destination)
            && self.remote.is_none_or(|remote| remote == source)
    }

    /// Whether this endpoint and `other` may share a port (both set
    /// SO_REUSEADDR, or both SO_REUSEPORT).
    fn shares_with(&self, flags: u8) -> bool {
        let both = self.flags & flags;
        both & (UdpFlag::ReuseAddress.bit() | UdpFlag::ReusePort.bit()) != 0
    }
}

/// UDP counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpStats {
    /// Datagrams received.
    pub received: u64,
    /// Dropped: truncated, bad length, bad checksum.
    pub malformed: u64,
    /// To a port nobody bound.
    pub no_port: u64,
    /// Dropped: the endpoint's queue was full.
    pub queue_full: u64,
    /// Dropped, or endpoints refused: no memory.
    pub no_memory: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// Dropped: the endpoint was shut down for reading.
    pub shut_down: u64,
    /// Extra copies made of broadcast and multicast datagrams, one per
    /// endpoint beyond the first.
    pub copies: u64,
}

/// All UDP state of a stack.
pub struct Udp {
    endpoints: Slab<Endpoint>,
    events: Vec<UdpHandle>,
    /// Reused for the endpoints a broadcast goes to.
    receivers: Vec<UdpHandle>,
    budget: Budget,
    /// Counters.
    pub stats: UdpStats,
}

impl Udp {
    /// No endpoints; what they hold is charged to `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            endpoints: Slab::new(MAX_ENDPOINTS),
            events: Vec::new(),
            receivers: Vec::new(),
            budget,
            stats: UdpStats::default(),
        }
    }

    /// A new, unbound endpoint.
    ///
    /// # Errors
    /// [`UdpError::NoSpace`], also when memory is refused.
    pub fn open(&mut self) -> Result<UdpHandle, UdpError> {
        if !self.budget.charge(ENDPOINT_BYTES) {
            self.stats.no_memory += 1;
            return Err(UdpError::NoSpace);
        }
        let handle = self.endpoints.insert(Endpoint {
            local: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            remote: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            receive_buffer: DEFAULT_RECEIVE_BUFFER,
            flags: 0,
            shut_down: ShutDown::default(),
            refused: false,
        });
        if handle.is_none() {
            self.budget.release(ENDPOINT_BYTES);
        }
        handle.ok_or(UdpError::NoSpace)
    }

    fn endpoint(&mut self, handle: UdpHandle) -> Result<&mut Endpoint, UdpError> {
        self.endpoints
            .get_mut(handle)
            .ok_or(UdpError::InvalidHandle)
    }

    /// Binds `handle` to `local` (port 0: an ephemeral port). IPv4-mapped
    /// IPv6 addresses are the caller's to turn into IPv4 ones.
    ///
    /// # Errors
    /// [`UdpError::AddressInUse`], [`UdpError::AddressNotAvailable`].
    pub fn bind(
        &mut self,
        ip: &IpLayer,
        ports: &mut EphemeralPorts,
        handle: UdpHandle,
        local: SocketAddr,
    ) -> Result<(), UdpError> {
        let endpoint = self.endpoints.get(handle).ok_or(UdpError::InvalidHandle)?;
        if endpoint.local.port() != 0 {
            return Err(UdpError::AlreadyBound);
        }
        if !local.ip().is_unspecified() && !ip.is_local_ip(local.ip()) {
            return Err(UdpError::AddressNotAvailable);
        }
        let flags = endpoint.flags;
        let binding = Binding {
            address: local.ip(),
            v6_only: endpoint.has(UdpFlag::V6Only),
        };
        let port = if local.port() == 0 {
            ports
                .choose(|port| self.port_use(binding, port, flags))
                .ok_or(UdpError::AddressInUse)?
        } else if self.port_use(binding, local.port(), flags) == PortUse::Taken {
            return Err(UdpError::AddressInUse);
        } else {
            local.port()
        };
        self.endpoint(handle)?.local = scoped(local.ip(), port, zone_of(local));
        Ok(())
    }

    fn port_use(&self, binding: Binding, port: u16, flags: u8) -> PortUse {
        let clash = self.endpoints.iter().any(|(_, other)| {
            other.local.port() == port
                && !other.shares_with(flags)
                && other.binding().overlaps(&binding)
        });
        if clash { PortUse::Taken } else { PortUse::Free }
    }

    /// Sets the default destination and accepts datagrams only from it.
    ///
    /// # Errors
    /// [`UdpError::InvalidHandle`] and those of an implicit bind.
    pub fn connect(
        &mut self,
        ip: &IpLayer,
        ports: &mut EphemeralPorts,
        handle: UdpHandle,
        remote: SocketAddr,
    ) -> Result<(), UdpError> {
        self.bind_if_needed(ip, ports, handle, unspecified_like(remote.ip()))?;
        let remote = self.reachable(ip, handle, remote)?;
        self.endpoint(handle)?.remote = Some(remote);
        Ok(())
    }

    /// Binds an unbound endpoint to `wildcard` (of the family of its first
    /// peer, or `::` for an IPv6 socket) and an ephemeral port.
    ///
    /// # Errors
    /// Those of [`Udp::bind`].
    pub fn bind_if_needed(
        &mut self,
        ip: &IpLayer,
        ports: &mut EphemeralPorts,
        handle: UdpHandle,
        wildcard: IpAddr,
    ) -> Result<(), UdpError> {
        if self.endpoint(handle)?.local.port() == 0 {
            self.bind(ip, ports, handle, SocketAddr::new(wildcard, 0))?;
        }
        Ok(())
    }

    /// `remote` as the endpoint will use it: of a family its binding
    /// reaches, with the zone of a link-local peer filled in from the
    /// route when it names none.
    fn reachable(
        &self,
        ip: &IpLayer,
        handle: UdpHandle,
        remote: SocketAddr,
    ) -> Result<SocketAddr, UdpError> {
        let endpoint = self.endpoints.get(handle).ok_or(UdpError::InvalidHandle)?;
        if !endpoint.binding().reaches(remote.ip()) {
            return Err(UdpError::WrongFamily);
        }
        let zone = match zone_of(remote) {
            0 => ip
                .route_ip(remote.ip(), None)
                .map_or(0, |route| route.interface.scope_id()),
            zone => zone,
        };
        Ok(scoped(remote.ip(), remote.port(), zone))
    }

    /// Sets the receive buffer size in bytes.
    ///
    /// # Errors
    /// [`UdpError::InvalidHandle`].
    pub fn set_receive_buffer(&mut self, handle: UdpHandle, bytes: usize) -> Result<(), UdpError> {
        self.endpoint(handle)?.receive_buffer = bytes.clamp(2048, 16 * 1024 * 1024);
        Ok(())
    }

    /// The receive buffer size.
    pub fn receive_buffer(&self, handle: UdpHandle) -> Option<usize> {
        self.endpoints.get(handle).map(|e| e.receive_buffer)
    }

    /// Sets or clears `flag`; the reuse flags count at the next bind, and
    /// V6Only may only change before it.
    ///
    /// # Errors
    /// [`UdpError::InvalidHandle`], [`UdpError::AlreadyBound`].
    pub fn set_flag(&mut self, handle: UdpHandle, flag: UdpFlag, on: bool) -> Result<(), UdpError> {
        let endpoint = self.endpoint(handle)?;
        if flag == UdpFlag::V6Only && endpoint.local.port() != 0 {
            // What the endpoint hears was settled at bind.
            return Err(UdpError::AlreadyBound);
        }
        if on {
            endpoint.flags |= flag.bit();
        } else {
            endpoint.flags &= !flag.bit();
        }
        Ok(())
    }

    /// Whether `flag` is set.
    pub fn flag(&self, handle: UdpHandle, flag: UdpFlag) -> Option<bool> {
        self.endpoints.get(handle).map(|e| e.has(flag))
    }

    /// Whether a datagram, an error or end of file (shut down for
    /// reading) is waiting.
    pub fn readable(&self, handle: UdpHandle) -> bool {
        self.endpoints
            .get(handle)
            .is_some_and(|e| !e.queue.is_empty() || e.refused || e.shut_down.read)
    }

    /// Takes the pending "refused" error (SO_ERROR).
    pub fn take_refused(&mut self, handle: UdpHandle) -> bool {
        self.endpoints
            .get_mut(handle)
            .is_some_and(|e| core::mem::take(&mut e.refused))
    }

    /// An ICMP port unreachable came back for a datagram from `local` to
    /// `remote`: the endpoint connected to exactly that learns it (an
    /// unconnected one cannot tell which of its peers refused, as in BSD).
    pub fn refused(&mut self, local: SocketAddr, remote: SocketAddr) {
        let connected = self.endpoints.iter().find(|(_, endpoint)| {
            endpoint.remote == Some(remote) && endpoint.local.port() == local.port()
        });
        let Some((handle, _)) = connected else {
            return;
        };
        if let Some(endpoint) = self.endpoints.get_mut(handle) {
            endpoint.refused = true;
            self.events.push(handle);
        }
    }

    /// The bound address.
    pub fn local_address(&self, handle: UdpHandle) -> Option<SocketAddr> {
        self.endpoints.get(handle).map(|e| e.local)
    }

    /// The connected peer.
    pub fn peer_address(&self, handle: UdpHandle) -> Option<SocketAddr> {
        self.endpoints.get(handle).and_then(|e| e.remote)
    }

    /// Frees the endpoint and its queue.
    pub fn close(&mut self, handle: UdpHandle) {
        if let Some(endpoint) = self.endpoints.remove(handle) {
            self.budget
                .release(ENDPOINT_BYTES + queue_bytes(endpoint.queue.capacity()));
        }
    }

    /// Endpoints whose readiness changed since the last call.
    pub fn drain_events(&mut self, out: &mut Vec<UdpHandle>) {
        out.append(&mut self.events);
    }

    /// Gives back the queue slots of endpoints with nothing queued (the
    /// pagedaemon); returns the bytes freed.
    pub fn shrink(&mut self) -> usize {
        let mut freed = 0;
        let keys: Vec<UdpHandle> = self.endpoints.iter().map(|(key, _)| key).collect();
        for key in keys {
            let Some(endpoint) = self.endpoints.get_mut(key) else {
                continue;
            };
            if endpoint.queue.is_empty() && endpoint.queue.capacity() > 0 {
                freed += queue_bytes(endpoint.queue.capacity());
                endpoint.queue = VecDeque::new();
            }
        }
        self.budget.release(freed);
        freed
    }

    /// Bytes the endpoints and their queues hold, as charged.
    pub fn footprint(&self) -> usize {
        self.endpoints
            .iter()
            .map(|(_, endpoint)| ENDPOINT_BYTES + queue_bytes(endpoint.queue.capacity()))
            .sum()
    }
}

/// Bytes of a queue with room for `slots` datagrams.
fn queue_bytes(slots: usize) -> usize {
    slots * core::mem::size_of::<Datagram>()
}

/// Room for one more datagram in `queue`, its growth charged first.
fn make_room(queue: &mut VecDeque<Datagram>, budget: &Budget) -> bool {
    let capacity = queue.capacity();
    if queue.len() < capacity {
        return true;
    }
    let wanted = (capacity * 2).clamp(MINIMUM_QUEUE, MAX_QUEUED);
    if !budget.charge(queue_bytes(wanted - capacity)) {
        return false;
    }
    if queue.try_reserve_exact(wanted - queue.len()).is_err() {
        budget.release(queue_bytes(wanted - capacity));
        return false;
    }
    true
}

impl Drop for Udp {
    fn drop(&mut self) {
        self.budget.release(self.footprint());
    }
}

impl core::fmt::Debug for Udp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Udp").finish_non_exhaustive()
    }
}
