//! IPv4 fragment reassembly: the shared [`Reassembler`] keyed as RFC 791
//! says (source, destination, protocol, identification).
//!
//! Bounds, eviction, overlap and memory rules are the shared module's
//! ([`crate::reassembly`]); IPv4 adds its timeout and payload limit and
//! turns the first fragment's header into the whole datagram's.

use core::net::Ipv4Addr;

use wire::Ipv4Header;

use crate::buffer::{PacketBuffer, PacketPool};
use crate::memory::Budget;
use crate::reassembly::{Limits, Piece, Reassembler};

pub use crate::reassembly::{MAX_DATAGRAMS, MAX_FRAGMENTS, ReassemblyStats};

/// How long a datagram may take to arrive whole (RFC 791 suggests 15 s).
pub const TIMEOUT_NS: u64 = 30_000_000_000;
/// The largest payload an IPv4 datagram can have.
const MAX_PAYLOAD: usize = 65_535 - 20;

/// What identifies one datagram's fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4FragmentKey {
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: u8,
    identification: u16,
}

/// IPv4 datagrams in reassembly.
pub type Reassembly = Reassembler<Ipv4FragmentKey, Ipv4Header>;

impl Reassembler<Ipv4FragmentKey, Ipv4Header> {
    /// Nothing in reassembly; what is held is charged to `budget`.
    pub fn new(budget: Budget) -> Self {
        let limits = Limits {
            timeout_ns: TIMEOUT_NS,
            max_payload: MAX_PAYLOAD,
        };
        Self::with_limits(budget, limits)
    }

    /// Adds a fragment (`header` and its `payload`, the IP header already
    /// stripped); returns the whole datagram's header (offset 0, no more
    /// fragments) and payload once complete.
    pub fn insert(
        &mut self,
        now_ns: u64,
        header: &Ipv4Header,
        payload: PacketBuffer,
        pool: &PacketPool,
    ) -> Option<(Ipv4Header, PacketBuffer)> {
        let piece = Piece {
            key: Ipv4FragmentKey {
                source: header.source,
                destination: header.destination,
                protocol: header.protocol,
                identification: header.identification,
            },
            offset: header.fragment_offset,
            more: header.more_fragments,
            header: *header,
        };
        let (mut whole, payload) = self.add(now_ns, piece, payload, pool)?;
        whole.more_fragments = false;
        whole.fragment_offset = 0;
        whole.total_len = whole.header_len + payload.len();
        Some((whole, payload))
    }
}
