//! ARP packets for IPv4 over Ethernet (RFC 826): 28 bytes after the header.

use core::net::Ipv4Addr;

use crate::error::{WireError, address, be16};
use crate::ethernet::MacAddress;

/// Bytes in an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;

/// Request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOperation {
    /// Who has `target_ip`?
    Request,
    /// `sender_ip` is at `sender_mac`.
    Reply,
}

/// A parsed ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    /// Request or reply.
    pub operation: ArpOperation,
    /// The sender's hardware address.
    pub sender_mac: MacAddress,
    /// The sender's protocol address.
    pub sender_ip: Ipv4Addr,
    /// The target's hardware address (zero in requests).
    pub target_mac: MacAddress,
    /// The target's protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// Parses an ARP payload.
    ///
    /// # Errors
    /// [`WireError::Truncated`]; [`WireError::Unsupported`] for other
    /// hardware or protocol types, address lengths or operations.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() < PACKET_LEN {
            return Err(WireError::Truncated);
        }
        let ethernet_ipv4 = be16(bytes, 0) == 1 && be16(bytes, 2) == 0x0800;
        if !ethernet_ipv4 || bytes[4] != 6 || bytes[5] != 4 {
            return Err(WireError::Unsupported);
        }
        let operation = match be16(bytes, 6) {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            _ => return Err(WireError::Unsupported),
        };
        Ok(Self {
            operation,
            sender_mac: mac_at(bytes, 8),
            sender_ip: address(bytes, 14),
            target_mac: mac_at(bytes, 18),
            target_ip: address(bytes, 24),
        })
    }

    /// Writes the packet into the first [`PACKET_LEN`] bytes of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`PACKET_LEN`]: the caller sized it.
    pub fn write(&self, out: &mut [u8]) {
        out[0..2].copy_from_slice(&1u16.to_be_bytes());
        out[2..4].copy_from_slice(&0x0800u16.to_be_bytes());
        out[4] = 6;
        out[5] = 4;
        let operation: u16 = match self.operation {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
        };
        out[6..8].copy_from_slice(&operation.to_be_bytes());
        out[8..14].copy_from_slice(&self.sender_mac.0);
        out[14..18].copy_from_slice(&self.sender_ip.octets());
        out[18..24].copy_from_slice(&self.target_mac.0);
        out[24..28].copy_from_slice(&self.target_ip.octets());
    }
}

fn mac_at(bytes: &[u8], at: usize) -> MacAddress {
    let mut mac = [0; 6];
    mac.copy_from_slice(&bytes[at..at + 6]);
    MacAddress(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let packet = ArpPacket {
            operation: ArpOperation::Request,
            sender_mac: MacAddress([2, 0, 0, 0, 0, 1]),
            sender_ip: Ipv4Addr::new(10, 0, 0, 1),
            target_mac: MacAddress::ZERO,
            target_ip: Ipv4Addr::new(10, 0, 0, 2),
        };
        let mut bytes = [0u8; PACKET_LEN];
        packet.write(&mut bytes);
        assert_eq!(ArpPacket::parse(&bytes), Ok(packet));
        assert_eq!(ArpPacket::parse(&bytes[..27]), Err(WireError::Truncated));
        let mut other = bytes;
        other[7] = 3;
        assert_eq!(ArpPacket::parse(&other), Err(WireError::Unsupported));
        let mut other = bytes;
        other[4] = 8;
        assert_eq!(ArpPacket::parse(&other), Err(WireError::Unsupported));
    }
}
