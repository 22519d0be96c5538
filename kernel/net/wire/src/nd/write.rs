//! Writing Neighbor Discovery messages: what a host sends (NS, NA, RS),
//! and the router advertisements tests and fuzzers play a router with.
//!
//! Each writer fills type, code, fields and options from the start of
//! `out` and returns the message's length; the checksum is the caller's
//! ([`crate::icmpv6::seal`], once the addresses are known). `out` must
//! hold the `*_MAX_LEN` of the message (the caller sized it).

use core::net::Ipv6Addr;

use super::{NeighborAdvertisement, PrefixInformation, RouterAdvertisement, option};
use crate::ethernet::MacAddress;
use crate::icmpv6::kind;

fn link_option(out: &mut [u8], kind: u8, mac: MacAddress) -> usize {
    out[0] = kind;
    out[1] = 1;
    out[2..8].copy_from_slice(&mac.0);
    8
}

/// A Neighbor Solicitation for `target`, with the sender's MAC (never
/// when the source is unspecified, RFC 4861 4.3) and a DAD nonce.
///
/// # Panics
/// If `out` is shorter than [`super::SOLICITATION_MAX_LEN`].
pub fn write_neighbor_solicitation(
    out: &mut [u8],
    target: Ipv6Addr,
    source_link: Option<MacAddress>,
    nonce: Option<[u8; 6]>,
) -> usize {
    out[..8].copy_from_slice(&[kind::NEIGHBOR_SOLICITATION, 0, 0, 0, 0, 0, 0, 0]);
    out[8..24].copy_from_slice(&target.octets());
    let mut length = 24;
    if let Some(mac) = source_link {
        length += link_option(&mut out[length..], option::SOURCE_LINK_ADDRESS, mac);
    }
    if let Some(nonce) = nonce {
        out[length..length + 2].copy_from_slice(&[option::NONCE, 1]);
        out[length + 2..length + 8].copy_from_slice(&nonce);
        length += 8;
    }
    length
}

/// A Neighbor Advertisement, with the target's MAC when given.
///
/// # Panics
/// If `out` is shorter than [`super::ADVERTISEMENT_MAX_LEN`].
pub fn write_neighbor_advertisement(
    out: &mut [u8],
    advertisement: &NeighborAdvertisement,
    target_link: Option<MacAddress>,
) -> usize {
    let flags = (u8::from(advertisement.router) << 7)
        | (u8::from(advertisement.solicited) << 6)
        | (u8::from(advertisement.override_cache) << 5);
    out[..8].copy_from_slice(&[kind::NEIGHBOR_ADVERTISEMENT, 0, 0, 0, flags, 0, 0, 0]);
    out[8..24].copy_from_slice(&advertisement.target.octets());
    match target_link {
        Some(mac) => 24 + link_option(&mut out[24..], option::TARGET_LINK_ADDRESS, mac),
        None => 24,
    }
}

/// A Router Solicitation, with the sender's MAC when the source is not
/// unspecified.
///
/// # Panics
/// If `out` is shorter than [`super::ROUTER_SOLICITATION_MAX_LEN`].
pub fn write_router_solicitation(out: &mut [u8], source_link: Option<MacAddress>) -> usize {
    out[..8].copy_from_slice(&[kind::ROUTER_SOLICITATION, 0, 0, 0, 0, 0, 0, 0]);
    match source_link {
        Some(mac) => 8 + link_option(&mut out[8..], option::SOURCE_LINK_ADDRESS, mac),
        None => 8,
    }
}

/// What a written Router Advertisement carries besides its fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouterAdvertisementOptions<'a> {
    /// The router's MAC.
    pub source_link: Option<MacAddress>,
    /// Prefixes.
    pub prefixes: &'a [PrefixInformation],
    /// The link MTU.
    pub mtu: Option<u32>,
    /// DNS servers and their lifetime in seconds.
    pub dns_servers: Option<(u32, &'a [Ipv6Addr])>,
}

impl RouterAdvertisementOptions<'_> {
    /// The length of the advertisement these options make.
    pub fn message_len(&self) -> usize {
        let servers = self.dns_servers.map_or(0, |(_, list)| 8 + 16 * list.len());
        16 + 8 * usize::from(self.source_link.is_some())
            + 32 * self.prefixes.len()
            + 8 * usize::from(self.mtu.is_some())
            + servers
    }
}

/// A Router Advertisement (for tests and fuzzers that play a router).
///
/// # Panics
/// If `out` is shorter than [`RouterAdvertisementOptions::message_len`].
pub fn write_router_advertisement(
    out: &mut [u8],
    advertisement: &RouterAdvertisement,
    options: &RouterAdvertisementOptions<'_>,
) -> usize {
    let flags = (u8::from(advertisement.managed) << 7) | (u8::from(advertisement.other) << 6);
    out[..4].copy_from_slice(&[kind::ROUTER_ADVERTISEMENT, 0, 0, 0]);
    out[4] = advertisement.hop_limit;
    out[5] = flags;
    out[6..8].copy_from_slice(&advertisement.lifetime_s.to_be_bytes());
    out[8..12].copy_from_slice(&advertisement.reachable_ms.to_be_bytes());
    out[12..16].copy_from_slice(&advertisement.retransmit_ms.to_be_bytes());
    let mut length = 16;
    if let Some(mac) = options.source_link {
        length += link_option(&mut out[length..], option::SOURCE_LINK_ADDRESS, mac);
    }
    for prefix in options.prefixes {
        length += prefix_option(&mut out[length..], prefix);
    }
    if let Some(mtu) = options.mtu {
        out[length..length + 4].copy_from_slice(&[option::MTU, 1, 0, 0]);
        out[length + 4..length + 8].copy_from_slice(&mtu.to_be_bytes());
        length += 8;
    }
    if let Some((lifetime_s, servers)) = options.dns_servers {
        // At most 127 servers fit the length byte; tests send a few.
        let units = (1 + 2 * servers.len()) as u8;
        out[length..length + 4].copy_from_slice(&[option::RDNSS, units, 0, 0]);
        out[length + 4..length + 8].copy_from_slice(&lifetime_s.to_be_bytes());
        for (index, server) in servers.iter().enumerate() {
            let at = length + 8 + 16 * index;
            out[at..at + 16].copy_from_slice(&server.octets());
        }
        length += 8 + 16 * servers.len();
    }
    length
}

fn prefix_option(out: &mut [u8], prefix: &PrefixInformation) -> usize {
    let flags = (u8::from(prefix.on_link) << 7) | (u8::from(prefix.autonomous) << 6);
    out[..4].copy_from_slice(&[option::PREFIX_INFORMATION, 4, prefix.prefix_length, flags]);
    out[4..8].copy_from_slice(&prefix.valid_s.to_be_bytes());
    out[8..12].copy_from_slice(&prefix.preferred_s.to_be_bytes());
    out[12..16].copy_from_slice(&[0; 4]);
    out[16..32].copy_from_slice(&prefix.prefix.octets());
    32
}
