//! ICMP and ICMPv6 errors reach the transports: a destination-unreachable
//! quotes the datagram it is about, and that datagram's endpoints find the
//! TCP connection or UDP endpoint to tell.
//!
//! The quote is untrusted: it is parsed like any header (RFC 792 promises
//! the IPv4 header and 8 bytes of the transport header; anything shorter
//! is ignored; ICMPv6's quote is parsed by `ipv6::ErrorReport`). Only
//! quotes of datagrams this host sent count: the quoted source must be
//! one of our addresses.
//!
//! What each family's codes mean to the transports: a port unreachable
//! (ICMP 3, ICMPv6 4) refuses a TCP connection being opened and tells a
//! connected UDP endpoint; everything else is a soft error for TCP (RFC
//! 1122 4.2.3.9, RFC 5927).
//!
//! Path MTU discovery, one way for both families. IPv4's "fragmentation
//! needed" (code 4) carries the next hop's MTU (RFC 1191; an old router's
//! 0 is read as the plateau below the quoted length; one that claims a
//! datagram was too big for an MTU it fits in is malformed); ICMPv6's
//! Packet Too Big carries it always (RFC 8201). One quoting a TCP segment
//! goes to TCP (`tcp::Tcp::icmp_too_big`), which checks it against the
//! connection (RFC 5927) and shrinks its segments; only what TCP accepts
//! reaches the path MTU cache (`path_mtu.rs`). A Packet Too Big about
//! anything else (UDP, whose datagrams are then fragmented to fit) goes
//! to the cache directly; IPv4 sends only TCP with DF set, so its
//! "fragmentation needed" about anything else is ignored.

use core::net::{SocketAddr, SocketAddrV4};

use wire::ipv4::protocol;
use wire::{Icmpv6Kind, Ipv4Header};

use crate::ipv6::ErrorReport;
use crate::stack::Stack;

/// What a destination-unreachable says, parsed from its quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable {
    /// The ICMP code (0 net, 1 host, 2 protocol, 3 port, …).
    pub code: u8,
    /// The quoted datagram's protocol.
    pub protocol: u8,
    /// Our end of the quoted datagram.
    pub local: SocketAddrV4,
    /// The far end.
    pub remote: SocketAddrV4,
    /// For TCP, the quoted sequence number.
    pub sequence: u32,
    /// The quoted datagram's total length.
    pub quoted_length: u16,
    /// For code 4 (fragmentation needed), the next hop's MTU (0 from
    /// routers older than RFC 1191).
    pub next_hop_mtu: u16,
}

/// Code 4: the datagram needed fragmenting and had DF set.
pub const FRAGMENTATION_NEEDED: u8 = 4;

/// RFC 1191 7's plateaus, for a "fragmentation needed" without an MTU.
const PLATEAUS: [u16; 10] = [
    32_000, 17_914, 8_166, 4_352, 2_002, 1_492, 1_006, 508, 296, 68,
];

impl Unreachable {
    /// Parses the body of a destination-unreachable (after its 8-byte
    /// header): the quoted IPv4 header and the first 8 transport bytes.
    pub fn parse(code: u8, quote: &[u8]) -> Option<Self> {
        let header = Ipv4Header::parse_quoted(quote)?;
        let transport = quote.get(header.header_len..header.header_len + 8)?;
        let port = |at: usize| u16::from_be_bytes([transport[at], transport[at + 1]]);
        let sequence = u32::from_be_bytes([transport[4], transport[5], transport[6], transport[7]]);
        Some(Self {
            code,
            protocol: header.protocol,
            local: SocketAddrV4::new(header.source, port(0)),
            remote: SocketAddrV4::new(header.destination, port(2)),
            sequence,
            quoted_length: u16::try_from(header.total_len).unwrap_or(u16::MAX),
            next_hop_mtu: 0,
        })
    }

    /// The MTU a "fragmentation needed" names: its own, or the plateau
    /// below the quoted length; `None` when the quoted datagram would
    /// have fit.
    pub fn path_mtu(&self) -> Option<u16> {
        let mtu = match self.next_hop_mtu {
            0 => *PLATEAUS
                .iter()
                .find(|&&plateau| plateau < self.quoted_length)?,
            mtu => mtu,
        };
        (mtu < self.quoted_length).then_some(mtu)
    }
}

/// An error about a datagram we sent, either family.
struct TransportError {
    protocol: u8,
    local: SocketAddr,
    remote: SocketAddr,
    sequence: u32,
    /// What it means to TCP; a port unreachable also refuses UDP.
    kind: tcp::Unreachable,
}

impl Stack {
    /// Hands a parsed unreachable to the transport it concerns.
    pub(crate) fn unreachable_input(&mut self, report: Unreachable) {
        if !self.ip.is_local(*report.local.ip()) {
            return;
        }
        if report.protocol == protocol::TCP && report.code == FRAGMENTATION_NEEDED {
            return self.fragmentation_needed(report);
        }
        let kind = match report.code {
            0 => tcp::Unreachable::Network,
            1 => tcp::Unreachable::Host,
            2 => tcp::Unreachable::Protocol,
            3 => tcp::Unreachable::Port,
            _ => tcp::Unreachable::Other,
        };
        self.transport_error(TransportError {
            protocol: report.protocol,
            local: SocketAddr::V4(report.local),
            remote: SocketAddr::V4(report.remote),
            sequence: report.sequence,
            kind,
        });
    }

    /// An ICMPv6 error about a packet we sent (its quoted source is ours,
    /// `ipv6/icmp.rs` made sure), for the transport it concerns.
    pub(crate) fn error_report6(&mut self, report: ErrorReport) {
        let kind = match report.kind {
            Icmpv6Kind::DestinationUnreachable { code } => match code {
                wire::icmpv6::unreachable::NO_ROUTE => tcp::Unreachable::Network,
                wire::icmpv6::unreachable::ADDRESS => tcp::Unreachable::Host,
                wire::icmpv6::unreachable::PORT => tcp::Unreachable::Port,
                _ => tcp::Unreachable::Other,
            },
            Icmpv6Kind::PacketTooBig { mtu } => return self.packet_too_big6(&report, mtu),
            _ => tcp::Unreachable::Other,
        };
        self.transport_error(TransportError {
            protocol: report.protocol,
            local: report.local,
            remote: report.remote,
            sequence: report.sequence,
            kind,
        });
    }

    /// A Packet Too Big (see the module comment).
    fn packet_too_big6(&mut self, report: &ErrorReport, mtu: u32) {
        self.ip.v6.icmp.stats.packet_too_big += 1;
        let (local, remote) = (report.local, report.remote);
        if !remote.is_ipv6() {
            return;
        }
        if report.protocol == protocol::TCP {
            self.tcp_too_big(local, remote, report.sequence, mtu);
        } else {
            let now = self.now_ns();
            self.ip.path_mtu.lower(remote.ip(), mtu, now);
        }
    }

    fn transport_error(&mut self, error: TransportError) {
        let now = self.now_ns();
        match error.protocol {
            protocol::TCP => {
                let (local, remote, sequence) = (error.local, error.remote, error.sequence);
                self.tcp
                    .icmp_unreachable(now, local, remote, sequence, error.kind);
            }
            protocol::UDP if error.kind == tcp::Unreachable::Port => {
                self.udp.refused(error.local, error.remote);
            }
            _ => {}
        }
    }
}

impl Stack {
    /// RFC 1191: a "fragmentation needed" about a TCP segment, whose MTU
    /// the message must name plausibly.
    fn fragmentation_needed(&mut self, report: Unreachable) {
        let Some(mtu) = report.path_mtu() else {
            self.icmp.stats.malformed += 1;
            return;
        };
        let (local, remote) = (SocketAddr::V4(report.local), SocketAddr::V4(report.remote));
        self.tcp_too_big(local, remote, report.sequence, mtu.into());
    }

    /// Either family: TCP lowers the quoted connection's MTU if the
    /// message checks out against it (RFC 5927), and the cache then holds
    /// that MTU for the destination.
    fn tcp_too_big(&mut self, local: SocketAddr, remote: SocketAddr, sequence: u32, mtu: u32) {
        let now = self.now_ns();
        let lowered = (self.tcp).icmp_too_big(now, local, remote, sequence, mtu, &mut self.ip);
        if lowered {
            self.ip.path_mtu.lower(remote.ip(), mtu, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(quoted_length: u16, next_hop_mtu: u16) -> Unreachable {
        let any = SocketAddrV4::new(core::net::Ipv4Addr::UNSPECIFIED, 1);
        Unreachable {
            code: FRAGMENTATION_NEEDED,
            protocol: protocol::TCP,
            local: any,
            remote: any,
            sequence: 0,
            quoted_length,
            next_hop_mtu,
        }
    }

    #[test]
    fn the_mtu_is_the_routers_or_the_plateau_below_and_smaller_than_the_quote() {
        assert_eq!(report(1500, 1280).path_mtu(), Some(1280));
        assert_eq!(report(1500, 0).path_mtu(), Some(1492));
        assert_eq!(report(1492, 0).path_mtu(), Some(1006));
        assert_eq!(report(60, 0).path_mtu(), None);
        assert_eq!(report(1280, 1280).path_mtu(), None, "it would have fit");
        assert_eq!(report(1280, 9000).path_mtu(), None);
    }
}
