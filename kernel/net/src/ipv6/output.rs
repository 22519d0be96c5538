//! IPv6 output: where a packet goes (RFC 4861 5.2), which of our
//! addresses it comes from (RFC 6724, simplified), and the packet itself.
//!
//! Next hop: our own addresses and ::1 go to the loopback interface;
//! link-local and multicast destinations go out of their zone (the
//! interface the caller names, else the first one running IPv6); other
//! destinations go by the most specific on-link prefix (to the neighbor
//! itself) or static route (to its gateway) that covers them, else to a
//! redirect's target (when redirects are followed, never on a router),
//! else to a default router. With none, there is no route (RFC 4943:
//! nothing is assumed on-link). The source is the outgoing interface's usable
//! address that ranks best: the destination itself, then the matching
//! scope, then not deprecated, then the longest common prefix. The MTU
//! is the link's, or a smaller path MTU a Packet Too Big taught
//! (`crate::path_mtu`). Other packets over it are fragmented here; a TCP
//! segment over it is refused, as IPv4 refuses one with DF set: TCP sizes
//! its segments for the path and splits what was in flight when a Packet
//! Too Big came (`tcp::Tcp::icmp_too_big`), so one still too big is a
//! probe of a larger MTU (RFC 4821), which fragments would pass falsely.

use core::net::{IpAddr, Ipv6Addr};

use wire::Ipv6Header;
use wire::ipv6::{HEADER_LEN, common_prefix_length, is_link_local, next_header};

use crate::buffer::PacketBuffer;
use crate::interface::{Interface, InterfaceIndex, LinkKind};
use crate::ipv4::{IpLayer, OutputError};

/// Where a packet to some destination goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop6 {
    /// The interface to send on.
    pub interface: InterfaceIndex,
    /// The address whose link-layer address the frame goes to.
    pub neighbour: Ipv6Addr,
    /// The source address to use.
    pub source: Ipv6Addr,
    /// The link MTU.
    pub mtu: usize,
    /// The hop limit for unicast packets.
    pub hop_limit: u8,
}

impl IpLayer {
    /// Whether `address` is ours: ::1 or a usable address of any
    /// interface.
    pub fn is_local6(&self, address: Ipv6Addr) -> bool {
        address.is_loopback() || self.interfaces.iter().any(|i| i.ipv6.holds(address))
    }

    /// The first up Ethernet interface running IPv6: the zone of a
    /// link-local destination when the caller names none.
    pub fn default_zone6(&self) -> Option<InterfaceIndex> {
        self.interfaces
            .iter()
            .find(|i| i.up && i.ipv6.enabled)
            .map(|i| i.index)
    }

    pub(crate) fn running6(&self, index: InterfaceIndex) -> Option<&Interface> {
        self.interface(index).filter(|i| i.up && i.ipv6.enabled)
    }

    /// Where a packet to `destination` goes; `zone` names the interface
    /// of a link-local or multicast destination.
    pub fn next_hop6(
        &self,
        destination: Ipv6Addr,
        zone: Option<InterfaceIndex>,
    ) -> Option<NextHop6> {
        if self.is_local6(destination) {
            return self.loopback_hop6(destination);
        }
        let link_scope = is_link_local(destination) || destination.is_multicast();
        let (interface, neighbour) = if link_scope {
            (zone.or_else(|| self.default_zone6())?, destination)
        } else {
            self.route6(destination)?
        };
        let running = self.running6(interface)?;
        let link = link_mtu6(running);
        let path = self.path_mtu.get(IpAddr::V6(destination), self.now_ns);
        Some(NextHop6 {
            interface,
            neighbour,
            source: self.select_source6(interface, destination)?,
            mtu: path.map_or(link, |path| link.min(path.into())),
            hop_limit: running.ipv6.hop_limit,
        })
    }

    /// The interface and neighbour a packet to `destination` (not
    /// link-scoped) goes to (see the module comment).
    pub(crate) fn route6(&self, destination: Ipv6Addr) -> Option<(InterfaceIndex, Ipv6Addr)> {
        let routes = &self.v6.routes;
        if let Some(specific) = routes.specific(destination) {
            return Some(specific);
        }
        if let Some(redirect) = routes.redirect(destination)
            && !self.v6.config.forwarding
        {
            return Some(redirect);
        }
        let router = routes.default_router(&self.v6.neighbors)?;
        Some((router.interface, router.address))
    }

    fn loopback_hop6(&self, destination: Ipv6Addr) -> Option<NextHop6> {
        let lo = self
            .interfaces
            .iter()
            .find(|i| i.spec.kind == LinkKind::Loopback && i.up)?;
        Some(NextHop6 {
            interface: lo.index,
            neighbour: destination,
            source: destination,
            mtu: lo.spec.mtu,
            hop_limit: 64,
        })
    }

    /// The best usable address of `interface` to send to `destination`
    /// from (see the module comment).
    pub fn select_source6(
        &self,
        interface: InterfaceIndex,
        destination: Ipv6Addr,
    ) -> Option<Ipv6Addr> {
        let wants_link_local = is_link_local(destination) || destination.is_multicast();
        self.interface(interface)?
            .ipv6
            .addresses
            .iter()
            .filter(|a| a.usable())
            .max_by_key(|a| {
                (
                    a.address == destination,
                    is_link_local(a.address) == wants_link_local,
                    a.state == super::address::AddressState::Preferred,
                    common_prefix_length(a.address, destination).min(a.prefix_length),
                )
            })
            .map(|a| a.address)
    }

    /// Sends `payload` (an upper-layer message in a buffer with headroom)
    /// to `destination` from `source` (or the route's source when
    /// unspecified), fragmenting all but TCP when it exceeds the MTU.
    ///
    /// # Errors
    /// [`OutputError`]; the packet is gone either way.
    pub fn output6(
        &mut self,
        source: Ipv6Addr,
        destination: Ipv6Addr,
        protocol: u8,
        payload: PacketBuffer,
        zone: Option<InterfaceIndex>,
    ) -> Result<(), OutputError> {
        let ecn = tcp::Ecn::NotCapable;
        self.output6_marked(source, destination, protocol, ecn, payload, zone)
    }

    /// [`IpLayer::output6`] with the traffic class's ECN field set to
    /// `ecn` (RFC 3168 5, as IPv4's TOS).
    ///
    /// # Errors
    /// [`OutputError`]; the packet is gone either way.
    pub fn output6_marked(
        &mut self,
        source: Ipv6Addr,
        destination: Ipv6Addr,
        protocol: u8,
        ecn: tcp::Ecn,
        payload: PacketBuffer,
        zone: Option<InterfaceIndex>,
    ) -> Result<(), OutputError> {
        let Some(hop) = self.next_hop6(destination, zone) else {
            self.v6.stats.no_route += 1;
            return Err(OutputError::NoRoute);
        };
        let source = if source.is_unspecified() {
            hop.source
        } else {
            source
        };
        let mut header = Ipv6Header::new(source, destination, protocol, payload.len());
        header.traffic_class = ecn.bits();
        header.hop_limit = if destination.is_multicast() {
            1
        } else {
            hop.hop_limit
        };
        self.send6(hop, header, payload)
    }

    /// Sends one packet along `hop`, fragmented if it must be.
    pub(crate) fn send6(
        &mut self,
        hop: NextHop6,
        header: Ipv6Header,
        mut payload: PacketBuffer,
    ) -> Result<(), OutputError> {
        if payload.len() > usize::from(u16::MAX) {
            return Err(OutputError::TooBig);
        }
        // A burst that fits is one segment; one that does not goes whole
        // to a device that cuts TCP/IPv6 (TSO6), else it cannot go.
        let fits = HEADER_LEN + payload.len() <= hop.mtu;
        if fits || !self.segments6(hop.interface, header.next_header) {
            payload.set_segment_size(0);
        }
        if !fits && payload.segment_size() == 0 {
            // TCP keeps its segments under the path MTU itself.
            if header.next_header == next_header::TCP {
                return Err(OutputError::TooBig);
            }
            if !payload.complete_checksum() {
                return Err(OutputError::NoBuffer);
            }
            return self.fragment6(hop, header, &payload);
        }
        let bytes = payload
            .prepend(HEADER_LEN)
            .map_err(|_| OutputError::NoBuffer)?;
        header.write(bytes);
        self.link_output6(hop.interface, hop.neighbour, payload)?;
        self.v6.stats.sent += 1;
        Ok(())
    }
}

impl IpLayer {
    /// Whether `interface`'s device cuts bursts of `next_header` (TCP
    /// only) over IPv6.
    fn segments6(&self, interface: InterfaceIndex, next_header: u8) -> bool {
        let offloads = self.interface(interface).map(|i| i.spec.offloads);
        next_header == next_header::TCP && offloads.is_some_and(|o| o.segments(6))
    }
}

/// The MTU IPv6 uses on `interface`: the device's, or a router's smaller
/// one.
pub(crate) fn link_mtu6(interface: &Interface) -> usize {
    interface
        .ipv6
        .advertised_mtu
        .map_or(interface.spec.mtu, |mtu| mtu.min(interface.spec.mtu))
}
