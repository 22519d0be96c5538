//! Forwarding IPv4 packets (RFC 1812 5.2–5.3): checks, TTL, route, size.
//!
//! The stack hands over a packet input found not to be ours
//! (`Ipv4Input::Forward`); ICMP errors go out through the host's ICMP
//! (its rate limit), so this is a [`Stack`] call, not an `IpLayer` one.

use core::net::Ipv4Addr;

use wire::icmp::unreachable;
use wire::ipv4::HEADER_LEN;
use wire::{IcmpKind, Ipv4Header};

use super::segment::{Coalesced, Layout};
use super::unroutable;
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::{IpLayer, NextHop};
use crate::stack::Stack;

/// Option types that route the packet by the source's list (LSRR, SSRR).
const SOURCE_ROUTES: [u8; 2] = [131, 137];

impl Stack {
    /// Forwards `packet` (its header `header`, parsed and checked) that
    /// came in on `arrived`; `link_multicast` when its frame went to a
    /// link-layer group.
    pub(crate) fn forward(
        &mut self,
        arrived: InterfaceIndex,
        header: &Ipv4Header,
        mut packet: PacketBuffer,
        link_multicast: bool,
    ) {
        if link_multicast || self.ip.refuses(arrived, header, packet.data()) {
            self.ip.forward_stats.refused += 1;
            return;
        }
        if header.ttl <= 1 {
            self.ip.forward_stats.ttl_exceeded += 1;
            let kind = IcmpKind::TimeExceeded { code: 0 };
            return (self.icmp).send_forward_error(&mut self.ip, kind, header, packet.data());
        }
        let Some(hop) = self.ip.forward_hop(header.destination) else {
            self.ip.forward_stats.no_route += 1;
            let code = unreachable::NETWORK;
            let kind = IcmpKind::DestinationUnreachable { code };
            return (self.icmp).send_forward_error(&mut self.ip, kind, header, packet.data());
        };
        if packet.segment_size() > 0 {
            return self.forward_coalesced(hop, header, packet);
        }
        if header.total_len > hop.mtu {
            return self.forward_oversized(hop, header, packet);
        }
        decrement_ttl(packet.data_mut(), header.header_len);
        if self
            .ip
            .link_output(hop.interface, hop.neighbour, packet)
            .is_ok()
        {
            self.ip.forward_stats.forwarded += 1;
        }
    }

    /// A coalesced TCP segment (`segment.rs`): whole, cut by the next
    /// device, cut here, or dropped.
    fn forward_coalesced(&mut self, hop: NextHop, header: &Ipv4Header, mut packet: PacketBuffer) {
        let layout = Layout::ipv4(header, packet.data());
        let way = (hop.interface, hop.mtu);
        let how = (self.ip).coalesced(way, header.total_len, layout, &packet);
        if how == Coalesced::TooBig && header.dont_fragment {
            return self.forward_oversized(hop, header, packet);
        }
        if matches!(how, Coalesced::TooBig | Coalesced::Unfit) {
            self.ip.forward_stats.coalesced_dropped += 1;
            return;
        }
        decrement_ttl(packet.data_mut(), header.header_len);
        if how == Coalesced::Whole {
            packet.set_segment_size(0);
        }
        let sent = match (how, layout) {
            (Coalesced::Software, Some(layout)) => {
                let to = (hop.interface, hop.neighbour.into());
                self.ip.forward_segments(to, layout, &packet)
            }
            _ => (self.ip)
                .link_output(hop.interface, hop.neighbour, packet)
                .is_ok(),
        };
        if sent {
            self.ip.forward_stats.forwarded += 1;
            self.ip.forward_stats.segmented += u64::from(how == Coalesced::Software);
        }
    }

    /// A packet bigger than the next link: fragmented, or refused with
    /// "fragmentation needed" when DF is set.
    fn forward_oversized(&mut self, hop: NextHop, header: &Ipv4Header, mut packet: PacketBuffer) {
        if header.dont_fragment {
            self.ip.forward_stats.too_big += 1;
            let next_hop_mtu = u16::try_from(hop.mtu).unwrap_or(u16::MAX);
            let kind = IcmpKind::FragmentationNeeded { next_hop_mtu };
            return (self.icmp).send_forward_error(&mut self.ip, kind, header, packet.data());
        }
        decrement_ttl(packet.data_mut(), header.header_len);
        if self.ip.forward_fragments(hop, header, packet) {
            self.ip.forward_stats.forwarded += 1;
            self.ip.forward_stats.fragmented += 1;
        }
    }
}

impl IpLayer {
    /// Whether `packet` (from `arrived`) must never be forwarded (see the
    /// module comment of `forward`).
    fn refuses(&self, arrived: InterfaceIndex, header: &Ipv4Header, packet: &[u8]) -> bool {
        let (source, destination) = (header.source, header.destination);
        unroutable(source)
            || unroutable(destination)
            || self.martian_source(arrived, source)
            || self.is_broadcast(destination)
            || source_routed(&packet[HEADER_LEN..header.header_len])
    }

    /// Where a forwarded packet to `destination` goes: the route's
    /// interface (up, not loopback), next hop and MTU. The path MTUs this
    /// host learned are its own and do not apply.
    fn forward_hop(&self, destination: Ipv4Addr) -> Option<NextHop> {
        let route = self.routes.lookup(destination)?;
        let interface = self.interface(route.interface).filter(|i| i.up)?;
        if interface.spec.kind != crate::interface::LinkKind::Ethernet {
            return None;
        }
        Some(NextHop {
            interface: route.interface,
            neighbour: route.gateway.unwrap_or(destination),
            source: interface
                .address
                .map_or(Ipv4Addr::UNSPECIFIED, |a| a.address),
            mtu: interface.spec.mtu,
        })
    }
}

/// One hop less to live, and the header checksum again (the caller made
/// sure the TTL was above 1).
fn decrement_ttl(packet: &mut [u8], header_len: usize) {
    packet[8] = packet[8].saturating_sub(1);
    packet[10..12].fill(0);
    let sum = wire::checksum(&packet[..header_len]);
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// Whether the `options` of a header route the packet by its source's
/// list (a malformed option list counts as one: it is dropped too).
fn source_routed(options: &[u8]) -> bool {
    let mut at = 0;
    while let Some(&kind) = options.get(at) {
        match kind {
            0 => return false,
            1 => at += 1,
            kind if SOURCE_ROUTES.contains(&kind) => return true,
            _ => match options.get(at + 1) {
                Some(&length) if length >= 2 => at += usize::from(length),
                _ => return true,
            },
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::ipv4::protocol;

    #[test]
    fn source_routes_and_malformed_options_are_refused() {
        assert!(!source_routed(&[]));
        assert!(!source_routed(&[1, 1, 0, 0]));
        assert!(!source_routed(&[7, 3, 4, 0]), "record route");
        assert!(source_routed(&[1, 131, 3, 4]));
        assert!(source_routed(&[137, 7, 4, 0, 0, 0, 0, 0]));
        assert!(source_routed(&[7, 1]), "a length below 2");
        assert!(source_routed(&[7]), "no length");
    }

    #[test]
    fn the_ttl_goes_down_and_the_checksum_stays_valid() {
        let mut packet = [0u8; 20];
        let header = Ipv4Header::new(
            Ipv4Addr::new(10, 0, 1, 1),
            Ipv4Addr::new(10, 0, 2, 1),
            protocol::UDP,
            0,
        );
        header.write(&mut packet);
        decrement_ttl(&mut packet, 20);
        let parsed = Ipv4Header::parse(&packet).expect("still valid");
        assert_eq!(parsed.ttl, 63);
    }
}
