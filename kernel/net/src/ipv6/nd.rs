//! Neighbor Discovery on the wire (RFC 4861 7): solicitations answered,
//! advertisements fed to the neighbor cache and to DAD, and the
//! solicitations the cache and DAD ask for.
//!
//! Every ND message must arrive with hop limit 255 (so it was not
//! routed) and unfragmented (RFC 6980); the rest of the validity checks
//! are the wire parser's and those below. Router messages go to
//! `router.rs`. A solicitation for one of our tentative addresses from
//! the unspecified address is another node's DAD: a conflict, unless it
//! carries our own nonce (our probe looped back, RFC 7527). An
//! advertisement for a tentative address is a conflict too.

use alloc::collections::VecDeque;
use core::net::Ipv6Addr;

use wire::ethernet::HEADER_LEN as ETHERNET_HEADER_LEN;
use wire::ipv6::{addresses, solicited_node};
use wire::nd::{self, NeighborAdvertisement};
use wire::{Ipv6Header, MacAddress, NdMessage, NdPacket};

use super::neighbor::Advertised;
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;

/// Neighbor Discovery and MLD counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NdStats {
    /// Neighbor solicitations sent (resolution, NUD and DAD).
    pub solicitations_sent: u64,
    /// Neighbor solicitations received.
    pub solicitations_received: u64,
    /// Neighbor advertisements sent.
    pub advertisements_sent: u64,
    /// Neighbor advertisements received.
    pub advertisements_received: u64,
    /// Router solicitations sent.
    pub router_solicitations_sent: u64,
    /// Router advertisements taken.
    pub router_advertisements: u64,
    /// Router advertisements ignored because we route.
    pub router_advertisements_ignored: u64,
    /// Router solicitations received (a router answers them).
    pub router_solicitations_received: u64,
    /// Router advertisements sent (a router).
    pub router_advertisements_sent: u64,
    /// Redirects ignored (redirects are off) or refused.
    pub redirects_ignored: u64,
    /// Malformed or invalid ND messages.
    pub invalid: u64,
    /// Duplicate addresses found by DAD.
    pub dad_conflicts: u64,
    /// MLD reports sent.
    pub mld_reports_sent: u64,
    /// MLD queries answered.
    pub mld_queries: u64,
}

impl IpLayer {
    /// An ND message (`message`, checksum verified) for us.
    pub(crate) fn nd_input(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        message: &[u8],
        reassembled: bool,
    ) {
        let parsed = NdPacket::parse(message);
        let Ok(packet) = parsed.map_err(|_| ()).and_then(|p| match reassembled {
            false if header.hop_limit == 255 => Ok(p),
            _ => Err(()),
        }) else {
            self.v6.nd_stats.invalid += 1;
            return;
        };
        match packet.message {
            NdMessage::RouterSolicitation => {
                self.router_solicitation_input(index, header, &packet);
            }
            NdMessage::RouterAdvertisement(advertisement) => {
                self.router_advertisement_input(index, header, &advertisement, &packet);
            }
            NdMessage::NeighborSolicitation { target } => {
                self.solicitation_input(index, header, target, &packet);
            }
            NdMessage::NeighborAdvertisement(advertisement) => {
                self.advertisement_input(index, header, &advertisement, &packet);
            }
            NdMessage::Redirect {
                target,
                destination,
            } => self.redirect_input(index, header, target, destination, &packet),
        }
    }

    fn solicitation_input(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        target: Ipv6Addr,
        packet: &NdPacket<'_>,
    ) {
        self.v6.nd_stats.solicitations_received += 1;
        let dad = header.source.is_unspecified();
        let mac = packet.link_address();
        if dad && (header.destination != solicited_node(target) || mac.is_some()) {
            self.v6.nd_stats.invalid += 1;
            return;
        }
        let Some(entry) = self
            .interface(index)
            .and_then(|i| i.ipv6.find(target))
            .copied()
        else {
            return;
        };
        if entry.tentative() {
            if dad && packet.nonce() != Some(&entry.nonce[..]) {
                self.dad_conflict(index, target, None);
            }
            return;
        }
        if !entry.usable() {
            return;
        }
        if dad {
            self.send_advertisement(index, addresses::ALL_NODES, None, target, false);
            return;
        }
        if let Some(mac) = mac {
            let released = self
                .v6
                .neighbors
                .learn(self.now_ns, index, header.source, mac, false);
            self.release6(index, header.source, released);
        }
        self.send_advertisement(index, header.source, mac, target, true);
    }

    fn advertisement_input(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        advertisement: &NeighborAdvertisement,
        packet: &NdPacket<'_>,
    ) {
        self.v6.nd_stats.advertisements_received += 1;
        if header.destination.is_multicast() && advertisement.solicited {
            self.v6.nd_stats.invalid += 1;
            return;
        }
        let target = advertisement.target;
        let mac = packet.link_address();
        let ours = self
            .interface(index)
            .and_then(|i| i.ipv6.find(target))
            .copied();
        if let Some(entry) = ours {
            if entry.tentative() {
                self.dad_conflict(index, target, mac);
            } else if entry.usable() {
                match mac {
                    Some(mac) => log::warn!("{target} is also claimed by {mac}"),
                    None => log::warn!("{target} is also claimed by {}", header.source),
                }
            }
            return;
        }
        let advertised = Advertised {
            mac,
            solicited: advertisement.solicited,
            override_cache: advertisement.override_cache,
            router: advertisement.router,
        };
        let timing = self.nud_timing(index);
        let (released, router_lost) =
            self.v6
                .neighbors
                .advertise(self.now_ns, index, target, advertised, timing);
        self.release6(index, target, released);
        if router_lost {
            self.v6.routes.remove_router(index, target);
        }
    }

    /// Sends the packets that waited for `neighbour` (the cache moves it
    /// from `Stale` to `Delay` as they go).
    pub(crate) fn release6(
        &mut self,
        index: InterfaceIndex,
        neighbour: Ipv6Addr,
        released: VecDeque<PacketBuffer>,
    ) {
        for packet in released {
            // Dropped and counted by the interface if its queue is full.
            let _ = self.link_output6(index, neighbour, packet);
        }
    }

    /// Sends a solicitation for `target`: to its solicited-node group, or
    /// to `unicast` (a NUD probe), from our best source address.
    pub(crate) fn send_solicitation(
        &mut self,
        index: InterfaceIndex,
        target: Ipv6Addr,
        unicast: Option<MacAddress>,
    ) {
        let Some(source) = self.select_source6(index, target) else {
            return;
        };
        let (destination, mac) = match unicast {
            Some(mac) => (target, mac),
            None => {
                let group = solicited_node(target);
                (group, MacAddress::ipv6_multicast(group))
            }
        };
        let own = self.own_mac(index);
        self.send_nd(
            index,
            source,
            destination,
            Some(mac),
            nd::SOLICITATION_MAX_LEN,
            |out| nd::write_neighbor_solicitation(out, target, Some(own), None),
        );
        self.v6.nd_stats.solicitations_sent += 1;
    }

    /// Sends DAD's probe for `target` (from the unspecified address, with
    /// our nonce).
    pub(crate) fn send_dad_probe(
        &mut self,
        index: InterfaceIndex,
        target: Ipv6Addr,
        nonce: [u8; 6],
    ) {
        let group = solicited_node(target);
        let mac = MacAddress::ipv6_multicast(group);
        let source = Ipv6Addr::UNSPECIFIED;
        self.send_nd(
            index,
            source,
            group,
            Some(mac),
            nd::SOLICITATION_MAX_LEN,
            |out| nd::write_neighbor_solicitation(out, target, None, Some(nonce)),
        );
        self.v6.nd_stats.solicitations_sent += 1;
    }

    /// Advertises `target` (ours) to `to`: solicited answers go to the
    /// asker's MAC when known, the rest to all nodes.
    fn send_advertisement(
        &mut self,
        index: InterfaceIndex,
        to: Ipv6Addr,
        to_mac: Option<MacAddress>,
        target: Ipv6Addr,
        solicited: bool,
    ) {
        let advertisement = NeighborAdvertisement {
            router: self.v6.config.forwarding,
            solicited,
            override_cache: true,
            target,
        };
        let mac = match to_mac {
            _ if to.is_multicast() => Some(MacAddress::ipv6_multicast(to)),
            // Without the asker's address the answer goes through
            // resolution like any packet (RFC 4861 7.2.4).
            mac => mac,
        };
        let own = self.own_mac(index);
        self.send_nd(index, target, to, mac, nd::ADVERTISEMENT_MAX_LEN, |out| {
            nd::write_neighbor_advertisement(out, &advertisement, Some(own))
        });
        self.v6.nd_stats.advertisements_sent += 1;
    }
}

/// Frames carry the Ethernet header in front of the IPv6 one.
const _: () = assert!(crate::buffer::HEADROOM >= ETHERNET_HEADER_LEN + wire::ipv6::HEADER_LEN + 8);
