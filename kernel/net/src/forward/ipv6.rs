//! Forwarding IPv6 packets (RFC 8200, RFC 4443): checks, hop limit,
//! route, size.
//!
//! IPv6 input hands over a unicast packet that is not ours after reading
//! only its fixed header; the extension headers are the destination's to
//! read (a router may skip Hop-by-Hop, RFC 8200 4.3). Errors go out by
//! `send_error6`, which rate-limits them and follows RFC 4443 2.4. A
//! coalesced TCP/IPv6 segment (a device's receive TSO6 or GRO) goes whole
//! to a device that cuts TCP/IPv6 (TSO6) and is cut here for any other,
//! by the routine that cuts TCP/IPv4 (`segment.rs`).

use core::net::Ipv6Addr;

use wire::Icmpv6Kind;
use wire::Ipv6Header;
use wire::icmpv6::unreachable;
use wire::ipv6::HEADER_LEN;

use super::segment::{Coalesced, Layout};
use super::unroutable6;
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;
use crate::ipv6::{Ipv6Input, link_mtu6};

impl IpLayer {
    /// Forwards `packet` (fixed header `header`) that came in on
    /// `arrived`; `link_multicast` when its frame went to a group.
    pub(crate) fn forward6(
        &mut self,
        arrived: InterfaceIndex,
        header: &Ipv6Header,
        mut packet: PacketBuffer,
        link_multicast: bool,
    ) -> Ipv6Input {
        if link_multicast || self.refuses6(header) {
            self.v6.forward_stats.refused += 1;
            return Ipv6Input::Consumed;
        }
        packet.truncate(HEADER_LEN + header.payload_len);
        if header.hop_limit <= 1 {
            self.v6.forward_stats.ttl_exceeded += 1;
            let kind = Icmpv6Kind::TimeExceeded { code: 0 };
            self.send_error6(arrived, header, packet.data(), kind, false);
            return Ipv6Input::Consumed;
        }
        let Some((interface, neighbour, mtu)) = self.forward_hop6(header) else {
            self.v6.forward_stats.no_route += 1;
            let code = unreachable::NO_ROUTE;
            let kind = Icmpv6Kind::DestinationUnreachable { code };
            self.send_error6(arrived, header, packet.data(), kind, false);
            return Ipv6Input::Consumed;
        };
        if interface == arrived && self.redirect6(arrived, header, neighbour, packet.data()) {
            self.v6.forward_stats.redirects += 1;
        }
        if packet.segment_size() > 0 {
            return self.forward_coalesced6(arrived, header, (interface, neighbour, mtu), packet);
        }
        if packet.len() > mtu {
            self.v6.forward_stats.too_big += 1;
            let kind = Icmpv6Kind::PacketTooBig { mtu: mtu as u32 };
            self.send_error6(arrived, header, packet.data(), kind, false);
            return Ipv6Input::Consumed;
        }
        packet.data_mut()[7] = header.hop_limit - 1;
        if self.link_output6(interface, neighbour, packet).is_ok() {
            self.v6.forward_stats.forwarded += 1;
        }
        Ipv6Input::Consumed
    }

    /// A coalesced TCP segment (`segment.rs`): whole, cut by the next
    /// device, cut here, answered as too big, or dropped.
    fn forward_coalesced6(
        &mut self,
        arrived: InterfaceIndex,
        header: &Ipv6Header,
        (interface, neighbour, mtu): (InterfaceIndex, Ipv6Addr, usize),
        mut packet: PacketBuffer,
    ) -> Ipv6Input {
        let layout = Layout::ipv6(header, packet.data());
        let how = self.coalesced((interface, mtu), packet.len(), layout, &packet);
        match how {
            Coalesced::Unfit => self.v6.forward_stats.coalesced_dropped += 1,
            Coalesced::TooBig => {
                self.v6.forward_stats.too_big += 1;
                let kind = Icmpv6Kind::PacketTooBig { mtu: mtu as u32 };
                self.send_error6(arrived, header, packet.data(), kind, false);
            }
            _ => {
                packet.data_mut()[7] = header.hop_limit - 1;
                let sent = self.send_coalesced6((interface, neighbour), how, layout, packet);
                let stats = &mut self.v6.forward_stats;
                stats.forwarded += u64::from(sent);
                stats.segmented += u64::from(sent && how == Coalesced::Software);
            }
        }
        Ipv6Input::Consumed
    }

    /// Sends coalesced `packet` on as `how` says: whole, or cut by the
    /// device, or cut here; false when it (or a piece) could not go.
    fn send_coalesced6(
        &mut self,
        (interface, neighbour): (InterfaceIndex, Ipv6Addr),
        how: Coalesced,
        layout: Option<Layout>,
        mut packet: PacketBuffer,
    ) -> bool {
        if how == Coalesced::Whole {
            packet.set_segment_size(0);
        }
        match (how, layout) {
            (Coalesced::Software, Some(layout)) => {
                self.forward_segments((interface, neighbour.into()), layout, &packet)
            }
            _ => self.link_output6(interface, neighbour, packet).is_ok(),
        }
    }

    /// Whether `header`'s packet must never be forwarded: scope and
    /// martians either way, or a source of ours.
    fn refuses6(&self, header: &Ipv6Header) -> bool {
        unroutable6(header.source)
            || unroutable6(header.destination)
            || self.is_local6(header.source)
    }

    /// Where a forwarded packet goes: the interface (up, running IPv6),
    /// the neighbour and the link MTU. Path MTUs this host learned are its
    /// own and do not apply.
    fn forward_hop6(&self, header: &Ipv6Header) -> Option<(InterfaceIndex, Ipv6Addr, usize)> {
        let (interface, neighbour) = self.route6(header.destination)?;
        let running = self.running6(interface)?;
        Some((interface, neighbour, link_mtu6(running)))
    }
}
