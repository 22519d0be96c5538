//! IPv6 headers (RFC 8200): the fixed 40 bytes, and addresses' roles.
//!
//! [`Ipv6Header::parse`] checks the version and that the payload length
//! fits the bytes present; what follows the header (extension headers,
//! then the upper layer) is walked by [`crate::extension`]. Bytes after
//! the payload length (Ethernet padding) are not payload. A payload
//! length of zero with a hop-by-hop header would announce a jumbogram
//! (RFC 2675): links here carry at most 64 KiB, so it is only an empty
//! packet.

use core::net::Ipv6Addr;

use crate::error::{WireError, be16};

/// Bytes in the fixed header.
pub const HEADER_LEN: usize = 40;
/// The smallest MTU a link carrying IPv6 has (RFC 8200 5).
pub const MINIMUM_MTU: usize = 1280;

/// Next-header values: extension headers and upper layers.
pub mod next_header {
    /// Hop-by-hop options (only right after the fixed header).
    pub const HOP_BY_HOP: u8 = 0;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// Routing header.
    pub const ROUTING: u8 = 43;
    /// Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// Nothing follows.
    pub const NO_NEXT_HEADER: u8 = 59;
    /// Destination options.
    pub const DESTINATION_OPTIONS: u8 = 60;
}

/// Well-known addresses.
pub mod addresses {
    use core::net::Ipv6Addr;

    /// ff02::1, every node on the link.
    pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    /// ff02::2, every router on the link.
    pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    /// ff02::16, where MLDv2 reports go.
    pub const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);
}

/// The solicited-node group of `address` (RFC 4291 2.7.1):
/// ff02::1:ffXX:XXXX with the address's last 24 bits.
pub fn solicited_node(address: Ipv6Addr) -> Ipv6Addr {
    let [.., a, b, c] = address.octets();
    let mut group = [0u8; 16];
    group[..2].copy_from_slice(&[0xff, 0x02]);
    group[11..].copy_from_slice(&[0x01, 0xff, a, b, c]);
    Ipv6Addr::from(group)
}

/// Whether `address` is link-local unicast (fe80::/10).
pub fn is_link_local(address: Ipv6Addr) -> bool {
    address.segments()[0] & 0xffc0 == 0xfe80
}

/// Whether `address` is a multicast group of link-local (or smaller)
/// scope: the groups ND and MLD use, never routed.
pub fn is_link_scope_multicast(address: Ipv6Addr) -> bool {
    address.is_multicast() && address.octets()[1] & 0x0f <= 2
}

/// The first `prefix_length` bits of `address`, the rest cleared.
pub fn mask(address: Ipv6Addr, prefix_length: u8) -> Ipv6Addr {
    let bits = u32::from(prefix_length.min(128));
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    Ipv6Addr::from(u128::from(address) & mask)
}

/// Leading bits that `a` and `b` share (RFC 6724's CommonPrefixLen).
pub fn common_prefix_length(a: Ipv6Addr, b: Ipv6Addr) -> u8 {
    // At most 128: it fits.
    (u128::from(a) ^ u128::from(b)).leading_zeros() as u8
}

/// A parsed fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Header {
    /// DSCP and ECN bits.
    pub traffic_class: u8,
    /// The flow label (20 bits).
    pub flow_label: u32,
    /// Bytes after the fixed header: extension headers and upper layer.
    pub payload_len: usize,
    /// What follows the fixed header ([`next_header`]).
    pub next_header: u8,
    /// Hops left.
    pub hop_limit: u8,
    /// Sender.
    pub source: Ipv6Addr,
    /// Receiver.
    pub destination: Ipv6Addr,
}

impl Ipv6Header {
    /// Parses the fixed header at the start of `packet`.
    ///
    /// # Errors
    /// [`WireError::Truncated`] (also when the payload length runs past
    /// the bytes present), [`WireError::Unsupported`] (not version 6).
    pub fn parse(packet: &[u8]) -> Result<Self, WireError> {
        let header = Self::parse_quoted(packet).ok_or(if packet.len() < HEADER_LEN {
            WireError::Truncated
        } else {
            WireError::Unsupported
        })?;
        if packet.len() < HEADER_LEN + header.payload_len {
            return Err(WireError::Truncated);
        }
        Ok(header)
    }

    /// Parses the header of a packet quoted in an ICMPv6 error: the
    /// fixed header alone (the quote is cut short, so the payload length
    /// is not checked against it).
    pub fn parse_quoted(quote: &[u8]) -> Option<Self> {
        if quote.len() < HEADER_LEN || quote[0] >> 4 != 6 {
            return None;
        }
        let first = u32::from_be_bytes([quote[0], quote[1], quote[2], quote[3]]);
        let mut source = [0u8; 16];
        let mut destination = [0u8; 16];
        source.copy_from_slice(&quote[8..24]);
        destination.copy_from_slice(&quote[24..40]);
        Some(Self {
            // Bits 4..12 of the first word; the cast keeps those 8.
            traffic_class: (first >> 20) as u8,
            flow_label: first & 0x000f_ffff,
            payload_len: usize::from(be16(quote, 4)),
            next_header: quote[6],
            hop_limit: quote[7],
            source: Ipv6Addr::from(source),
            destination: Ipv6Addr::from(destination),
        })
    }

    /// A header for `payload_len` bytes of `next_header` with hop limit 64.
    pub fn new(
        source: Ipv6Addr,
        destination: Ipv6Addr,
        next_header: u8,
        payload_len: usize,
    ) -> Self {
        Self {
            traffic_class: 0,
            flow_label: 0,
            payload_len,
            next_header,
            hop_limit: 64,
            source,
            destination,
        }
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `out`;
    /// `payload_len` must fit 16 bits (the caller sized the packet).
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`].
    pub fn write(&self, out: &mut [u8]) {
        let first =
            (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0x000f_ffff);
        let payload_len = u16::try_from(self.payload_len).unwrap_or(u16::MAX);
        out[0..4].copy_from_slice(&first.to_be_bytes());
        out[4..6].copy_from_slice(&payload_len.to_be_bytes());
        out[6] = self.next_header;
        out[7] = self.hop_limit;
        out[8..24].copy_from_slice(&self.source.octets());
        out[24..40].copy_from_slice(&self.destination.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    #[test]
    fn round_trip_and_rejects() {
        let mut header = Ipv6Header::new(address("fe80::1"), address("ff02::1"), 58, 8);
        header.traffic_class = 0xab;
        header.flow_label = 0x12345;
        let mut packet = [0u8; 48];
        header.write(&mut packet);
        assert_eq!(Ipv6Header::parse(&packet), Ok(header));
        assert_eq!(Ipv6Header::parse(&packet[..47]), Err(WireError::Truncated));
        assert_eq!(Ipv6Header::parse(&packet[..39]), Err(WireError::Truncated));
        let mut four = packet;
        four[0] = 0x45;
        assert_eq!(Ipv6Header::parse(&four), Err(WireError::Unsupported));
        assert_eq!(Ipv6Header::parse_quoted(&packet[..40]), Some(header));
        assert_eq!(Ipv6Header::parse_quoted(&packet[..39]), None);
    }

    #[test]
    fn address_roles() {
        assert_eq!(
            solicited_node(address("2001:db8::1:2:3456:789a")),
            address("ff02::1:ff56:789a")
        );
        assert!(is_link_local(address("fe80::1")));
        assert!(is_link_local(address("febf::1")));
        assert!(!is_link_local(address("fec0::1")));
        assert!(is_link_scope_multicast(address("ff02::1")));
        assert!(!is_link_scope_multicast(address("ff05::2")));
        assert_eq!(
            mask(address("2001:db8:1:2:3:4:5:6"), 64),
            address("2001:db8:1:2::")
        );
        assert_eq!(mask(address("2001:db8::1"), 0), Ipv6Addr::UNSPECIFIED);
        assert_eq!(mask(address("2001:db8::1"), 200), address("2001:db8::1"));
        assert_eq!(
            common_prefix_length(address("2001:db8::"), address("2001:db9::")),
            31
        );
        assert_eq!(common_prefix_length(address("::1"), address("::1")), 128);
    }
}
