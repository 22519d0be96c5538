//! IPv6 input: the fixed header checked, the packet accepted or not, the
//! extension headers walked ([`wire::extension`]), fragments reassembled,
//! and the upper layer chosen.
//!
//! A packet is ours when it is addressed to a usable address of the
//! interface it came in on (or to any of ours over loopback), or to a
//! group that interface listens to. A tentative address accepts only
//! the Neighbor Discovery messages DAD needs (RFC 4862 5.4). Multicast or
//! loopback sources from a wire, our own addresses as sources, and an
//! unspecified source on anything but ICMPv6 are martians. ICMPv6 is
//! handled here; TCP and UDP go up as [`Ipv6Input::Transport`], and
//! unknown upper layers are answered with a Parameter Problem. With
//! forwarding on, a packet for any of our addresses is ours whichever
//! interface it came in on, and a unicast packet for another host goes
//! to `crate::forward` before anything past the fixed header is read.

use wire::Icmpv6Kind;
use wire::Ipv6Header;
use wire::extension::{Chain, ChainError, problem, walk};
use wire::icmpv6::kind;
use wire::ipv6::{HEADER_LEN, next_header};

use super::icmp::ErrorReport;
use crate::buffer::PacketBuffer;
use crate::interface::{InterfaceIndex, LinkKind};
use crate::ipv4::IpLayer;

/// What became of an IPv6 packet, for the stack to pass on.
#[derive(Debug)]
pub enum Ipv6Input {
    /// TCP or UDP for one of our addresses: the transports' part.
    Transport(Upper),
    /// An ICMPv6 error about a packet we sent, for the transports.
    Error(ErrorReport),
    /// Handled here, or dropped and counted.
    Consumed,
}

/// A packet for an upper layer.
#[derive(Debug)]
pub struct Upper {
    /// The interface it came in on.
    pub interface: InterfaceIndex,
    /// Its fixed header (of the whole packet, once reassembled).
    pub header: Ipv6Header,
    /// The upper-layer protocol.
    pub protocol: u8,
    /// Where the upper layer starts in `packet`.
    pub offset: usize,
    /// The packet, fixed header first.
    pub packet: PacketBuffer,
    /// It came to a link-layer group (no errors go back about it).
    pub link_multicast: bool,
}

impl Upper {
    /// The upper-layer message.
    pub fn payload(&self) -> &[u8] {
        &self.packet.data()[self.offset..]
    }

    /// The buffer with everything before the upper layer stripped.
    pub fn into_payload(mut self) -> PacketBuffer {
        self.packet.strip_front(self.offset);
        self.packet
    }
}

/// Whether a destination is ours, and how far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    Yes,
    /// A tentative address: only DAD's messages.
    Tentative,
    No,
}

impl IpLayer {
    /// Checks an incoming packet from `index` (its link header stripped;
    /// `link_multicast` when the frame went to a link-layer group) and
    /// handles or hands it on.
    pub(crate) fn ipv6_input(
        &mut self,
        index: InterfaceIndex,
        mut packet: PacketBuffer,
        link_multicast: bool,
    ) -> Ipv6Input {
        self.v6.stats.received += 1;
        let Ok(header) = Ipv6Header::parse(packet.data()) else {
            self.v6.stats.bad_header += 1;
            return Ipv6Input::Consumed;
        };
        let Some(receiver) = self.interface(index) else {
            return Ipv6Input::Consumed;
        };
        let looped = receiver.spec.kind == LinkKind::Loopback;
        let accept = self.accepts6(index, looped, &header);
        if accept == Accept::No {
            if self.v6.config.forwarding && !looped && !header.destination.is_multicast() {
                return self.forward6(index, &header, packet, link_multicast);
            }
            self.v6.stats.not_for_us += 1;
            return Ipv6Input::Consumed;
        }
        if !looped && self.martian_source6(&header) {
            self.v6.stats.martian_source += 1;
            return Ipv6Input::Consumed;
        }
        packet.truncate(HEADER_LEN + header.payload_len);
        // Marks a device left for a packet it would pass on mean nothing
        // to a packet that ends here (`offload.rs`).
        packet.clear_transmit_marks();
        let walked = walk(packet.data(), header.next_header, HEADER_LEN, 6, false);
        let arrival = Arrival {
            index,
            header,
            accept,
            link_multicast,
        };
        match walked {
            Ok(chain) => self.after_chain(arrival, packet, chain),
            Err(error) => {
                self.chain_refused(&arrival, &packet, error);
                Ipv6Input::Consumed
            }
        }
    }

    fn accepts6(&self, index: InterfaceIndex, looped: bool, header: &Ipv6Header) -> Accept {
        let destination = header.destination;
        if looped {
            return match self.is_local6(destination) {
                true => Accept::Yes,
                false => Accept::No,
            };
        }
        let Some(ipv6) = self
            .interface(index)
            .map(|i| &i.ipv6)
            .filter(|v6| v6.enabled)
        else {
            return Accept::No;
        };
        if destination.is_multicast() {
            return match ipv6.listens(destination) {
                true => Accept::Yes,
                false => Accept::No,
            };
        }
        let weak = self.v6.config.forwarding && !destination.is_loopback();
        if weak && self.is_local6(destination) {
            return Accept::Yes;
        }
        match ipv6.find(destination) {
            Some(address) if address.usable() => Accept::Yes,
            Some(address) if address.tentative() => Accept::Tentative,
            _ => Accept::No,
        }
    }

    /// Sources no honest host sends from, arriving on a wire.
    fn martian_source6(&self, header: &Ipv6Header) -> bool {
        let source = header.source;
        source.is_multicast() || source.is_loopback() || self.is_local6(source)
    }

    /// Fragments, atomic fragments, then the upper layer.
    fn after_chain(&mut self, arrival: Arrival, packet: PacketBuffer, chain: Chain) -> Ipv6Input {
        let Some(fragment) = chain.fragment else {
            return self.dispatch(arrival, packet, chain, false);
        };
        let rest = if fragment.is_atomic() {
            self.v6.stats.atomic_fragments += 1;
            (packet, chain.offset, fragment.at)
        } else {
            let index = arrival.index;
            let header = arrival.header;
            let Some(whole) = self.reassemble6(index, &header, packet, fragment, chain.offset)
            else {
                return Ipv6Input::Consumed;
            };
            (whole, HEADER_LEN, 6)
        };
        let (packet, start, pointer) = rest;
        let reassembled = !fragment.is_atomic();
        match walk(packet.data(), fragment.next_header, start, pointer, true) {
            Ok(chain) => self.dispatch(arrival, packet, chain, reassembled),
            Err(error) => {
                self.chain_refused(&arrival, &packet, error);
                Ipv6Input::Consumed
            }
        }
    }

    fn dispatch(
        &mut self,
        arrival: Arrival,
        packet: PacketBuffer,
        chain: Chain,
        reassembled: bool,
    ) -> Ipv6Input {
        let protocol = chain.protocol;
        let kind = packet.data().get(chain.offset).copied();
        let icmp = |kinds: &[u8]| {
            protocol == next_header::ICMPV6 && kind.is_some_and(|k| kinds.contains(&k))
        };
        if arrival.header.source.is_unspecified() && !icmp(&FROM_UNSPECIFIED) {
            self.v6.stats.martian_source += 1;
            return Ipv6Input::Consumed;
        }
        if arrival.accept == Accept::Tentative && !icmp(&FOR_DAD) {
            self.v6.stats.not_for_us += 1;
            return Ipv6Input::Consumed;
        }
        if spoken(protocol) {
            self.v6.stats.delivered += 1;
        }
        match protocol {
            next_header::ICMPV6 => self.icmpv6_input(&arrival, packet, chain, reassembled),
            next_header::NO_NEXT_HEADER => Ipv6Input::Consumed,
            next_header::TCP | next_header::UDP => Ipv6Input::Transport(Upper {
                interface: arrival.index,
                header: arrival.header,
                protocol,
                offset: chain.offset,
                packet,
                link_multicast: arrival.link_multicast,
            }),
            _ => {
                self.v6.stats.unknown_next_header += 1;
                let kind = Icmpv6Kind::ParameterProblem {
                    code: problem::NEXT_HEADER,
                    pointer: chain.protocol_pointer as u32,
                };
                self.error_about(&arrival, &packet, kind, false);
                Ipv6Input::Consumed
            }
        }
    }

    fn chain_refused(&mut self, arrival: &Arrival, packet: &PacketBuffer, error: ChainError) {
        self.v6.stats.extension_drops += 1;
        if let ChainError::Problem {
            code,
            pointer,
            to_multicast,
        } = error
        {
            let kind = Icmpv6Kind::ParameterProblem {
                code,
                pointer: pointer as u32,
            };
            self.error_about(arrival, packet, kind, to_multicast);
        }
    }

    /// Sends an error about the arrived packet, unless it came to a
    /// group and the error may not go to one (RFC 4443 2.4 e).
    pub(crate) fn error_about(
        &mut self,
        arrival: &Arrival,
        packet: &PacketBuffer,
        kind: Icmpv6Kind,
        to_multicast: bool,
    ) {
        let multicast = arrival.link_multicast || arrival.header.destination.is_multicast();
        if multicast && !to_multicast {
            return;
        }
        self.send_error6(
            arrival.index,
            &arrival.header,
            packet.data(),
            kind,
            multicast,
        );
    }
}

/// Where and how a packet arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    pub(crate) index: InterfaceIndex,
    pub(crate) header: Ipv6Header,
    accept: Accept,
    pub(crate) link_multicast: bool,
}

/// Upper layers the stack speaks over IPv6 (59: nothing follows).
fn spoken(protocol: u8) -> bool {
    matches!(
        protocol,
        next_header::ICMPV6 | next_header::NO_NEXT_HEADER | next_header::TCP | next_header::UDP
    )
}

/// What may come from the unspecified address: DAD's solicitations,
/// router solicitations before an address, MLD reports.
const FROM_UNSPECIFIED: [u8; 5] = [
    kind::NEIGHBOR_SOLICITATION,
    kind::ROUTER_SOLICITATION,
    kind::MLD_V2_REPORT,
    kind::MLD_V1_REPORT,
    kind::MLD_V1_DONE,
];

/// What a tentative address may receive (RFC 4862 5.4).
const FOR_DAD: [u8; 2] = [kind::NEIGHBOR_SOLICITATION, kind::NEIGHBOR_ADVERTISEMENT];
