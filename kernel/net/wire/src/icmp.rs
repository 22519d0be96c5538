//! ICMP messages (RFC 792): echo, destination unreachable, time exceeded.
//!
//! [`IcmpMessage::parse`] verifies the checksum over the whole message.
//! A destination unreachable with code 4 ("fragmentation needed and DF
//! set") carries the next hop's MTU in its header (RFC 1191) and parses
//! as [`IcmpKind::FragmentationNeeded`]. Other types parse as
//! [`IcmpKind::Other`] and are counted, not answered.

use crate::checksum::checksum;
use crate::error::{WireError, be16};

/// Bytes before an ICMP message's body.
pub const HEADER_LEN: usize = 8;

/// What an ICMP message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpKind {
    /// Type 8: please reply.
    EchoRequest {
        /// Identifier.
        identifier: u16,
        /// Sequence number.
        sequence: u16,
    },
    /// Type 0: the reply.
    EchoReply {
        /// Identifier.
        identifier: u16,
        /// Sequence number.
        sequence: u16,
    },
    /// Type 3 with its code (3: port unreachable), but for code 4.
    DestinationUnreachable {
        /// Why.
        code: u8,
    },
    /// Type 3 code 4: the datagram needed fragmenting and had DF set; the
    /// next hop's MTU (RFC 1191; 0 from routers older than it).
    FragmentationNeeded {
        /// The MTU of the hop the datagram did not fit.
        next_hop_mtu: u16,
    },
    /// Type 11: TTL (code 0) or reassembly time (code 1) exceeded.
    TimeExceeded {
        /// Which.
        code: u8,
    },
    /// Any other type and code.
    Other {
        /// Type.
        kind: u8,
        /// Code.
        code: u8,
    },
}

/// Codes of destination unreachable that the stack sends.
pub mod unreachable {
    /// A router has no route to the destination's network.
    pub const NETWORK: u8 = 0;
    /// Fragmentation needed and DF set ([`super::IcmpKind::FragmentationNeeded`]).
    pub const FRAGMENTATION_NEEDED: u8 = 4;
    /// No listener on the UDP port.
    pub const PORT: u8 = 3;
    /// The protocol is not spoken.
    pub const PROTOCOL: u8 = 2;
}

/// A parsed ICMP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpMessage {
    /// Type, code and their fields.
    pub kind: IcmpKind,
}

impl IcmpMessage {
    /// Parses and verifies `message` (the IP payload).
    ///
    /// # Errors
    /// [`WireError::Truncated`], [`WireError::BadChecksum`].
    pub fn parse(message: &[u8]) -> Result<Self, WireError> {
        if message.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if checksum(message) != 0 {
            return Err(WireError::BadChecksum);
        }
        let (identifier, sequence) = (be16(message, 4), be16(message, 6));
        let kind = match (message[0], message[1]) {
            (8, 0) => IcmpKind::EchoRequest {
                identifier,
                sequence,
            },
            (0, 0) => IcmpKind::EchoReply {
                identifier,
                sequence,
            },
            (3, unreachable::FRAGMENTATION_NEEDED) => IcmpKind::FragmentationNeeded {
                next_hop_mtu: be16(message, 6),
            },
            (3, code) => IcmpKind::DestinationUnreachable { code },
            (11, code) => IcmpKind::TimeExceeded { code },
            (kind, code) => IcmpKind::Other { kind, code },
        };
        Ok(Self { kind })
    }

    /// Writes this message's 8-byte header into `out` (header plus body)
    /// and the checksum over all of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`].
    pub fn write(&self, out: &mut [u8]) {
        let (kind, code, rest) = match self.kind {
            IcmpKind::EchoRequest {
                identifier,
                sequence,
            } => (8, 0, pair(identifier, sequence)),
            IcmpKind::EchoReply {
                identifier,
                sequence,
            } => (0, 0, pair(identifier, sequence)),
            IcmpKind::DestinationUnreachable { code } => (3, code, [0; 4]),
            IcmpKind::FragmentationNeeded { next_hop_mtu } => {
                (3, unreachable::FRAGMENTATION_NEEDED, pair(0, next_hop_mtu))
            }
            IcmpKind::TimeExceeded { code } => (11, code, [0; 4]),
            IcmpKind::Other { kind, code } => (kind, code, [0; 4]),
        };
        out[0] = kind;
        out[1] = code;
        out[2..4].copy_from_slice(&[0, 0]);
        out[4..8].copy_from_slice(&rest);
        let sum = checksum(out);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
    }
}

fn pair(first: u16, second: u16) -> [u8; 4] {
    let [a, b] = first.to_be_bytes();
    let [c, d] = second.to_be_bytes();
    [a, b, c, d]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_round_trip_and_checksum() {
        let mut message = [0u8; 12];
        message[8..].copy_from_slice(b"ping");
        let echo = IcmpMessage {
            kind: IcmpKind::EchoRequest {
                identifier: 7,
                sequence: 9,
            },
        };
        echo.write(&mut message);
        assert_eq!(IcmpMessage::parse(&message), Ok(echo));
        message[9] ^= 0x40;
        assert_eq!(IcmpMessage::parse(&message), Err(WireError::BadChecksum));
        assert_eq!(IcmpMessage::parse(&message[..7]), Err(WireError::Truncated));
    }

    #[test]
    fn unreachable_and_other_types() {
        let mut message = [0u8; 8];
        let kind = IcmpKind::DestinationUnreachable {
            code: unreachable::PORT,
        };
        IcmpMessage { kind }.write(&mut message);
        assert_eq!(IcmpMessage::parse(&message).unwrap().kind, kind);
        let kind = IcmpKind::Other { kind: 13, code: 0 };
        IcmpMessage { kind }.write(&mut message);
        assert_eq!(IcmpMessage::parse(&message).unwrap().kind, kind);
    }

    #[test]
    fn fragmentation_needed_carries_the_mtu_and_time_exceeded_its_code() {
        let mut message = [0u8; 8];
        let kind = IcmpKind::FragmentationNeeded { next_hop_mtu: 1280 };
        IcmpMessage { kind }.write(&mut message);
        assert_eq!(&message[..2], &[3, 4]);
        assert_eq!(&message[6..8], &1280u16.to_be_bytes());
        assert_eq!(IcmpMessage::parse(&message).unwrap().kind, kind);
        let kind = IcmpKind::TimeExceeded { code: 0 };
        IcmpMessage { kind }.write(&mut message);
        assert_eq!((message[0], message[1]), (11, 0));
        assert_eq!(IcmpMessage::parse(&message).unwrap().kind, kind);
    }
}
