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
//! 1122 4.2.3.9, RFC 5927). An ICMPv6 Packet Too Big lowers the path MTU
//! to its destination (`ipv6/path_mtu.rs`) and is a hint to the TCP
//! connection it names, which sends smaller segments from then on (RFC
//! 8201); IPv4's fragmentation-needed is not acted on yet.

use core::net::{IpAddr, SocketAddr, SocketAddrV4};

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
}

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
        })
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

    /// A Packet Too Big: the path MTU to the quoted destination, and a
    /// hint to the TCP connection whose segment it quotes.
    fn packet_too_big6(&mut self, report: &ErrorReport, mtu: u32) {
        self.ip.v6.icmp.stats.packet_too_big += 1;
        let IpAddr::V6(destination) = report.remote.ip() else {
            return;
        };
        let now = self.now_ns();
        self.ip.v6.path_mtus.lower(now, destination, mtu);
        if report.protocol == protocol::TCP {
            let (local, remote, sequence) = (report.local, report.remote, report.sequence);
            self.tcp.packet_too_big(now, local, remote, sequence, mtu);
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
