//! IPv4 headers (RFC 791): parsed with every length checked, written
//! without options.
//!
//! [`Ipv4Header::parse`] checks version, header length, total length and
//! the header checksum, and skips options (the stack processes none).
//! Bytes after the total length (Ethernet padding) are not payload.

use core::net::Ipv4Addr;

use crate::checksum::checksum;
use crate::error::{WireError, address, be16};

/// Bytes in a header without options.
pub const HEADER_LEN: usize = 20;

/// Protocol numbers the stack speaks.
pub mod protocol {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
}

/// A parsed IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Bytes of header, options included (20..=60).
    pub header_len: usize,
    /// DSCP and ECN bits.
    pub type_of_service: u8,
    /// Bytes of header plus payload.
    pub total_len: usize,
    /// The identification field, shared by a datagram's fragments.
    pub identification: u16,
    /// Don't fragment.
    pub dont_fragment: bool,
    /// More fragments follow.
    pub more_fragments: bool,
    /// Where this fragment's payload starts in the datagram, in bytes.
    pub fragment_offset: usize,
    /// Time to live.
    pub ttl: u8,
    /// The payload's protocol number ([`protocol`]).
    pub protocol: u8,
    /// Sender.
    pub source: Ipv4Addr,
    /// Receiver.
    pub destination: Ipv4Addr,
}

impl Ipv4Header {
    /// Parses and verifies the header at the start of `packet`.
    ///
    /// # Errors
    /// [`WireError::Truncated`], [`WireError::Unsupported`] (not version
    /// 4), [`WireError::BadLength`], [`WireError::BadChecksum`].
    pub fn parse(packet: &[u8]) -> Result<Self, WireError> {
        if packet.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if packet[0] >> 4 != 4 {
            return Err(WireError::Unsupported);
        }
        let header_len = usize::from(packet[0] & 0x0f) * 4;
        let total_len = usize::from(be16(packet, 2));
        if header_len < HEADER_LEN || total_len < header_len {
            return Err(WireError::BadLength);
        }
        if packet.len() < total_len {
            return Err(WireError::Truncated);
        }
        if checksum(&packet[..header_len]) != 0 {
            return Err(WireError::BadChecksum);
        }
        let flags_offset = be16(packet, 6);
        Ok(Self {
            header_len,
            type_of_service: packet[1],
            total_len,
            identification: be16(packet, 4),
            dont_fragment: flags_offset & 0x4000 != 0,
            more_fragments: flags_offset & 0x2000 != 0,
            fragment_offset: usize::from(flags_offset & 0x1fff) * 8,
            ttl: packet[8],
            protocol: packet[9],
            source: address(packet, 12),
            destination: address(packet, 16),
        })
    }

    /// Parses the header of a datagram quoted in an ICMP error: the
    /// checks of [`Ipv4Header::parse`] on the header alone (the quote
    /// holds only the start of the datagram, and routers may have changed
    /// fields since, so the checksum is not checked either).
    pub fn parse_quoted(quote: &[u8]) -> Option<Self> {
        let first = *quote.first()?;
        let header_len = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || header_len < HEADER_LEN || quote.len() < header_len {
            return None;
        }
        let flags_offset = be16(quote, 6);
        Some(Self {
            header_len,
            type_of_service: quote[1],
            total_len: usize::from(be16(quote, 2)),
            identification: be16(quote, 4),
            dont_fragment: flags_offset & 0x4000 != 0,
            more_fragments: flags_offset & 0x2000 != 0,
            fragment_offset: usize::from(flags_offset & 0x1fff) * 8,
            ttl: quote[8],
            protocol: quote[9],
            source: address(quote, 12),
            destination: address(quote, 16),
        })
    }

    /// Whether this is one fragment of a larger datagram.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }

    /// The payload's length.
    pub fn payload_len(&self) -> usize {
        self.total_len - self.header_len
    }

    /// A header without options for a `payload_len`-byte payload.
    pub fn new(source: Ipv4Addr, destination: Ipv4Addr, protocol: u8, payload_len: usize) -> Self {
        Self {
            header_len: HEADER_LEN,
            type_of_service: 0,
            total_len: HEADER_LEN + payload_len,
            identification: 0,
            dont_fragment: true,
            more_fragments: false,
            fragment_offset: 0,
            ttl: 64,
            protocol,
            source,
            destination,
        }
    }

    /// Writes the header, without options, checksum included, into the
    /// first [`HEADER_LEN`] bytes of `out`. `header_len` is taken to be 20
    /// and `total_len` must fit 16 bits (the caller sized the packet).
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`].
    pub fn write(&self, out: &mut [u8]) {
        let total_len = u16::try_from(self.total_len).unwrap_or(u16::MAX);
        let mut flags_offset = u16::try_from(self.fragment_offset / 8).unwrap_or(0) & 0x1fff;
        if self.dont_fragment {
            flags_offset |= 0x4000;
        }
        if self.more_fragments {
            flags_offset |= 0x2000;
        }
        out[0] = 0x45;
        out[1] = self.type_of_service;
        out[2..4].copy_from_slice(&total_len.to_be_bytes());
        out[4..6].copy_from_slice(&self.identification.to_be_bytes());
        out[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        out[8] = self.ttl;
        out[9] = self.protocol;
        out[10..12].copy_from_slice(&[0, 0]);
        out[12..16].copy_from_slice(&self.source.octets());
        out[16..20].copy_from_slice(&self.destination.octets());
        let sum = checksum(&out[..HEADER_LEN]);
        out[10..12].copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [u8; 28] {
        let mut packet = [0u8; 28];
        let mut header = Ipv4Header::new(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            protocol::UDP,
            8,
        );
        header.identification = 0x1234;
        header.write(&mut packet);
        packet
    }

    #[test]
    fn round_trip() {
        let packet = sample();
        let header = Ipv4Header::parse(&packet).unwrap();
        assert_eq!(header.total_len, 28);
        assert_eq!(header.payload_len(), 8);
        assert_eq!(header.identification, 0x1234);
        assert!(header.dont_fragment && !header.is_fragment());
        assert_eq!(header.source, Ipv4Addr::new(10, 0, 0, 1));
    }

    #[test]
    fn every_bad_field_is_rejected() {
        let packet = sample();
        assert_eq!(Ipv4Header::parse(&packet[..19]), Err(WireError::Truncated));
        assert_eq!(Ipv4Header::parse(&packet[..27]), Err(WireError::Truncated));
        let mut bad = packet;
        bad[0] = 0x65;
        assert_eq!(Ipv4Header::parse(&bad), Err(WireError::Unsupported));
        let mut bad = packet;
        bad[0] = 0x44;
        assert_eq!(Ipv4Header::parse(&bad), Err(WireError::BadLength));
        let mut bad = packet;
        bad[8] ^= 1;
        assert_eq!(Ipv4Header::parse(&bad), Err(WireError::BadChecksum));
        let mut long_options = packet;
        long_options[0] = 0x4f;
        assert_eq!(Ipv4Header::parse(&long_options), Err(WireError::BadLength));
    }

    #[test]
    fn quoted_headers_need_only_their_own_bytes() {
        let packet = sample();
        let quoted = Ipv4Header::parse_quoted(&packet[..20]).unwrap();
        assert_eq!(quoted.destination, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(Ipv4Header::parse_quoted(&packet[..19]), None);
        assert_eq!(Ipv4Header::parse_quoted(&[]), None);
        assert_eq!(Ipv4Header::parse_quoted(&[0x65; 20]), None);
        assert_eq!(
            Ipv4Header::parse_quoted(&[0x4f; 40]),
            None,
            "60-byte header in 40"
        );
    }

    #[test]
    fn fragment_fields() {
        let mut packet = sample();
        let mut header = Ipv4Header::parse(&packet).unwrap();
        header.dont_fragment = false;
        header.more_fragments = true;
        header.fragment_offset = 1480;
        header.write(&mut packet);
        let parsed = Ipv4Header::parse(&packet).unwrap();
        assert!(parsed.more_fragments && parsed.is_fragment());
        assert_eq!(parsed.fragment_offset, 1480);
    }
}
