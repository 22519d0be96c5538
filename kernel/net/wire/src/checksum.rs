//! The Internet checksum (RFC 1071) and the IPv4 and IPv6 pseudo-headers.
//!
//! [`Checksum`] accumulates the one's-complement sum of 16-bit big-endian
//! words over any number of byte slices. Every slice but the last must have
//! an even length (headers and payloads are added in that order, so this
//! holds for every protocol here); an odd last slice is padded with a zero
//! byte, as the RFC says. [`Checksum::finish`] folds the sum and returns the
//! value to store in a header; a received packet verifies when the sum over
//! it, checksum field included, finishes as 0.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A running Internet checksum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    sum: u64,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Self { sum: 0 }
    }

    /// Adds `bytes` as big-endian 16-bit words (see the module comment for
    /// odd lengths).
    pub fn add(&mut self, bytes: &[u8]) -> &mut Self {
        let mut chunks = bytes.chunks_exact(4);
        for chunk in &mut chunks {
            let word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            self.sum += u64::from(word);
        }
        let mut rest = chunks.remainder().chunks(2);
        for pair in &mut rest {
            let high = u64::from(pair[0]) << 8;
            let low = pair.get(1).copied().map_or(0, u64::from);
            self.sum += high | low;
        }
        self
    }

    /// Adds one 16-bit value.
    pub fn add_u16(&mut self, value: u16) -> &mut Self {
        self.sum += u64::from(value);
        self
    }

    /// Adds the IPv4 pseudo-header of TCP and UDP: source, destination,
    /// protocol number and the transport length (header plus payload).
    pub fn add_ipv4_pseudo_header(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        protocol: u8,
        length: u16,
    ) -> &mut Self {
        self.add(&source.octets())
            .add(&destination.octets())
            .add_u16(u16::from(protocol))
            .add_u16(length)
    }

    /// Adds the IPv6 pseudo-header (RFC 8200 8.1) of TCP, UDP and ICMPv6:
    /// source, destination, the upper-layer length and next header.
    pub fn add_ipv6_pseudo_header(
        &mut self,
        source: Ipv6Addr,
        destination: Ipv6Addr,
        next_header: u8,
        length: u32,
    ) -> &mut Self {
        self.add(&source.octets())
            .add(&destination.octets())
            .add(&length.to_be_bytes())
            .add_u16(u16::from(next_header))
    }

    /// Adds the pseudo-header of either family, for transports that hold
    /// an `IpAddr` pair. A pair of mixed families (no real packet has
    /// one) is summed as two IPv4-mapped IPv6 addresses.
    pub fn add_pseudo_header(
        &mut self,
        source: IpAddr,
        destination: IpAddr,
        protocol: u8,
        length: u32,
    ) -> &mut Self {
        match (source, destination) {
            (IpAddr::V4(source), IpAddr::V4(destination)) => {
                let length = u16::try_from(length).unwrap_or(u16::MAX);
                self.add_ipv4_pseudo_header(source, destination, protocol, length)
            }
            (source, destination) => {
                self.add_ipv6_pseudo_header(to_v6(source), to_v6(destination), protocol, length)
            }
        }
    }

    /// The one's complement of the folded sum: the value for the header.
    pub fn finish(&self) -> u16 {
        !self.fold()
    }

    /// The folded sum itself, not complemented: what a header holds when
    /// a device is to complete the checksum (a partial checksum: the
    /// pseudo-header's sum, which the device's sum over the segment then
    /// includes).
    pub fn fold(&self) -> u16 {
        let mut sum = self.sum;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        // The loop leaves at most 16 significant bits.
        sum as u16
    }
}

/// Completes a partial checksum as a device would: `segment` (a TCP or
/// UDP header and payload) holds the folded pseudo-header sum in its
/// checksum field at `field`; the sum over the whole segment, that field
/// included, is the full one, and its complement goes into the field. A
/// complement of zero goes as 0xffff, the same in one's complement, as
/// UDP needs (zero there means no checksum, RFC 768). Returns false (and
/// writes nothing) when the field is not inside.
pub fn complete_partial(segment: &mut [u8], field: usize) -> bool {
    if field.checked_add(2).is_none_or(|end| end > segment.len()) {
        return false;
    }
    let sum = match Checksum::new().add(segment).finish() {
        0 => 0xffff,
        sum => sum,
    };
    segment[field..field + 2].copy_from_slice(&sum.to_be_bytes());
    true
}

fn to_v6(address: IpAddr) -> Ipv6Addr {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The checksum of one contiguous block (an IPv4 header, an ICMP message).
pub fn checksum(bytes: &[u8]) -> u16 {
    Checksum::new().add(bytes).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&bytes), !0xddf2);
    }

    #[test]
    fn a_real_ipv4_header_verifies_to_zero() {
        // 192.168.0.1 -> 192.168.0.199, TTL 64, UDP, from a capture.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&header), 0);
        let mut zeroed = header;
        zeroed[10] = 0;
        zeroed[11] = 0;
        assert_eq!(checksum(&zeroed), 0xb861);
    }

    #[test]
    fn odd_tail_is_padded_and_split_sums_agree() {
        let bytes: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];
        let whole = checksum(&bytes);
        let split = Checksum::new().add(&bytes[..4]).add(&bytes[4..]).finish();
        assert_eq!(whole, split);
        assert_eq!(whole, checksum(&[1, 2, 3, 4, 5, 6, 7, 0]));
    }

    #[test]
    fn pseudo_header_matches_the_bytes_it_stands_for() {
        let source = Ipv4Addr::new(10, 0, 0, 1);
        let destination = Ipv4Addr::new(10, 0, 0, 2);
        let by_fields = Checksum::new()
            .add_ipv4_pseudo_header(source, destination, 6, 40)
            .finish();
        let by_bytes = checksum(&[10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 40]);
        assert_eq!(by_fields, by_bytes);
        let generic = Checksum::new()
            .add_pseudo_header(source.into(), destination.into(), 6, 40)
            .finish();
        assert_eq!(generic, by_bytes);
    }

    #[test]
    fn ipv6_pseudo_header_matches_the_bytes_it_stands_for() {
        let source: Ipv6Addr = "fe80::1".parse().unwrap();
        let destination: Ipv6Addr = "ff02::1".parse().unwrap();
        let by_fields = Checksum::new()
            .add_ipv6_pseudo_header(source, destination, 58, 0x1_0008)
            .finish();
        let mut bytes = [0u8; 40];
        bytes[..16].copy_from_slice(&source.octets());
        bytes[16..32].copy_from_slice(&destination.octets());
        bytes[32..36].copy_from_slice(&0x1_0008u32.to_be_bytes());
        bytes[39] = 58;
        assert_eq!(by_fields, checksum(&bytes));
        let generic = Checksum::new()
            .add_pseudo_header(source.into(), destination.into(), 58, 0x1_0008)
            .finish();
        assert_eq!(generic, by_fields);
    }

    #[test]
    fn a_completed_partial_checksum_equals_the_full_one() {
        let source = Ipv4Addr::new(10, 0, 0, 1);
        let destination = Ipv4Addr::new(10, 0, 0, 2);
        for length in [20usize, 21, 57, 1480] {
            let mut segment: std::vec::Vec<u8> = (0..length).map(|i| (i * 7 + 3) as u8).collect();
            segment[16..18].fill(0);
            let pseudo = Checksum::new()
                .add_ipv4_pseudo_header(source, destination, 6, length as u16)
                .fold();
            let mut full = segment.clone();
            let sum = Checksum::new()
                .add_ipv4_pseudo_header(source, destination, 6, length as u16)
                .add(&full)
                .finish();
            full[16..18].copy_from_slice(&sum.to_be_bytes());
            segment[16..18].copy_from_slice(&pseudo.to_be_bytes());
            assert!(complete_partial(&mut segment, 16));
            assert_eq!(segment, full, "length {length}");
        }
        assert!(!complete_partial(&mut [0u8; 17], 16), "field outside");
        let mut zero_sum = [0xff, 0xff, 0, 0];
        assert!(complete_partial(&mut zero_sum, 2));
        assert_eq!(zero_sum[2..], [0xff, 0xff], "a zero sum goes as ones");
        assert_eq!(Checksum::new().add(&zero_sum).finish(), 0, "and checks");
    }
}
