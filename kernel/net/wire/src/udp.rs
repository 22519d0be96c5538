//! UDP headers (RFC 768): 8 bytes, checksum over the pseudo-header of
//! IPv4 or IPv6. Over IPv6 the checksum is mandatory (RFC 8200 8.1): a
//! zero one is refused.

use core::net::{IpAddr, Ipv4Addr};

use crate::checksum::Checksum;
use crate::error::{WireError, be16};
use crate::ipv4::protocol;

/// Bytes in a UDP header.
pub const HEADER_LEN: usize = 8;

/// A parsed UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpHeader {
    /// Source port.
    pub source_port: u16,
    /// Destination port.
    pub destination_port: u16,
    /// Header plus payload, from the length field.
    pub length: usize,
}

impl UdpHeader {
    /// Parses `datagram` (the IP payload) and verifies its checksum unless
    /// the sender left it zero.
    ///
    /// # Errors
    /// [`WireError::Truncated`], [`WireError::BadLength`],
    /// [`WireError::BadChecksum`].
    pub fn parse(
        datagram: &[u8],
        source: Ipv4Addr,
        destination: Ipv4Addr,
    ) -> Result<Self, WireError> {
        Self::parse_ip(datagram, IpAddr::V4(source), IpAddr::V4(destination))
    }

    /// [`UdpHeader::parse`] for either family; over IPv6 a zero checksum
    /// is [`WireError::BadChecksum`].
    ///
    /// # Errors
    /// [`WireError::Truncated`], [`WireError::BadLength`],
    /// [`WireError::BadChecksum`].
    pub fn parse_ip(
        datagram: &[u8],
        source: IpAddr,
        destination: IpAddr,
    ) -> Result<Self, WireError> {
        Self::parse_checked(datagram, (source, destination), false)
    }

    /// [`UdpHeader::parse_ip`] that skips the checksum a device vouched
    /// for (`verified`); a zero one over IPv6 is still refused.
    ///
    /// # Errors
    /// As [`UdpHeader::parse_ip`].
    pub fn parse_checked(
        datagram: &[u8],
        (source, destination): (IpAddr, IpAddr),
        verified: bool,
    ) -> Result<Self, WireError> {
        if datagram.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let length = usize::from(be16(datagram, 4));
        if length < HEADER_LEN || length > datagram.len() {
            return Err(WireError::BadLength);
        }
        let stored = be16(datagram, 6);
        let optional = source.is_ipv4();
        if stored == 0 && !optional {
            return Err(WireError::BadChecksum);
        }
        let summed = || pseudo_sum(&datagram[..length], source, destination).finish();
        if !verified && stored != 0 && summed() != 0 {
            return Err(WireError::BadChecksum);
        }
        Ok(Self {
            source_port: be16(datagram, 0),
            destination_port: be16(datagram, 2),
            length,
        })
    }

    /// Writes the header for `payload`, which follows it in `out`
    /// (`out` is header plus payload), computing the checksum.
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`] or longer than 65,535.
    pub fn write(
        source_port: u16,
        destination_port: u16,
        out: &mut [u8],
        source: Ipv4Addr,
        destination: Ipv4Addr,
    ) {
        let (source, destination) = (IpAddr::V4(source), IpAddr::V4(destination));
        Self::write_ip(source_port, destination_port, out, source, destination);
    }

    /// [`UdpHeader::write`] for either family.
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`] or longer than 65,535.
    pub fn write_ip(
        source_port: u16,
        destination_port: u16,
        out: &mut [u8],
        source: IpAddr,
        destination: IpAddr,
    ) {
        let length = u16::try_from(out.len()).expect("the caller sized the datagram");
        out[0..2].copy_from_slice(&source_port.to_be_bytes());
        out[2..4].copy_from_slice(&destination_port.to_be_bytes());
        out[4..6].copy_from_slice(&length.to_be_bytes());
        out[6..8].copy_from_slice(&[0, 0]);
        let sum = match pseudo_sum(out, source, destination).finish() {
            0 => 0xffff,
            sum => sum,
        };
        out[6..8].copy_from_slice(&sum.to_be_bytes());
    }

    /// [`UdpHeader::write_ip`] with the checksum left partial for a device
    /// to complete: its field holds the folded pseudo-header sum (see
    /// [`crate::complete_partial`]), at offset [`CHECKSUM_FIELD`].
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`] or longer than 65,535.
    pub fn write_partial(
        (source_port, destination_port): (u16, u16),
        out: &mut [u8],
        source: IpAddr,
        destination: IpAddr,
    ) {
        let length = u16::try_from(out.len()).expect("the caller sized the datagram");
        out[0..2].copy_from_slice(&source_port.to_be_bytes());
        out[2..4].copy_from_slice(&destination_port.to_be_bytes());
        out[4..6].copy_from_slice(&length.to_be_bytes());
        let sum = Checksum::new()
            .add_pseudo_header(source, destination, protocol::UDP, u32::from(length))
            .fold();
        out[6..8].copy_from_slice(&sum.to_be_bytes());
    }
}

/// Where a UDP header keeps its checksum.
pub const CHECKSUM_FIELD: u16 = 6;

fn pseudo_sum(datagram: &[u8], source: IpAddr, destination: IpAddr) -> Checksum {
    let length = u32::try_from(datagram.len()).unwrap_or(u32::MAX);
    let mut sum = Checksum::new();
    sum.add_pseudo_header(source, destination, protocol::UDP, length)
        .add(datagram);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    #[test]
    fn a_completed_partial_checksum_is_the_full_one_in_both_families() {
        let (a6, b6): (IpAddr, IpAddr) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
        for (source, destination) in [(A.into(), B.into()), (a6, b6)] {
            for length in [8usize, 9, 13, 1472] {
                let mut full: std::vec::Vec<u8> = (0..length).map(|i| (i * 5) as u8).collect();
                let mut partial = full.clone();
                UdpHeader::write_ip(1000, 7, &mut full, source, destination);
                UdpHeader::write_partial((1000, 7), &mut partial, source, destination);
                assert!(crate::complete_partial(&mut partial, 6));
                assert_eq!(partial, full, "{source}, {length} bytes");
            }
        }
    }

    #[test]
    fn a_checksum_a_device_vouched_for_is_not_verified() {
        let (a6, b6): (IpAddr, IpAddr) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
        for (source, destination) in [(A.into(), B.into()), (a6, b6)] {
            let mut datagram = [0u8; 13];
            datagram[8..].copy_from_slice(b"hello");
            UdpHeader::write_ip(1000, 7, &mut datagram, source, destination);
            datagram[12] ^= 1;
            let addresses = (source, destination);
            let checked = UdpHeader::parse_checked(&datagram, addresses, false);
            assert_eq!(checked, Err(WireError::BadChecksum), "{source}");
            let vouched = UdpHeader::parse_checked(&datagram, addresses, true);
            assert_eq!(vouched.map(|header| header.length), Ok(13), "{source}");
        }
    }

    #[test]
    fn round_trip_and_checksum() {
        let mut datagram = [0u8; 13];
        datagram[8..].copy_from_slice(b"hello");
        UdpHeader::write(1000, 7, &mut datagram, A, B);
        let header = UdpHeader::parse(&datagram, A, B).unwrap();
        assert_eq!((header.source_port, header.destination_port), (1000, 7));
        assert_eq!(header.length, 13);
        assert_eq!(
            UdpHeader::parse(&datagram, A, A),
            Err(WireError::BadChecksum)
        );
        let mut zero = datagram;
        zero[6..8].copy_from_slice(&[0, 0]);
        assert!(
            UdpHeader::parse(&zero, A, A).is_ok(),
            "zero means no checksum"
        );
        let (a6, b6): (IpAddr, IpAddr) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
        let mut six = [0u8; 13];
        six[8..].copy_from_slice(b"hello");
        UdpHeader::write_ip(1000, 7, &mut six, a6, b6);
        assert!(UdpHeader::parse_ip(&six, a6, b6).is_ok());
        assert_ne!(six[6..8], datagram[6..8], "the IPv6 pseudo-header");
        six[6..8].copy_from_slice(&[0, 0]);
        assert_eq!(
            UdpHeader::parse_ip(&six, a6, b6),
            Err(WireError::BadChecksum),
            "IPv6 needs the checksum"
        );
        assert_eq!(
            UdpHeader::parse_checked(&six, (a6, b6), true),
            Err(WireError::BadChecksum),
            "even where a device vouched for it"
        );
        let mut long = datagram;
        long[5] = 14;
        assert_eq!(
            UdpHeader::parse_checked(&long, (A.into(), B.into()), true),
            Err(WireError::BadLength),
            "a vouched-for checksum still needs a sane length"
        );
        assert_eq!(UdpHeader::parse(&long, A, B), Err(WireError::BadLength));
        assert_eq!(
            UdpHeader::parse(&datagram[..7], A, B),
            Err(WireError::Truncated)
        );
    }
}
