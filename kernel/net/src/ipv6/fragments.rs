//! IPv6 fragments (RFC 8200 4.5) both ways: reassembly on the shared
//! reassembler ([`crate::reassembly`], IPv4's bounds and eviction), and
//! fragmentation of our own packets larger than the link MTU.
//!
//! Fragments are keyed by source, destination and identification. The
//! reassembled packet is a fresh fixed header followed by the
//! fragmentable part, its next header the first fragment's; the
//! unfragmentable extension headers were processed on each fragment and
//! are not kept. A fragment whose length is not a multiple of 8 (but
//! more follow), or that would end past 65,535 bytes, is answered with a
//! Parameter Problem as RFC 8200 says. Atomic fragments (RFC 6946) never
//! come here: input takes them as whole packets. Outgoing fragments carry
//! a random identification (RFC 7739).

use core::net::Ipv6Addr;

use wire::extension::{FragmentHeader, problem};
use wire::ipv6::{HEADER_LEN, next_header};
use wire::{Icmpv6Kind, Ipv6Header};

use super::output::NextHop6;
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::{IpLayer, OutputError};
use crate::memory::Budget;
use crate::reassembly::{Limits, Piece, Reassembler};

/// How long a packet may take to arrive whole (RFC 8200 4.5).
pub const TIMEOUT_NS: u64 = 60_000_000_000;
/// The largest fragmentable part a packet can have.
const MAX_PAYLOAD: usize = 65_535;
/// Bytes in a fragment header.
const FRAGMENT_HEADER_LEN: usize = 8;

/// What identifies one packet's fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6FragmentKey {
    source: Ipv6Addr,
    destination: Ipv6Addr,
    identification: u32,
}

/// An empty reassembler with IPv6's limits.
pub(crate) fn reassembler(budget: Budget) -> Reassembler<Ipv6FragmentKey, Ipv6Header> {
    let limits = Limits {
        timeout_ns: TIMEOUT_NS,
        max_payload: MAX_PAYLOAD,
    };
    Reassembler::with_limits(budget, limits)
}

impl IpLayer {
    /// Adds the fragment in `packet` (its fragment header described by
    /// `fragment`, its data from `data_at`); returns the whole packet once
    /// complete.
    pub(crate) fn reassemble6(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        mut packet: PacketBuffer,
        fragment: FragmentHeader,
        data_at: usize,
    ) -> Option<PacketBuffer> {
        let length = packet.len() - data_at;
        if fragment.more && !length.is_multiple_of(8) {
            self.fragment_problem(index, header, &packet, 4);
            return None;
        }
        if fragment.offset + length > MAX_PAYLOAD {
            self.fragment_problem(index, header, &packet, fragment.at + 2);
            return None;
        }
        let mut first = *header;
        first.next_header = fragment.next_header;
        let piece = Piece {
            key: Ipv6FragmentKey {
                source: header.source,
                destination: header.destination,
                identification: fragment.identification,
            },
            offset: fragment.offset,
            more: fragment.more,
            header: first,
        };
        packet.strip_front(data_at);
        let now = self.now_ns;
        let (mut whole_header, mut whole) =
            self.v6.reassembly.add(now, piece, packet, &self.pool)?;
        whole_header.payload_len = whole.len();
        let bytes = whole.prepend(HEADER_LEN).ok()?;
        whole_header.write(bytes);
        Some(whole)
    }

    fn fragment_problem(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        packet: &PacketBuffer,
        pointer: usize,
    ) {
        self.v6.reassembly.stats.dropped += 1;
        let kind = Icmpv6Kind::ParameterProblem {
            code: problem::HEADER_FIELD,
            pointer: pointer as u32,
        };
        self.send_error6(index, header, packet.data(), kind, false);
    }

    /// Sends `payload` in fragments that fit `hop.mtu`.
    pub(crate) fn fragment6(
        &mut self,
        hop: NextHop6,
        header: Ipv6Header,
        payload: &PacketBuffer,
    ) -> Result<(), OutputError> {
        let per_fragment = (hop.mtu.saturating_sub(HEADER_LEN + FRAGMENT_HEADER_LEN) / 8) * 8;
        if per_fragment == 0 {
            return Err(OutputError::TooBig);
        }
        // Any 32 bits will do: the key is unpredictable, not unique.
        let identification = self.v6.random.next_u64() as u32;
        for (number, chunk) in payload.data().chunks(per_fragment).enumerate() {
            let offset = number * per_fragment;
            let more = offset + chunk.len() < payload.len();
            let mut fragment = self.pool.allocate().map_err(|_| self.no_buffer6())?;
            fragment
                .append(chunk.len())
                .map_err(|_| OutputError::TooBig)?
                .copy_from_slice(chunk);
            let offset_flags = (offset as u16) | u16::from(more);
            let bytes = fragment
                .prepend(FRAGMENT_HEADER_LEN)
                .map_err(|_| OutputError::NoBuffer)?;
            bytes[..2].copy_from_slice(&[header.next_header, 0]);
            bytes[2..4].copy_from_slice(&offset_flags.to_be_bytes());
            bytes[4..].copy_from_slice(&identification.to_be_bytes());
            let mut piece = header;
            piece.next_header = next_header::FRAGMENT;
            piece.payload_len = FRAGMENT_HEADER_LEN + chunk.len();
            let bytes = fragment
                .prepend(HEADER_LEN)
                .map_err(|_| OutputError::NoBuffer)?;
            piece.write(bytes);
            self.link_output6(hop.interface, hop.neighbour, fragment)?;
            self.v6.stats.sent += 1;
            self.v6.stats.fragments_sent += 1;
        }
        Ok(())
    }

    pub(crate) fn no_buffer6(&mut self) -> OutputError {
        self.v6.stats.no_buffer += 1;
        OutputError::NoBuffer
    }
}
