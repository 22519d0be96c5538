//! IPv6 extension headers (RFC 8200 4): the chain walked with limits.
//!
//! [`walk`] follows next-header values from the fixed header to the upper
//! layer over hop-by-hop options (only first), destination options and
//! routing headers, and stops after a fragment header (what follows it is
//! walked again once the packet is whole). Every step is bounded: at most
//! [`MAX_HEADERS`] extension headers and [`MAX_CHAIN_LEN`] bytes of them,
//! at most [`MAX_OPTIONS`] options besides padding in one header, and no
//! run of padding longer than [`MAX_PADDING`] bytes (RFC 4942 3.1.1: a
//! longer one only hides data). What breaks a rule comes back as
//! [`ChainError`]: dropped quietly, or with the Parameter Problem RFC 8200
//! asks for. Routing headers: no routing type is processed here, type 0
//! included (RFC 5095); one with segments left is dropped with a
//! Parameter Problem, one with none left is skipped (RFC 8200 4.4).

use crate::ipv6::{HEADER_LEN, next_header};

/// Extension headers one packet may carry.
pub const MAX_HEADERS: usize = 8;
/// Bytes of extension headers one packet may carry.
pub const MAX_CHAIN_LEN: usize = 512;
/// Options other than padding in one options header.
pub const MAX_OPTIONS: usize = 8;
/// Consecutive bytes of padding in one options header.
pub const MAX_PADDING: usize = 7;

/// Parameter Problem codes (RFC 4443 3.4, RFC 7112).
pub mod problem {
    /// An erroneous header field.
    pub const HEADER_FIELD: u8 = 0;
    /// An unrecognised next-header value.
    pub const NEXT_HEADER: u8 = 1;
    /// An unrecognised option.
    pub const OPTION: u8 = 2;
    /// A first fragment without the whole header chain.
    pub const INCOMPLETE_CHAIN: u8 = 3;
}

/// A fragment header (RFC 8200 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentHeader {
    /// Where the header starts in the packet.
    pub at: usize,
    /// What the fragmentable part starts with.
    pub next_header: u8,
    /// Where this fragment's data goes in the fragmentable part, in bytes.
    pub offset: usize,
    /// More fragments follow.
    pub more: bool,
    /// The identification, shared by one packet's fragments.
    pub identification: u32,
}

impl FragmentHeader {
    /// Offset 0 and no more fragments: an atomic fragment (RFC 6946),
    /// a whole packet that only carries the header.
    pub fn is_atomic(&self) -> bool {
        self.offset == 0 && !self.more
    }
}

/// Where the chain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chain {
    /// The upper-layer protocol, or what follows a fragment header.
    pub protocol: u8,
    /// Where it starts in the packet.
    pub offset: usize,
    /// Where the byte naming it is (the pointer of a Parameter Problem
    /// about it).
    pub protocol_pointer: usize,
    /// The fragment header the walk stopped after, if any.
    pub fragment: Option<FragmentHeader>,
    /// A hop-by-hop Router Alert option was present (MLD needs one).
    pub router_alert: bool,
    /// Extension headers walked.
    pub headers: usize,
}

/// Why a packet's chain was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainError {
    /// Dropped without a word: a limit, a cut-short header, or an option
    /// whose type says to discard quietly.
    Discard,
    /// Dropped with a Parameter Problem of `code` at `pointer` (from the
    /// start of the fixed header); `to_multicast` says whether it goes
    /// out even when the packet was sent to a group (RFC 4443 2.4 e).
    Problem {
        /// The code ([`problem`]).
        code: u8,
        /// The offending byte.
        pointer: usize,
        /// Sent for packets to multicast groups too.
        to_multicast: bool,
    },
}

/// Walks `packet` (fixed header first, cut to its payload length) from
/// the header named `first` at `start`, where the byte naming it is at
/// `pointer`. A hop-by-hop header counts only right after the fixed
/// header; `after_reassembly` refuses a second fragment header.
///
/// # Errors
/// [`ChainError`].
pub fn walk(
    packet: &[u8],
    first: u8,
    start: usize,
    pointer: usize,
    after_reassembly: bool,
) -> Result<Chain, ChainError> {
    let mut chain = Chain {
        protocol: first,
        offset: start,
        protocol_pointer: pointer,
        fragment: None,
        router_alert: false,
        headers: 0,
    };
    loop {
        let at = chain.offset;
        let length = match chain.protocol {
            next_header::HOP_BY_HOP if at != HEADER_LEN || after_reassembly => {
                return Err(problem_at(problem::NEXT_HEADER, chain.protocol_pointer));
            }
            next_header::HOP_BY_HOP | next_header::DESTINATION_OPTIONS => {
                options(packet, &mut chain)?
            }
            next_header::ROUTING => routing(packet, at)?,
            next_header::FRAGMENT if after_reassembly => return Err(ChainError::Discard),
            next_header::FRAGMENT => return fragment(packet, chain),
            _ => return Ok(chain),
        };
        chain.headers += 1;
        if chain.headers > MAX_HEADERS || at + length - start > MAX_CHAIN_LEN {
            return Err(ChainError::Discard);
        }
        chain.protocol = packet[at];
        chain.protocol_pointer = at;
        chain.offset = at + length;
    }
}

/// The upper layer of `packet` found by following header lengths only,
/// nothing checked but the bounds (for deciding what a packet is about,
/// never for accepting it): the protocol and where it starts, or `None`
/// when the chain is cut short, too long, or fragmented past its start.
pub fn skip(packet: &[u8], first: u8, start: usize) -> Option<(u8, usize)> {
    let (mut protocol, mut at) = (first, start);
    for _ in 0..=MAX_HEADERS {
        let length = match protocol {
            next_header::HOP_BY_HOP | next_header::ROUTING | next_header::DESTINATION_OPTIONS => {
                header_len(packet, at).ok()?
            }
            next_header::FRAGMENT => {
                let offset = packet.get(at + 2..at + 4)?;
                if u16::from_be_bytes([offset[0], offset[1]]) >> 3 != 0 {
                    return None;
                }
                8
            }
            _ => return Some((protocol, at)),
        };
        protocol = *packet.get(at)?;
        at += length;
    }
    None
}

fn problem_at(code: u8, pointer: usize) -> ChainError {
    ChainError::Problem {
        code,
        pointer,
        to_multicast: false,
    }
}

/// The length of the generic header at `at` (next header, length in
/// 8-byte units beyond the first 8), checked against the packet.
fn header_len(packet: &[u8], at: usize) -> Result<usize, ChainError> {
    let units = packet.get(at + 1).ok_or(ChainError::Discard)?;
    let length = (usize::from(*units) + 1) * 8;
    if packet.len() < at + length {
        return Err(ChainError::Discard);
    }
    Ok(length)
}

fn routing(packet: &[u8], at: usize) -> Result<usize, ChainError> {
    let length = header_len(packet, at)?;
    let segments_left = packet[at + 3];
    if segments_left != 0 {
        return Err(problem_at(problem::HEADER_FIELD, at + 2));
    }
    Ok(length)
}

fn fragment(packet: &[u8], mut chain: Chain) -> Result<Chain, ChainError> {
    let at = chain.offset;
    let bytes = packet.get(at..at + 8).ok_or(ChainError::Discard)?;
    let offset_flags = u16::from_be_bytes([bytes[2], bytes[3]]);
    chain.fragment = Some(FragmentHeader {
        at,
        next_header: bytes[0],
        offset: usize::from(offset_flags >> 3) * 8,
        more: offset_flags & 1 != 0,
        identification: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
    });
    chain.headers += 1;
    if chain.headers > MAX_HEADERS {
        return Err(ChainError::Discard);
    }
    chain.protocol = bytes[0];
    chain.protocol_pointer = at;
    chain.offset = at + 8;
    Ok(chain)
}

/// Options of a hop-by-hop or destination options header: padding and
/// Router Alert are understood, any other option acts as its type's two
/// high bits say (RFC 8200 4.2).
fn options(packet: &[u8], chain: &mut Chain) -> Result<usize, ChainError> {
    let at = chain.offset;
    let length = header_len(packet, at)?;
    let area = &packet[at + 2..at + length];
    let hop_by_hop = chain.protocol == next_header::HOP_BY_HOP;
    let (mut index, mut padding, mut count) = (0, 0, 0);
    while index < area.len() {
        let kind = area[index];
        let end = if kind == 0 {
            index + 1
        } else {
            let length = usize::from(*area.get(index + 1).ok_or(ChainError::Discard)?);
            index + 2 + length
        };
        if end > area.len() {
            return Err(ChainError::Discard);
        }
        if kind <= 1 {
            padding += end - index;
            if padding > MAX_PADDING {
                return Err(ChainError::Discard);
            }
        } else {
            padding = 0;
            count += 1;
            if count > MAX_OPTIONS {
                return Err(ChainError::Discard);
            }
            let router_alert = hop_by_hop && kind == 5 && end - index == 4;
            if router_alert {
                chain.router_alert = true;
            } else {
                unknown_option(kind, at + 2 + index)?;
            }
        }
        index = end;
    }
    Ok(length)
}

/// What an option we do not know asks for, by its type's high bits.
fn unknown_option(kind: u8, pointer: usize) -> Result<(), ChainError> {
    match kind >> 6 {
        0 => Ok(()),
        1 => Err(ChainError::Discard),
        action => Err(ChainError::Problem {
            code: problem::OPTION,
            pointer,
            to_multicast: action == 2,
        }),
    }
}

#[cfg(test)]
mod tests;
