//! The values calls carry: descriptors, addresses, options, and what the
//! interface, route, neighbour and socket listings return.
//!
//! Plain data only, shaped for the wire: no kernel handles, no host
//! structures. Addresses are `core::net` types, which serde encodes
//! without std.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// A socket descriptor of one client: small numbers, its own, never
/// another client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Descriptor(pub u32);

/// Bytes a call carries (data to send, data received): encoded as one
/// length and a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytes(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// The kinds of socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketKind {
    /// TCP.
    Stream,
    /// UDP.
    Datagram,
}

/// Which direction `shutdown` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Reading.
    Read,
    /// Writing (TCP sends its FIN).
    Write,
    /// Both.
    Both,
}

/// What a client's child presents to take over the descriptors its
/// parent had at `fork` (the seeds' prefork): unguessable, used once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkToken(pub [u8; 16]);

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
}

/// stat(2) of a file, as the remote tools show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStatus {
    /// What it is.
    pub kind: FileKind,
    /// Permission bits (`0o7777`).
    pub permissions: u16,
    /// Hard links.
    pub links: u32,
    /// Length in bytes.
    pub size: u64,
    /// Last change of the data, nanoseconds since 1970 (UTC).
    pub modified_ns: u64,
}

/// One name in a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The name (bytes that are not UTF-8 replaced).
    pub name: String,
    /// What it names.
    pub kind: FileKind,
}

/// send(2) and recv(2) flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFlags {
    /// MSG_DONTWAIT: this call does not block.
    pub dont_wait: bool,
    /// MSG_WAITALL: a stream receive fills the buffer (or ends).
    pub wait_all: bool,
    /// MSG_PEEK: the data stays to be received again.
    pub peek: bool,
}

/// A socket option with its value (setsockopt, getsockopt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketOption {
    /// O_NONBLOCK.
    NonBlocking(bool),
    /// SO_REUSEADDR.
    ReuseAddress(bool),
    /// SO_RCVBUF, bytes.
    ReceiveBuffer(u32),
    /// SO_SNDBUF, bytes.
    SendBuffer(u32),
    /// SO_KEEPALIVE.
    KeepAlive(bool),
    /// SO_LINGER: seconds to linger (0: reset on close), or off.
    Linger(Option<u32>),
    /// TCP_NODELAY.
    NoDelay(bool),
    /// SO_ERROR (read only): the pending error, which reading clears.
    Error(Option<crate::Errno>),
    /// SO_BROADCAST.
    Broadcast(bool),
    /// SO_REUSEPORT.
    ReusePort(bool),
    /// IPV6_V6ONLY.
    V6Only(bool),
}

/// A socket option's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptionName {
    /// O_NONBLOCK.
    NonBlocking,
    /// SO_REUSEADDR.
    ReuseAddress,
    /// SO_RCVBUF.
    ReceiveBuffer,
    /// SO_SNDBUF.
    SendBuffer,
    /// SO_KEEPALIVE.
    KeepAlive,
    /// SO_LINGER.
    Linger,
    /// TCP_NODELAY.
    NoDelay,
    /// SO_ERROR.
    Error,
    /// SO_BROADCAST.
    Broadcast,
    /// SO_REUSEPORT.
    ReusePort,
    /// IPV6_V6ONLY.
    V6Only,
}

/// Poll conditions, as bits (the kernel's `PollEvents`).
pub mod poll {
    /// POLLIN.
    pub const READABLE: u8 = 1;
    /// POLLOUT.
    pub const WRITABLE: u8 = 2;
    /// POLLHUP (always reported).
    pub const HANGUP: u8 = 4;
    /// POLLERR (always reported).
    pub const ERROR: u8 = 8;
    /// POLLNVAL (always reported).
    pub const INVALID: u8 = 16;
}

/// One descriptor of a poll call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollEntry {
    /// The descriptor.
    pub fd: Descriptor,
    /// What the caller waits for ([`poll`] bits).
    pub events: u8,
}

/// An interface's IPv4 address and prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceAddress {
    /// The address.
    pub address: Ipv4Addr,
    /// Its subnet's prefix length.
    pub prefix_length: u8,
}

/// One IPv6 address of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Address {
    /// The address.
    pub address: Ipv6Addr,
    /// Its on-link prefix length.
    pub prefix_length: u8,
    /// Its state in words (`tentative`, `preferred`, …).
    pub state: String,
}

/// An interface's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceCounters {
    /// Frames received.
    pub received_packets: u64,
    /// Bytes received.
    pub received_bytes: u64,
    /// Frames dropped on input.
    pub received_dropped: u64,
    /// Frames sent.
    pub sent_packets: u64,
    /// Bytes sent.
    pub sent_bytes: u64,
    /// Frames dropped on output.
    pub sent_dropped: u64,
}

/// What `ifconfig` shows of one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    /// Its name (`lo0`, `vif0`).
    pub name: String,
    /// Whether it is the loopback interface (else Ethernet).
    pub loopback: bool,
    /// Its hardware address.
    pub mac: [u8; 6],
    /// Its MTU.
    pub mtu: u32,
    /// Up or down.
    pub up: bool,
    /// Its IPv4 address.
    pub address: Option<InterfaceAddress>,
    /// Its IPv6 addresses.
    pub ipv6: Vec<Ipv6Address>,
    /// Its counters.
    pub counters: InterfaceCounters,
}

/// One route of the IPv4 table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The destination network.
    pub destination: Ipv4Addr,
    /// Its prefix length (0: the default route).
    pub prefix_length: u8,
    /// The gateway, or none for a connected network.
    pub gateway: Option<Ipv4Addr>,
    /// The interface it goes out of.
    pub interface: String,
}

/// One neighbour: an ARP entry or an IPv6 neighbour cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbor {
    /// The interface it was learnt on.
    pub interface: String,
    /// Its address.
    pub address: IpAddr,
    /// Its hardware address, once known.
    pub mac: Option<[u8; 6]>,
    /// Its state in words (`reachable`, `stale`, …).
    pub state: String,
}

/// One socket of the kernel, for `netstat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketSummary {
    /// TCP or UDP.
    pub kind: SocketKind,
    /// The local address (0.0.0.0:0 when unbound).
    pub local: SocketAddr,
    /// The peer, when connected.
    pub peer: Option<SocketAddr>,
    /// TCP's state in words (`LISTEN`, `ESTABLISHED`, …); empty for UDP.
    pub state: String,
    /// Bytes waiting to be read.
    pub receive_queue: u32,
}
