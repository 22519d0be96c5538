//! The family-generic door of the IP layer, for the transports: route,
//! send, and "is this address ours" for an `IpAddr` of either family.
//!
//! TCP and UDP hold their endpoints as `IpAddr`s (or `SocketAddr`s) and
//! call these; the family picks IPv4's [`IpLayer::next_hop`] and
//! [`IpLayer::output`] or IPv6's [`IpLayer::next_hop6`] and
//! [`IpLayer::output6`]. The checksum's pseudo-header comes from
//! [`wire::Checksum::add_pseudo_header`] with the same pair. A zone names
//! the interface of an IPv6 link-local or multicast destination (a
//! `SocketAddrV6`'s scope, mapped to an interface by the socket layer);
//! IPv4 ignores it. An IPv4-mapped IPv6 destination (::ffff:a.b.c.d, what
//! a dual-stack socket sees) goes out as IPv4.

use core::net::IpAddr;

use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::{IpLayer, OutputError};

/// Where a packet to a destination of either family goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRoute {
    /// The interface it leaves by.
    pub interface: InterfaceIndex,
    /// The source address to use.
    pub source: IpAddr,
    /// The link MTU: the largest IP packet, headers included.
    pub mtu: usize,
}

/// `address` as the family it travels in (IPv4-mapped IPv6 as IPv4).
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

impl IpLayer {
    /// Where a packet to `destination` goes.
    pub fn route_ip(&self, destination: IpAddr, zone: Option<InterfaceIndex>) -> Option<IpRoute> {
        match canonical(destination) {
            IpAddr::V4(v4) => self.next_hop(v4).map(|hop| IpRoute {
                interface: hop.interface,
                source: IpAddr::V4(hop.source),
                mtu: hop.mtu,
            }),
            IpAddr::V6(v6) => self.next_hop6(v6, zone).map(|hop| IpRoute {
                interface: hop.interface,
                source: IpAddr::V6(hop.source),
                mtu: hop.mtu,
            }),
        }
    }

    /// Sends `payload` (an upper-layer message of `protocol` in a buffer
    /// with headroom) from `source` (unspecified: the route's) to
    /// `destination`.
    ///
    /// # Errors
    /// [`OutputError`]; [`OutputError::NoRoute`] for a pair of mixed
    /// families.
    pub fn output_ip(
        &mut self,
        source: IpAddr,
        destination: IpAddr,
        protocol: u8,
        payload: PacketBuffer,
        zone: Option<InterfaceIndex>,
    ) -> Result<(), OutputError> {
        match (canonical(source), canonical(destination)) {
            (IpAddr::V4(source), IpAddr::V4(destination)) => {
                self.output(source, destination, protocol, payload)
            }
            (IpAddr::V6(source), IpAddr::V6(destination)) => {
                self.output6(source, destination, protocol, payload, zone)
            }
            _ => Err(OutputError::NoRoute),
        }
    }

    /// Whether `address` is one of ours.
    pub fn is_local_ip(&self, address: IpAddr) -> bool {
        match canonical(address) {
            IpAddr::V4(v4) => self.is_local(v4),
            IpAddr::V6(v6) => self.is_local6(v6),
        }
    }

    /// Whether IPv6 reaches past the link (RFC 6724 rule 1, for ordering
    /// a name's addresses): an interface running IPv6 holds a usable
    /// address that is not link-local.
    pub fn ipv6_usable(&self) -> bool {
        self.interfaces
            .iter()
            .filter(|i| i.up && i.ipv6.enabled)
            .flat_map(|i| i.ipv6.addresses.iter())
            .any(|a| a.usable() && !wire::ipv6::is_link_local(a.address))
    }

    /// A transport saw forward progress with `neighbour` (an ACK of new
    /// data): IPv6's neighbor cache takes it as reachability
    /// confirmation (RFC 4861 7.3.1). IPv4's ARP has no such state.
    pub fn confirm_reachable(&mut self, neighbour: IpAddr, zone: Option<InterfaceIndex>) {
        let IpAddr::V6(v6) = canonical(neighbour) else {
            return;
        };
        let Some(hop) = self.next_hop6(v6, zone) else {
            return;
        };
        let timing = self.nud_timing(hop.interface);
        let now = self.now_ns;
        self.v6
            .neighbors
            .confirm(now, hop.interface, hop.neighbour, timing);
    }
}
