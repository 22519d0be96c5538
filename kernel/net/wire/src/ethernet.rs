//! Ethernet II frames: 14-byte header, then the payload.
//!
//! No 802.1Q tags and no 802.3 length frames: an EtherType below 0x0600 is
//! [`WireError::Unsupported`].

use core::fmt;

use crate::error::{WireError, be16};

/// Bytes in an Ethernet II header.
pub const HEADER_LEN: usize = 14;

/// A MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Self = Self([0xff; 6]);
    /// 00:00:00:00:00:00 (ARP requests' unknown target).
    pub const ZERO: Self = Self([0; 6]);

    /// The group address an IPv6 multicast address maps to (RFC 2464 7):
    /// 33:33 and the address's last four bytes.
    pub fn ipv6_multicast(group: core::net::Ipv6Addr) -> Self {
        let [.., a, b, c, d] = group.octets();
        Self([0x33, 0x33, a, b, c, d])
    }

    /// Whether the group bit is set (broadcast and multicast).
    pub fn is_multicast(self) -> bool {
        self.0[0] & 1 != 0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The EtherTypes the stack speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtherType {
    /// 0x0800.
    Ipv4,
    /// 0x0806.
    Arp,
    /// 0x86DD.
    Ipv6,
    /// Anything else (LLDP, VLAN tags, …): dropped and counted by the stack.
    Other(u16),
}

impl EtherType {
    /// From the header's value.
    pub fn from_u16(value: u16) -> Self {
        match value {
            0x0800 => Self::Ipv4,
            0x0806 => Self::Arp,
            0x86dd => Self::Ipv6,
            other => Self::Other(other),
        }
    }

    /// The header's value.
    pub fn to_u16(self) -> u16 {
        match self {
            Self::Ipv4 => 0x0800,
            Self::Arp => 0x0806,
            Self::Ipv6 => 0x86dd,
            Self::Other(other) => other,
        }
    }
}

/// A parsed Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetHeader {
    /// Where the frame goes.
    pub destination: MacAddress,
    /// Who sent it.
    pub source: MacAddress,
    /// What the payload is.
    pub ether_type: EtherType,
}

impl EthernetHeader {
    /// Parses the header at the start of `frame`.
    ///
    /// # Errors
    /// [`WireError::Truncated`], or [`WireError::Unsupported`] for 802.3
    /// length frames.
    pub fn parse(frame: &[u8]) -> Result<Self, WireError> {
        if frame.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let ether_type = be16(frame, 12);
        if ether_type < 0x0600 {
            return Err(WireError::Unsupported);
        }
        let mut destination = [0; 6];
        let mut source = [0; 6];
        destination.copy_from_slice(&frame[0..6]);
        source.copy_from_slice(&frame[6..12]);
        Ok(Self {
            destination: MacAddress(destination),
            source: MacAddress(source),
            ether_type: EtherType::from_u16(ether_type),
        })
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`]: the caller sized it.
    pub fn write(&self, out: &mut [u8]) {
        out[0..6].copy_from_slice(&self.destination.0);
        out[6..12].copy_from_slice(&self.source.0);
        out[12..14].copy_from_slice(&self.ether_type.to_u16().to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let header = EthernetHeader {
            destination: MacAddress::BROADCAST,
            source: MacAddress([2, 0, 0, 0, 0, 1]),
            ether_type: EtherType::Arp,
        };
        let mut bytes = [0u8; HEADER_LEN];
        header.write(&mut bytes);
        assert_eq!(EthernetHeader::parse(&bytes), Ok(header));
        assert_eq!(
            EthernetHeader::parse(&bytes[..13]),
            Err(WireError::Truncated)
        );
        bytes[12] = 0x05;
        assert_eq!(EthernetHeader::parse(&bytes), Err(WireError::Unsupported));
        assert!(MacAddress::BROADCAST.is_multicast());
        assert_eq!(std::format!("{}", header.source), "02:00:00:00:00:01");
        assert_eq!(EtherType::from_u16(0x86dd), EtherType::Ipv6);
        assert_eq!(EtherType::Ipv6.to_u16(), 0x86dd);
    }

    #[test]
    fn ipv6_groups_map_to_33_33_and_their_last_four_bytes() {
        let group: core::net::Ipv6Addr = "ff02::1:ff12:3456".parse().unwrap();
        let mac = MacAddress::ipv6_multicast(group);
        assert_eq!(mac, MacAddress([0x33, 0x33, 0xff, 0x12, 0x34, 0x56]));
        assert!(mac.is_multicast());
    }
}
