//! ICMP errors reach the transports: a destination-unreachable quotes the
//! datagram it is about, and that datagram's endpoints find the TCP
//! connection or UDP endpoint to tell.
//!
//! The quote is untrusted: it is parsed like any header (RFC 792 promises
//! the IPv4 header and 8 bytes of the transport header; anything shorter
//! is ignored). Only quotes of datagrams this host sent count: the quoted
//! source must be one of our addresses.

use core::net::SocketAddrV4;

use wire::Ipv4Header;
use wire::ipv4::protocol;

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

impl Stack {
    /// Hands a parsed unreachable to the transport it concerns.
    pub(crate) fn unreachable_input(&mut self, report: Unreachable) {
        if !self.ip.is_local(*report.local.ip()) {
            return;
        }
        let now = self.now_ns();
        match report.protocol {
            protocol::TCP => {
                let kind = match report.code {
                    0 => tcp::Unreachable::Network,
                    1 => tcp::Unreachable::Host,
                    2 => tcp::Unreachable::Protocol,
                    3 => tcp::Unreachable::Port,
                    _ => tcp::Unreachable::Other,
                };
                let (local, remote, sequence) = (report.local, report.remote, report.sequence);
                self.tcp
                    .icmp_unreachable(now, local, remote, sequence, kind);
            }
            protocol::UDP if report.code == 3 => self.udp.refused(report.local, report.remote),
            _ => {}
        }
    }
}
