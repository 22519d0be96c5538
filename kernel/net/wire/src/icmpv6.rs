//! ICMPv6 messages (RFC 4443): errors, echo, and the checksum over the
//! IPv6 pseudo-header that every ICMPv6 message carries.
//!
//! [`Icmpv6Message::parse`] verifies the checksum over the whole message
//! and reads the 8-byte header of errors and echo; Neighbor Discovery
//! ([`crate::nd`]) and MLD ([`crate::mld`]) messages parse as
//! [`Icmpv6Kind::Other`] here and read their bodies with their own
//! parsers. Writers fill type, code and body, then call [`seal`].

use core::net::Ipv6Addr;

use crate::checksum::Checksum;
use crate::error::{WireError, be16};
use crate::ipv6::next_header;

/// Bytes of type, code, checksum and the first word.
pub const HEADER_LEN: usize = 8;

/// Message types.
pub mod kind {
    /// Destination unreachable (error).
    pub const DESTINATION_UNREACHABLE: u8 = 1;
    /// Packet too big (error).
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded (error).
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter problem (error).
    pub const PARAMETER_PROBLEM: u8 = 4;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Multicast listener query (MLDv1 and v2).
    pub const MLD_QUERY: u8 = 130;
    /// MLDv1 report.
    pub const MLD_V1_REPORT: u8 = 131;
    /// MLDv1 done.
    pub const MLD_V1_DONE: u8 = 132;
    /// Router solicitation.
    pub const ROUTER_SOLICITATION: u8 = 133;
    /// Router advertisement.
    pub const ROUTER_ADVERTISEMENT: u8 = 134;
    /// Neighbor solicitation.
    pub const NEIGHBOR_SOLICITATION: u8 = 135;
    /// Neighbor advertisement.
    pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
    /// Redirect.
    pub const REDIRECT: u8 = 137;
    /// MLDv2 report.
    pub const MLD_V2_REPORT: u8 = 143;
}

/// Destination-unreachable codes.
pub mod unreachable {
    /// No route to the destination.
    pub const NO_ROUTE: u8 = 0;
    /// The neighbour never answered.
    pub const ADDRESS: u8 = 3;
    /// Nothing listens on the port.
    pub const PORT: u8 = 4;
}

/// What an ICMPv6 message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Kind {
    /// Type 1 with its code ([`mod@unreachable`]).
    DestinationUnreachable {
        /// Why.
        code: u8,
    },
    /// Type 2: the next hop's MTU.
    PacketTooBig {
        /// The MTU.
        mtu: u32,
    },
    /// Type 3: hop limit (0) or reassembly time (1) exceeded.
    TimeExceeded {
        /// Which.
        code: u8,
    },
    /// Type 4: what was wrong and where.
    ParameterProblem {
        /// The code ([`crate::extension::problem`]).
        code: u8,
        /// The offending byte in the quoted packet.
        pointer: u32,
    },
    /// Type 128.
    EchoRequest {
        /// Identifier.
        identifier: u16,
        /// Sequence number.
        sequence: u16,
    },
    /// Type 129.
    EchoReply {
        /// Identifier.
        identifier: u16,
        /// Sequence number.
        sequence: u16,
    },
    /// Anything else (ND, MLD, unknown informational types).
    Other {
        /// Type.
        kind: u8,
        /// Code.
        code: u8,
    },
}

impl Icmpv6Kind {
    /// The type number.
    pub fn number(&self) -> u8 {
        match self {
            Self::DestinationUnreachable { .. } => kind::DESTINATION_UNREACHABLE,
            Self::PacketTooBig { .. } => kind::PACKET_TOO_BIG,
            Self::TimeExceeded { .. } => kind::TIME_EXCEEDED,
            Self::ParameterProblem { .. } => kind::PARAMETER_PROBLEM,
            Self::EchoRequest { .. } => kind::ECHO_REQUEST,
            Self::EchoReply { .. } => kind::ECHO_REPLY,
            Self::Other { kind, .. } => *kind,
        }
    }

    /// Whether this is an error message (types below 128): never
    /// answered with another error (RFC 4443 2.4 e).
    pub fn is_error(&self) -> bool {
        self.number() < 128
    }
}

/// A parsed ICMPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Message {
    /// Type, code and their fields.
    pub kind: Icmpv6Kind,
}

impl Icmpv6Message {
    /// Parses and verifies `message` (the upper-layer payload) sent from
    /// `source` to `destination`.
    ///
    /// # Errors
    /// [`WireError::Truncated`], [`WireError::BadChecksum`].
    pub fn parse(
        message: &[u8],
        source: Ipv6Addr,
        destination: Ipv6Addr,
    ) -> Result<Self, WireError> {
        // Types whose fields fill the first word need all 8 bytes; ND and
        // MLD check their own lengths.
        if message.len() < 4 {
            return Err(WireError::Truncated);
        }
        if sum(message, source, destination).finish() != 0 {
            return Err(WireError::BadChecksum);
        }
        let word = |at: usize| message.get(at..at + 4).ok_or(WireError::Truncated);
        let code = message[1];
        let kind = match message[0] {
            kind::DESTINATION_UNREACHABLE => Icmpv6Kind::DestinationUnreachable { code },
            kind::PACKET_TOO_BIG => Icmpv6Kind::PacketTooBig {
                mtu: u32::from_be_bytes(word(4)?.try_into().expect("4 bytes")),
            },
            kind::TIME_EXCEEDED => Icmpv6Kind::TimeExceeded { code },
            kind::PARAMETER_PROBLEM => Icmpv6Kind::ParameterProblem {
                code,
                pointer: u32::from_be_bytes(word(4)?.try_into().expect("4 bytes")),
            },
            kind @ (kind::ECHO_REQUEST | kind::ECHO_REPLY) => {
                word(4)?;
                let (identifier, sequence) = (be16(message, 4), be16(message, 6));
                if kind == kind::ECHO_REQUEST {
                    Icmpv6Kind::EchoRequest {
                        identifier,
                        sequence,
                    }
                } else {
                    Icmpv6Kind::EchoReply {
                        identifier,
                        sequence,
                    }
                }
            }
            kind => Icmpv6Kind::Other { kind, code },
        };
        Ok(Self { kind })
    }

    /// Writes this message's 8-byte header into `out` (header plus body)
    /// and seals it ([`seal`]). `Other` writes type and code only.
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`].
    pub fn write(&self, out: &mut [u8], source: Ipv6Addr, destination: Ipv6Addr) {
        let (code, word) = match self.kind {
            Icmpv6Kind::DestinationUnreachable { code } | Icmpv6Kind::TimeExceeded { code } => {
                (code, [0; 4])
            }
            Icmpv6Kind::PacketTooBig { mtu } => (0, mtu.to_be_bytes()),
            Icmpv6Kind::ParameterProblem { code, pointer } => (code, pointer.to_be_bytes()),
            Icmpv6Kind::EchoRequest {
                identifier,
                sequence,
            }
            | Icmpv6Kind::EchoReply {
                identifier,
                sequence,
            } => {
                let [a, b] = identifier.to_be_bytes();
                let [c, d] = sequence.to_be_bytes();
                (0, [a, b, c, d])
            }
            Icmpv6Kind::Other { code, .. } => {
                let mut word = [0; 4];
                word.copy_from_slice(&out[4..8]);
                (code, word)
            }
        };
        out[0] = self.kind.number();
        out[1] = code;
        out[4..8].copy_from_slice(&word);
        seal(out, source, destination);
    }
}

fn sum(message: &[u8], source: Ipv6Addr, destination: Ipv6Addr) -> Checksum {
    let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let mut sum = Checksum::new();
    sum.add_ipv6_pseudo_header(source, destination, next_header::ICMPV6, length)
        .add(message);
    sum
}

/// Computes the checksum of `message` (type, code and body written, the
/// checksum field anything) as sent from `source` to `destination`.
///
/// # Panics
/// If `message` is shorter than 4 bytes.
pub fn seal(message: &mut [u8], source: Ipv6Addr, destination: Ipv6Addr) {
    message[2..4].copy_from_slice(&[0, 0]);
    let checksum = sum(message, source, destination).finish();
    message[2..4].copy_from_slice(&checksum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Ipv6Addr, Ipv6Addr) {
        ("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap())
    }

    #[test]
    fn echo_round_trip_and_checksum() {
        let (a, b) = pair();
        let mut message = [0u8; 12];
        message[8..].copy_from_slice(b"ping");
        let echo = Icmpv6Message {
            kind: Icmpv6Kind::EchoRequest {
                identifier: 7,
                sequence: 9,
            },
        };
        echo.write(&mut message, a, b);
        assert_eq!(Icmpv6Message::parse(&message, a, b), Ok(echo));
        assert_eq!(
            Icmpv6Message::parse(&message, b, a),
            Ok(echo),
            "the pseudo-header sum is symmetric in the addresses"
        );
        assert_eq!(
            Icmpv6Message::parse(&message, a, "fe80::3".parse().unwrap()),
            Err(WireError::BadChecksum)
        );
        message[9] ^= 0x40;
        assert_eq!(
            Icmpv6Message::parse(&message, a, b),
            Err(WireError::BadChecksum)
        );
        assert_eq!(
            Icmpv6Message::parse(&message[..3], a, b),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn errors_and_other_types() {
        let (a, b) = pair();
        for kind in [
            Icmpv6Kind::DestinationUnreachable { code: 4 },
            Icmpv6Kind::PacketTooBig { mtu: 1280 },
            Icmpv6Kind::TimeExceeded { code: 1 },
            Icmpv6Kind::ParameterProblem {
                code: 1,
                pointer: 40,
            },
            Icmpv6Kind::Other { kind: 200, code: 3 },
        ] {
            let mut message = [0u8; 48];
            Icmpv6Message { kind }.write(&mut message, a, b);
            assert_eq!(Icmpv6Message::parse(&message, a, b).unwrap().kind, kind);
            assert_eq!(kind.is_error(), kind.number() < 128);
        }
        let mut short = [kind::PACKET_TOO_BIG, 0, 0, 0, 0, 0];
        seal(&mut short, a, b);
        assert_eq!(
            Icmpv6Message::parse(&short, a, b),
            Err(WireError::Truncated)
        );
    }
}
