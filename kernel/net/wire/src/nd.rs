//! Neighbor Discovery messages (RFC 4861 4) and their options, with the
//! DNS servers option (RDNSS, RFC 8106) and the nonce (RFC 3971 5.3.2).
//!
//! [`NdPacket::parse`] takes an ICMPv6 message whose checksum was
//! verified ([`crate::icmpv6`]) and applies RFC 4861's per-message
//! validity checks that need nothing but its bytes: code 0, the minimum
//! length, no option of length zero or running past the end, no
//! multicast target. The checks that need the IPv6 header (hop limit
//! 255, source and destination rules) are the caller's. Options come
//! from [`NdPacket::options`], already validated; unknown ones (and known
//! ones of an unexpected length) are [`NdOption::Other`], skipped as RFC
//! 4861 4.6 says.

use core::net::Ipv6Addr;

use crate::error::{WireError, be16};
use crate::ethernet::MacAddress;
use crate::icmpv6::kind;

/// Option types.
pub mod option {
    /// The sender's link-layer address.
    pub const SOURCE_LINK_ADDRESS: u8 = 1;
    /// The target's link-layer address.
    pub const TARGET_LINK_ADDRESS: u8 = 2;
    /// An on-link and/or autoconfiguration prefix.
    pub const PREFIX_INFORMATION: u8 = 3;
    /// The link's MTU.
    pub const MTU: u8 = 5;
    /// A nonce (DAD's loop detection, RFC 7527).
    pub const NONCE: u8 = 14;
    /// Recursive DNS servers (RFC 8106).
    pub const RDNSS: u8 = 25;
}

/// A lifetime field's "forever".
pub const INFINITE: u32 = u32::MAX;
/// The largest Neighbor Solicitation written here (with both options).
pub const SOLICITATION_MAX_LEN: usize = 40;
/// The largest Neighbor Advertisement written here.
pub const ADVERTISEMENT_MAX_LEN: usize = 32;
/// The largest Router Solicitation written here.
pub const ROUTER_SOLICITATION_MAX_LEN: usize = 16;

/// A Router Advertisement's fixed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouterAdvertisement {
    /// The hop limit to use (0: unspecified).
    pub hop_limit: u8,
    /// Addresses are available by DHCPv6.
    pub managed: bool,
    /// Other configuration is available by DHCPv6.
    pub other: bool,
    /// How long the sender is a default router, in seconds (0: not one).
    pub lifetime_s: u16,
    /// Reachable time in milliseconds (0: unspecified).
    pub reachable_ms: u32,
    /// Time between retransmitted solicitations, ms (0: unspecified).
    pub retransmit_ms: u32,
}

/// A Neighbor Advertisement's flags and target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborAdvertisement {
    /// The sender is a router.
    pub router: bool,
    /// An answer to a solicitation.
    pub solicited: bool,
    /// Replace a cached link-layer address.
    pub override_cache: bool,
    /// Whose address this is.
    pub target: Ipv6Addr,
}

/// What a Neighbor Discovery message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdMessage {
    /// Type 133.
    RouterSolicitation,
    /// Type 134.
    RouterAdvertisement(RouterAdvertisement),
    /// Type 135: who has `target`?
    NeighborSolicitation {
        /// The address asked about.
        target: Ipv6Addr,
    },
    /// Type 136.
    NeighborAdvertisement(NeighborAdvertisement),
    /// Type 137: use `target` for `destination`.
    Redirect {
        /// The better first hop.
        target: Ipv6Addr,
        /// The destination redirected.
        destination: Ipv6Addr,
    },
}

/// A Prefix Information option (RFC 4861 4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixInformation {
    /// Valid bits of `prefix`.
    pub prefix_length: u8,
    /// The prefix is on-link (L).
    pub on_link: bool,
    /// Addresses may be formed from it (A).
    pub autonomous: bool,
    /// Valid lifetime, seconds.
    pub valid_s: u32,
    /// Preferred lifetime, seconds.
    pub preferred_s: u32,
    /// The prefix.
    pub prefix: Ipv6Addr,
}

/// One option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdOption<'a> {
    /// The sender's MAC.
    SourceLinkAddress(MacAddress),
    /// The target's MAC.
    TargetLinkAddress(MacAddress),
    /// A prefix.
    Prefix(PrefixInformation),
    /// The link MTU.
    Mtu(u32),
    /// A nonce's bytes.
    Nonce(&'a [u8]),
    /// DNS servers and how long to use them, seconds.
    Rdnss {
        /// Lifetime, seconds.
        lifetime_s: u32,
        /// The servers, 16 bytes each (see [`NdOption::servers`]).
        servers: &'a [u8],
    },
    /// Anything else.
    Other(u8),
}

impl NdOption<'_> {
    /// The addresses of an [`NdOption::Rdnss`] (none for other options).
    pub fn servers(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        let bytes: &[u8] = match self {
            Self::Rdnss { servers, .. } => servers,
            _ => &[],
        };
        bytes.chunks_exact(16).map(address)
    }
}

/// A parsed message with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdPacket<'a> {
    /// The message.
    pub message: NdMessage,
    options: &'a [u8],
}

fn address(bytes: &[u8]) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&bytes[..16]);
    Ipv6Addr::from(octets)
}

fn mac(bytes: &[u8]) -> MacAddress {
    let mut octets = [0u8; 6];
    octets.copy_from_slice(&bytes[..6]);
    MacAddress(octets)
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl<'a> NdPacket<'a> {
    /// Parses an ND message (its checksum verified by the caller).
    ///
    /// # Errors
    /// [`WireError::Unsupported`] for other types, a nonzero code or a
    /// multicast target; [`WireError::Truncated`]; [`WireError::BadLength`]
    /// for a bad option length.
    pub fn parse(message: &'a [u8]) -> Result<Self, WireError> {
        let (Some(&number), Some(&0)) = (message.first(), message.get(1)) else {
            return Err(WireError::Unsupported);
        };
        let fixed = match number {
            kind::ROUTER_SOLICITATION => 8,
            kind::ROUTER_ADVERTISEMENT => 16,
            kind::NEIGHBOR_SOLICITATION | kind::NEIGHBOR_ADVERTISEMENT => 24,
            kind::REDIRECT => 40,
            _ => return Err(WireError::Unsupported),
        };
        if message.len() < fixed {
            return Err(WireError::Truncated);
        }
        let options = &message[fixed..];
        validate_options(options)?;
        let parsed = Self::fields(number, message);
        let target_multicast = match parsed {
            NdMessage::NeighborSolicitation { target } => target.is_multicast(),
            NdMessage::NeighborAdvertisement(advertisement) => advertisement.target.is_multicast(),
            NdMessage::Redirect { destination, .. } => destination.is_multicast(),
            _ => false,
        };
        if target_multicast {
            return Err(WireError::Unsupported);
        }
        Ok(Self {
            message: parsed,
            options,
        })
    }

    fn fields(number: u8, message: &[u8]) -> NdMessage {
        match number {
            kind::ROUTER_SOLICITATION => NdMessage::RouterSolicitation,
            kind::ROUTER_ADVERTISEMENT => NdMessage::RouterAdvertisement(RouterAdvertisement {
                hop_limit: message[4],
                managed: message[5] & 0x80 != 0,
                other: message[5] & 0x40 != 0,
                lifetime_s: be16(message, 6),
                reachable_ms: be32(message, 8),
                retransmit_ms: be32(message, 12),
            }),
            kind::NEIGHBOR_SOLICITATION => NdMessage::NeighborSolicitation {
                target: address(&message[8..]),
            },
            kind::NEIGHBOR_ADVERTISEMENT => {
                NdMessage::NeighborAdvertisement(NeighborAdvertisement {
                    router: message[4] & 0x80 != 0,
                    solicited: message[4] & 0x40 != 0,
                    override_cache: message[4] & 0x20 != 0,
                    target: address(&message[8..]),
                })
            }
            _ => NdMessage::Redirect {
                target: address(&message[8..]),
                destination: address(&message[24..]),
            },
        }
    }

    /// The options, in order.
    pub fn options(&self) -> impl Iterator<Item = NdOption<'a>> + 'a {
        let mut rest = self.options;
        core::iter::from_fn(move || {
            let length = usize::from(*rest.get(1)?) * 8;
            let (this, after) = rest.split_at(length.min(rest.len()));
            rest = after;
            Some(parse_option(this))
        })
    }

    /// The link-layer address in a source (or, for advertisements,
    /// target) link-layer address option, if there is one.
    pub fn link_address(&self) -> Option<MacAddress> {
        self.options().find_map(|option| match option {
            NdOption::SourceLinkAddress(mac) | NdOption::TargetLinkAddress(mac) => Some(mac),
            _ => None,
        })
    }

    /// The nonce option's bytes, if there is one.
    pub fn nonce(&self) -> Option<&'a [u8]> {
        self.options().find_map(|option| match option {
            NdOption::Nonce(bytes) => Some(bytes),
            _ => None,
        })
    }
}

/// Every option has a nonzero length that fits (RFC 4861 6.1).
fn validate_options(mut options: &[u8]) -> Result<(), WireError> {
    while !options.is_empty() {
        let length = usize::from(*options.get(1).ok_or(WireError::BadLength)?) * 8;
        if length == 0 || length > options.len() {
            return Err(WireError::BadLength);
        }
        options = &options[length..];
    }
    Ok(())
}

fn parse_option(bytes: &[u8]) -> NdOption<'_> {
    match (bytes[0], bytes.len()) {
        (option::SOURCE_LINK_ADDRESS, 8) => NdOption::SourceLinkAddress(mac(&bytes[2..])),
        (option::TARGET_LINK_ADDRESS, 8) => NdOption::TargetLinkAddress(mac(&bytes[2..])),
        (option::PREFIX_INFORMATION, 32) => NdOption::Prefix(PrefixInformation {
            prefix_length: bytes[2],
            on_link: bytes[3] & 0x80 != 0,
            autonomous: bytes[3] & 0x40 != 0,
            valid_s: be32(bytes, 4),
            preferred_s: be32(bytes, 8),
            prefix: address(&bytes[16..]),
        }),
        (option::MTU, 8) => NdOption::Mtu(be32(bytes, 4)),
        (option::NONCE, _) => NdOption::Nonce(&bytes[2..]),
        (option::RDNSS, length) if length >= 24 && (length - 8) % 16 == 0 => NdOption::Rdnss {
            lifetime_s: be32(bytes, 4),
            servers: &bytes[8..],
        },
        (other, _) => NdOption::Other(other),
    }
}

mod write;

pub use write::{
    RouterAdvertisementOptions, write_neighbor_advertisement, write_neighbor_solicitation,
    write_router_advertisement, write_router_solicitation,
};

#[cfg(test)]
mod tests;
