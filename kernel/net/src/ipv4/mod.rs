//! The IPv4 layer: input checks, local delivery decisions, output with
//! routing and fragmentation.
//!
//! [`IpLayer`] owns everything below the transports: the interfaces, the
//! routing table, the ARP cache, reassembly, the packet pool and the
//! counters. The transports (UDP, TCP, ICMP) sit beside it in the stack
//! and call [`IpLayer::output`]; the TCP engine reaches it through
//! [`tcp::Transmit`]. A packet for another host is dropped and counted,
//! unless forwarding is on: then input hands it to `crate::forward`
//! ([`Ipv4Input::Forward`]), and a packet for any of our addresses is
//! ours whichever interface it came in on (a router's weak host model;
//! a host keeps the strong one). Path MTUs learned from ICMP
//! (`crate::path_mtu`) cap a route's MTU.

pub mod reassembly;

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};

use wire::Ipv4Header;
use wire::ipv4::HEADER_LEN;

use crate::arp::ArpCache;
use crate::buffer::{HEADROOM, PacketBuffer, PacketPool};
use crate::interface::{Interface, InterfaceIndex, LinkKind};
use crate::memory::Budget;
use crate::route::RouteTable;
use reassembly::Reassembly;

/// Why a packet could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputError {
    /// No route to the destination.
    NoRoute,
    /// No packet buffer (memory limit).
    NoBuffer,
    /// Too big to send with don't-fragment set, or bigger than IPv4 allows.
    TooBig,
    /// The interface's send queue was full: the packet was dropped.
    QueueFull,
}

impl core::fmt::Display for OutputError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NoRoute => "no route to host",
            Self::NoBuffer => "no packet buffer",
            Self::TooBig => "packet too big",
            Self::QueueFull => "interface send queue full",
        })
    }
}

impl core::error::Error for OutputError {}

/// IPv4 counters, after `netstat -s -p ip`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpStats {
    /// Packets received.
    pub received: u64,
    /// Dropped: malformed header, bad length, unsupported version.
    pub bad_header: u64,
    /// Dropped: header checksum.
    pub bad_checksum: u64,
    /// Dropped: addressed to another host.
    pub not_for_us: u64,
    /// Dropped: a source no host can have (broadcast, multicast, ours,
    /// loopback from a wire), RFC 1812's martians.
    pub martian_source: u64,
    /// Dropped: protocol not spoken.
    pub unknown_protocol: u64,
    /// Handed to a transport.
    pub delivered: u64,
    /// Packets sent (fragments counted one by one).
    pub sent: u64,
    /// Fragments sent.
    pub fragments_sent: u64,
    /// Not sent: no route.
    pub no_route: u64,
    /// Not sent or not received: no packet buffer.
    pub no_buffer: u64,
}

/// What became of a received IPv4 packet.
#[derive(Debug)]
pub enum Ipv4Input {
    /// For this host: the (whole, reassembled) datagram's header and its
    /// payload.
    Local(Ipv4Header, PacketBuffer),
    /// For another host, and forwarding is on: the header and the whole
    /// packet, header first, link padding dropped.
    Forward(Ipv4Header, PacketBuffer),
    /// Dropped and counted, or held for reassembly.
    Consumed,
}

/// Where a packet to some destination goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    /// The interface to send on.
    pub interface: InterfaceIndex,
    /// The address whose MAC the frame goes to.
    pub neighbour: Ipv4Addr,
    /// The source address to use.
    pub source: Ipv4Addr,
    /// The MTU towards the destination: the interface's, or a smaller
    /// path MTU learned from ICMP.
    pub mtu: usize,
}

/// Everything below the transports.
pub struct IpLayer {
    /// The attached interfaces, indexed by [`InterfaceIndex`].
    pub interfaces: Vec<Interface>,
    /// The routing table.
    pub routes: RouteTable,
    /// The neighbour cache.
    pub arp: ArpCache,
    /// Fragments in reassembly.
    pub reassembly: Reassembly,
    /// Path MTUs learned from ICMP and ICMPv6, both families (RFC 1191,
    /// RFC 8201).
    pub path_mtu: crate::path_mtu::PathMtuCache,
    /// IPv6 beside IPv4 (see [`crate::ipv6`]).
    pub v6: crate::ipv6::Ipv6Layer,
    /// Where packet buffers come from.
    pub pool: PacketPool,
    /// Counters.
    pub stats: IpStats,
    /// Packets for other hosts are forwarded (`ip.forwarding=`, off by
    /// default; see `crate::forward`).
    pub forwarding: bool,
    /// What forwarding did.
    pub forward_stats: crate::forward::ForwardStats,
    /// The time of the current stack call, for the layers that need it
    /// inside calls that carry none (the TCP engine's transmit).
    pub(crate) now_ns: u64,
    /// The ECN field of the datagram [`IpLayer::input`] (or IPv6 input)
    /// last returned: the TCP engine reads it (through
    /// `Transmit::arriving_ecn`) while that datagram's segment is served,
    /// so a Congestion Experienced mark reaches it (RFC 3168).
    pub(crate) arriving_ecn: tcp::Ecn,
    /// The zone of the interface that datagram came in on (0 for IPv4),
    /// read through `Transmit::arriving_zone`.
    pub(crate) arriving_zone: u32,
    /// Whether the device vouched for the transport checksum of that
    /// datagram (`Transmit::arriving_checksum_valid`).
    pub(crate) arriving_checksum_valid: bool,
    next_identification: u16,
}

impl IpLayer {
    /// An IP layer with no interfaces.
    pub fn new(pool: PacketPool, first_identification: u16) -> Self {
        Self {
            interfaces: Vec::new(),
            routes: RouteTable::default(),
            arp: ArpCache::new(Budget::new(pool.memory().account("arp"))),
            reassembly: Reassembly::new(Budget::new(pool.memory().account("reassembly"))),
            path_mtu: crate::path_mtu::PathMtuCache::default(),
            v6: crate::ipv6::Ipv6Layer::new(&pool),
            pool,
            stats: IpStats::default(),
            forwarding: false,
            forward_stats: Default::default(),
            now_ns: 0,
            arriving_ecn: tcp::Ecn::NotCapable,
            arriving_zone: 0,
            arriving_checksum_valid: false,
            next_identification: first_identification,
        }
    }

    /// The interface at `index`.
    pub fn interface(&self, index: InterfaceIndex) -> Option<&Interface> {
        self.interfaces.get(usize::from(index.0))
    }

    /// The interface at `index`, writable.
    pub fn interface_mut(&mut self, index: InterfaceIndex) -> Option<&mut Interface> {
        self.interfaces.get_mut(usize::from(index.0))
    }

    /// The interface named `name`.
    pub fn interface_named(&self, name: &str) -> Option<InterfaceIndex> {
        self.interfaces
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.index)
    }

    /// Whether `address` is one of ours (any interface's, or loopback).
    pub fn is_local(&self, address: Ipv4Addr) -> bool {
        address.is_loopback()
            || self
                .interfaces
                .iter()
                .any(|i| i.address.is_some_and(|a| a.address == address))
    }

    fn loopback(&self) -> Option<&Interface> {
        self.interfaces
            .iter()
            .find(|i| i.spec.kind == LinkKind::Loopback && i.up)
    }

    /// Where a packet to `destination` goes.
    pub fn next_hop(&self, destination: Ipv4Addr) -> Option<NextHop> {
        if self.is_local(destination) {
            let lo = self.loopback()?;
            return Some(NextHop {
                interface: lo.index,
                neighbour: destination,
                source: if destination.is_loopback() {
                    Ipv4Addr::LOCALHOST
                } else {
                    destination
                },
                mtu: lo.spec.mtu,
            });
        }
        if destination.is_broadcast() {
            return self.broadcast_hop();
        }
        let route = self.routes.lookup(destination)?;
        let interface = self.interface(route.interface).filter(|i| i.up)?;
        let source = interface.address?.address;
        let learned = self.path_mtu.get(IpAddr::V4(destination), self.now_ns);
        Some(NextHop {
            interface: interface.index,
            neighbour: route.gateway.unwrap_or(destination),
            source,
            mtu: learned.map_or(interface.spec.mtu, |mtu| interface.spec.mtu.min(mtu.into())),
        })
    }

    /// The limited broadcast goes out of the first configured Ethernet
    /// interface (BSD's rule when no interface is named).
    fn broadcast_hop(&self) -> Option<NextHop> {
        let interface = self
            .interfaces
            .iter()
            .find(|i| i.up && i.spec.kind == LinkKind::Ethernet && i.address.is_some())?;
        Some(NextHop {
            interface: interface.index,
            neighbour: Ipv4Addr::BROADCAST,
            source: interface.address?.address,
            mtu: interface.spec.mtu,
        })
    }

    /// Sends `payload` (a transport message in a buffer with headroom) to
    /// `destination`, from `source` (or the route's source when
    /// unspecified), fragmenting when it exceeds the MTU.
    ///
    /// # Errors
    /// [`OutputError`]; the packet is gone either way.
    pub fn output(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        protocol: u8,
        payload: PacketBuffer,
    ) -> Result<(), OutputError> {
        self.output_marked(source, destination, protocol, tcp::Ecn::NotCapable, payload)
    }

    /// [`IpLayer::output`] with the header's ECN field set to `ecn` (RFC
    /// 3168: ECT(0) on the new data of ECN-capable TCP connections).
    ///
    /// # Errors
    /// [`OutputError`]; the packet is gone either way.
    pub fn output_marked(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        protocol: u8,
        ecn: tcp::Ecn,
        payload: PacketBuffer,
    ) -> Result<(), OutputError> {
        let Some(hop) = self.next_hop(destination) else {
            self.stats.no_route += 1;
            return Err(OutputError::NoRoute);
        };
        let source = if source.is_unspecified() {
            hop.source
        } else {
            source
        };
        let mut header = self.header(source, destination, protocol, payload.len());
        header.type_of_service = ecn.bits();
        self.send_via(hop, header, payload)
    }

    /// Sends `payload` to `destination` from the route's source with time
    /// to live `ttl` (a probe's).
    ///
    /// # Errors
    /// [`OutputError`]; the packet is gone either way.
    pub fn output_with_ttl(
        &mut self,
        destination: Ipv4Addr,
        protocol: u8,
        ttl: u8,
        payload: PacketBuffer,
    ) -> Result<(), OutputError> {
        let Some(hop) = self.next_hop(destination) else {
            self.stats.no_route += 1;
            return Err(OutputError::NoRoute);
        };
        let mut header = self.header(hop.source, destination, protocol, payload.len());
        header.ttl = ttl;
        self.send_via(hop, header, payload)
    }

    /// Sends a broadcast on `interface` whatever its configuration (DHCP
    /// before it has an address).
    ///
    /// # Errors
    /// [`OutputError`].
    pub fn output_broadcast(
        &mut self,
        interface: InterfaceIndex,
        source: Ipv4Addr,
        protocol: u8,
        payload: PacketBuffer,
    ) -> Result<(), OutputError> {
        let mtu = self
            .interface(interface)
            .ok_or(OutputError::NoRoute)?
            .spec
            .mtu;
        let hop = NextHop {
            interface,
            neighbour: Ipv4Addr::BROADCAST,
            source,
            mtu,
        };
        let header = self.header(source, Ipv4Addr::BROADCAST, protocol, payload.len());
        self.send_via(hop, header, payload)
    }

    fn header(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        protocol: u8,
        payload_len: usize,
    ) -> Ipv4Header {
        let mut header = Ipv4Header::new(source, destination, protocol, payload_len);
        header.identification = self.next_identification;
        self.next_identification = self.next_identification.wrapping_add(1);
        // Only TCP knows to keep its segments under the path MTU.
        header.dont_fragment = protocol == wire::ipv4::protocol::TCP;
        header
    }

    fn send_via(
        &mut self,
        hop: NextHop,
        header: Ipv4Header,
        mut payload: PacketBuffer,
    ) -> Result<(), OutputError> {
        if header.total_len > 65_535 {
            return Err(OutputError::TooBig);
        }
        let segmented = payload.segment_size() > 0;
        if header.total_len <= hop.mtu || segmented {
            if header.total_len <= hop.mtu {
                payload.set_segment_size(0);
            }
            let bytes = payload
                .prepend(HEADER_LEN)
                .map_err(|_| OutputError::NoBuffer)?;
            header.write(bytes);
            self.link_output(hop.interface, hop.neighbour, payload)?;
            self.stats.sent += 1;
            return Ok(());
        }
        if header.dont_fragment {
            return Err(OutputError::TooBig);
        }
        // No device sums fragments: a partial checksum is completed here.
        if !payload.complete_checksum() {
            return Err(OutputError::NoBuffer);
        }
        self.fragment(hop, header, &payload)
    }

    /// Sends `payload` as fragments of at most the MTU each.
    fn fragment(
        &mut self,
        hop: NextHop,
        header: Ipv4Header,
        payload: &PacketBuffer,
    ) -> Result<(), OutputError> {
        let per_fragment = (hop.mtu.saturating_sub(HEADER_LEN) / 8) * 8;
        if per_fragment == 0 {
            return Err(OutputError::TooBig);
        }
        for (number, chunk) in payload.data().chunks(per_fragment).enumerate() {
            let mut fragment = self.pool.allocate().map_err(|_| self.no_buffer())?;
            fragment
                .append(chunk.len())
                .map_err(|_| OutputError::TooBig)?
                .copy_from_slice(chunk);
            let mut piece = header;
            piece.fragment_offset = number * per_fragment;
            piece.more_fragments = piece.fragment_offset + chunk.len() < payload.len();
            piece.total_len = HEADER_LEN + chunk.len();
            let bytes = fragment
                .prepend(HEADER_LEN)
                .map_err(|_| OutputError::NoBuffer)?;
            piece.write(bytes);
            self.link_output(hop.interface, hop.neighbour, fragment)?;
            self.stats.sent += 1;
            self.stats.fragments_sent += 1;
        }
        Ok(())
    }

    pub(crate) fn no_buffer(&mut self) -> OutputError {
        self.stats.no_buffer += 1;
        OutputError::NoBuffer
    }

    /// Whether a packet for `destination` that came in on `interface` is
    /// for this host: for the interface's address or broadcast, or, over
    /// loopback or on a router, for any of our addresses.
    pub fn accepts(&self, interface: InterfaceIndex, destination: Ipv4Addr) -> bool {
        let Some(receiver) = self.interface(interface) else {
            return false;
        };
        let weak = receiver.spec.kind == LinkKind::Loopback || self.forwarding;
        receiver.accepts(destination) || (weak && self.is_local(destination))
    }

    /// Whether no honest host sends from `source` to us on `interface`: a
    /// broadcast, multicast or unspecified address, one of our own (a
    /// reflection) or loopback arriving from a wire (RFC 1812 5.3.7).
    pub(crate) fn martian_source(&self, interface: InterfaceIndex, source: Ipv4Addr) -> bool {
        let looped = self
            .interface(interface)
            .is_some_and(|i| i.spec.kind == LinkKind::Loopback);
        if looped {
            return false;
        }
        let directed_broadcast = self
            .interfaces
            .iter()
            .any(|i| i.address.and_then(|a| a.broadcast()) == Some(source));
        source.is_broadcast()
            || source.is_multicast()
            || source.is_unspecified()
            || directed_broadcast
            || self.is_local(source)
    }

    /// Whether `destination` is a broadcast this host accepts rather than
    /// one of its addresses.
    pub fn is_broadcast(&self, destination: Ipv4Addr) -> bool {
        destination.is_broadcast()
            || self
                .interfaces
                .iter()
                .any(|i| i.address.and_then(|a| a.broadcast()) == Some(destination))
    }

    /// Checks an incoming packet's header and reassembles fragments;
    /// passes a packet for another host on to forwarding when it is on.
    pub fn input(&mut self, interface: InterfaceIndex, mut packet: PacketBuffer) -> Ipv4Input {
        self.stats.received += 1;
        let header = match Ipv4Header::parse(packet.data()) {
            Ok(header) => header,
            Err(wire::WireError::BadChecksum) => {
                self.stats.bad_checksum += 1;
                return Ipv4Input::Consumed;
            }
            Err(_) => {
                self.stats.bad_header += 1;
                return Ipv4Input::Consumed;
            }
        };
        if !self.accepts(interface, header.destination) {
            if self.forwarding {
                packet.truncate(header.total_len);
                return Ipv4Input::Forward(header, packet);
            }
            self.stats.not_for_us += 1;
            return Ipv4Input::Consumed;
        }
        if self.martian_source(interface, header.source) {
            self.stats.martian_source += 1;
            return Ipv4Input::Consumed;
        }
        packet.truncate(header.total_len);
        packet.strip_front(header.header_len);
        // Marks a device left for a packet it would pass on mean nothing
        // to a packet that ends here (`offload.rs`).
        packet.clear_transmit_marks();
        let whole = if header.is_fragment() {
            let now = self.now_ns;
            self.reassembly.insert(now, &header, packet, &self.pool)
        } else {
            Some((header, packet))
        };
        self.arriving_ecn = whole.as_ref().map_or(tcp::Ecn::NotCapable, |(header, _)| {
            tcp::Ecn::from_bits(header.type_of_service)
        });
        self.arriving_zone = 0;
        self.arriving_checksum_valid = whole
            .as_ref()
            .is_some_and(|(_, payload)| payload.checksum_valid());
        match whole {
            Some((header, payload)) => Ipv4Input::Local(header, payload),
            None => Ipv4Input::Consumed,
        }
    }
}

/// Fresh buffers have room for the IPv4 and Ethernet headers that output
/// prepends (fragments included) without moving the payload.
const _: () = assert!(HEADROOM >= HEADER_LEN + wire::ethernet::HEADER_LEN);

impl core::fmt::Debug for IpLayer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IpLayer").finish_non_exhaustive()
    }
}
