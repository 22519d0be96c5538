//! IPv4 fragment reassembly with bounded memory and a timeout.
//!
//! Fragments of one datagram (same source, destination, protocol and
//! identification) are kept as they came until they cover the datagram
//! from offset 0 to the end of the last fragment; then their payloads are
//! copied, once, into one buffer. Limits keep a flood of fragments from
//! eating memory: [`MAX_DATAGRAMS`] datagrams and [`MAX_FRAGMENTS`]
//! fragments in all, each datagram given up after [`TIMEOUT_NS`]; when
//! either limit is reached the oldest datagrams make room, so a flood of
//! fragments that never complete cannot lock honest ones out. An exact
//! duplicate of a fragment (a link that duplicates) is dropped alone; any
//! other overlap discards its whole datagram (RFC 5722's rule, the safe
//! answer to overlap attacks; honest senders never overlap). Datagrams and
//! fragment records are charged to the `reassembly` account (the
//! fragments' buffers to the packet pool); under memory pressure
//! [`Reassembly::shrink`] gives up the datagrams waiting longest.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use wire::Ipv4Header;

use base::memory::ReclaimLevel;

use crate::buffer::{PacketBuffer, PacketPool};
use crate::memory::Budget;

/// Datagrams being reassembled at once.
pub const MAX_DATAGRAMS: usize = 16;
/// Fragments held in all.
pub const MAX_FRAGMENTS: usize = 128;
/// How long a datagram may take to arrive whole (RFC 791 suggests 15 s).
pub const TIMEOUT_NS: u64 = 30_000_000_000;
/// The largest payload an IPv4 datagram can have.
const MAX_PAYLOAD: usize = 65_535 - 20;
/// What a datagram in reassembly is charged besides its fragments.
const DATAGRAM_BYTES: usize = core::mem::size_of::<Datagram>();
/// What a fragment record is charged (its vector slot, growth included).
const FRAGMENT_BYTES: usize = 2 * core::mem::size_of::<Fragment>();
/// How long a datagram may wait before the pagedaemon's first stage gives
/// it up.
const RECLAIM_AGE_NS: u64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: u8,
    identification: u16,
}

struct Fragment {
    offset: usize,
    /// The fragment's payload (its IP header stripped).
    payload: PacketBuffer,
}

struct Datagram {
    key: Key,
    /// The header of the fragment at offset 0, once seen.
    first_header: Option<Ipv4Header>,
    /// The payload length, known once the last fragment came.
    total_len: Option<usize>,
    fragments: Vec<Fragment>,
    expires_ns: u64,
}

/// What became of a fragment.
enum Added {
    /// Kept.
    Stored,
    /// The same bytes at the same offset were there: dropped alone.
    Duplicate,
    /// It contradicts its datagram, which is discarded.
    Conflict,
    /// No memory to record it: dropped alone.
    NoMemory,
}

/// Counters, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Datagrams given up (timeout, overlap, limits, no memory).
    pub dropped: u64,
}

/// Datagrams in reassembly.
pub struct Reassembly {
    datagrams: Vec<Datagram>,
    held: usize,
    budget: Budget,
    /// Counters.
    pub stats: ReassemblyStats,
}

impl Reassembly {
    /// Nothing in reassembly; what is held is charged to `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            datagrams: Vec::new(),
            held: 0,
            budget,
            stats: ReassemblyStats::default(),
        }
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
        self.stats.fragments += 1;
        let end = header.fragment_offset + payload.len();
        if end > MAX_PAYLOAD || (header.more_fragments && !payload.len().is_multiple_of(8)) {
            self.stats.dropped += 1;
            return None;
        }
        let Some(index) = self.datagram_for(now_ns, header) else {
            self.stats.dropped += 1;
            return None;
        };
        let index = self.make_room(index);
        match self.add_fragment(index, header, payload) {
            Added::Stored => self.complete(index, pool),
            Added::Duplicate | Added::NoMemory => None,
            Added::Conflict => {
                self.discard(index);
                None
            }
        }
    }

    /// Discards the oldest other datagrams while all fragments are held;
    /// returns where datagram `index` is afterwards.
    fn make_room(&mut self, mut index: usize) -> usize {
        while self.held >= MAX_FRAGMENTS && self.datagrams.len() > 1 {
            let oldest = usize::from(index == 0);
            self.discard(oldest);
            if oldest < index {
                index -= 1;
            }
        }
        index
    }

    /// Gives up datagrams whose time ran out.
    pub fn on_timer(&mut self, now_ns: u64) {
        while let Some(index) = self.datagrams.iter().position(|d| d.expires_ns <= now_ns) {
            self.discard(index);
        }
    }

    /// The earliest timeout.
    pub fn next_deadline(&self) -> Option<u64> {
        self.datagrams.iter().map(|d| d.expires_ns).min()
    }

    /// Fragments held now.
    pub fn held(&self) -> usize {
        self.held
    }

    fn datagram_for(&mut self, now_ns: u64, header: &Ipv4Header) -> Option<usize> {
        let key = Key {
            source: header.source,
            destination: header.destination,
            protocol: header.protocol,
            identification: header.identification,
        };
        if let Some(index) = self.datagrams.iter().position(|d| d.key == key) {
            return Some(index);
        }
        if self.datagrams.len() >= MAX_DATAGRAMS {
            // The oldest goes: a flood cannot keep new datagrams out.
            self.discard(0);
        }
        if !self.budget.charge(DATAGRAM_BYTES) {
            return None;
        }
        self.datagrams.push(Datagram {
            key,
            first_header: None,
            total_len: None,
            fragments: Vec::new(),
            expires_ns: now_ns.saturating_add(TIMEOUT_NS),
        });
        Some(self.datagrams.len() - 1)
    }

    /// Adds the fragment, or says why not.
    fn add_fragment(&mut self, index: usize, header: &Ipv4Header, payload: PacketBuffer) -> Added {
        let start = header.fragment_offset;
        let end = start + payload.len();
        let datagram = &mut self.datagrams[index];
        let same = |f: &Fragment| f.offset == start && f.payload.data() == payload.data();
        if datagram.fragments.iter().any(same) {
            return Added::Duplicate;
        }
        let overlaps = datagram
            .fragments
            .iter()
            .any(|f| start < f.offset + f.payload.len() && f.offset < end);
        let beyond_end = datagram.total_len.is_some_and(|total| end > total);
        let last_again = !header.more_fragments && datagram.total_len.is_some();
        if overlaps || beyond_end || last_again || self.held >= MAX_FRAGMENTS {
            return Added::Conflict;
        }
        if !header.more_fragments {
            let furthest = datagram
                .fragments
                .iter()
                .map(|f| f.offset + f.payload.len());
            if furthest.max().is_some_and(|furthest| furthest > end) {
                return Added::Conflict;
            }
            datagram.total_len = Some(end);
        }
        if !self.budget.charge(FRAGMENT_BYTES) {
            return Added::NoMemory;
        }
        if start == 0 {
            datagram.first_header = Some(*header);
        }
        datagram.fragments.push(Fragment {
            offset: start,
            payload,
        });
        self.held += 1;
        Added::Stored
    }

    fn complete(&mut self, index: usize, pool: &PacketPool) -> Option<(Ipv4Header, PacketBuffer)> {
        let datagram = &self.datagrams[index];
        let total = datagram.total_len?;
        let covered: usize = datagram.fragments.iter().map(|f| f.payload.len()).sum();
        if covered != total {
            return None;
        }
        let mut header = datagram.first_header?;
        let datagram = self.remove(index);
        let Ok(mut whole) = pool.allocate_large(total) else {
            self.stats.dropped += 1;
            return None;
        };
        let bytes = whole.append(total).ok()?;
        for fragment in &datagram.fragments {
            bytes[fragment.offset..fragment.offset + fragment.payload.len()]
                .copy_from_slice(fragment.payload.data());
        }
        header.more_fragments = false;
        header.fragment_offset = 0;
        header.total_len = header.header_len + total;
        self.stats.reassembled += 1;
        Some((header, whole))
    }

    fn remove(&mut self, index: usize) -> Datagram {
        let datagram = self.datagrams.remove(index);
        self.held -= datagram.fragments.len();
        self.budget
            .release(DATAGRAM_BYTES + datagram.fragments.len() * FRAGMENT_BYTES);
        datagram
    }

    /// Gives memory back (the pagedaemon): datagrams that have waited
    /// over a second go, or at [`ReclaimLevel::Urgent`] all of them.
    /// Returns about the bytes freed.
    pub fn shrink(&mut self, now_ns: u64, level: ReclaimLevel) -> usize {
        let started = |datagram: &Datagram| datagram.expires_ns.saturating_sub(TIMEOUT_NS);
        let mut freed = 0;
        let mut index = 0;
        while index < self.datagrams.len() {
            let datagram = &self.datagrams[index];
            let waited = now_ns.saturating_sub(started(datagram));
            if level == ReclaimLevel::Urgent || waited >= RECLAIM_AGE_NS {
                let buffers: usize = datagram
                    .fragments
                    .iter()
                    .map(|f| f.payload.footprint())
                    .sum();
                freed += buffers + DATAGRAM_BYTES + datagram.fragments.len() * FRAGMENT_BYTES;
                self.discard(index);
            } else {
                index += 1;
            }
        }
        freed
    }

    fn discard(&mut self, index: usize) {
        self.remove(index);
        self.stats.dropped += 1;
    }
}

impl Drop for Reassembly {
    fn drop(&mut self) {
        while !self.datagrams.is_empty() {
            self.remove(0);
        }
    }
}

impl core::fmt::Debug for Reassembly {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reassembly").finish_non_exhaustive()
    }
}
