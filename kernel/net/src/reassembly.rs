//! Fragment reassembly with bounded memory and a timeout, for both IP
//! families: [`crate::ipv4::reassembly`] and [`crate::ipv6`] key it their
//! way and keep their own header of the first fragment.
//!
//! Fragments of one datagram (same key) are kept as they came until they
//! cover the datagram from offset 0 to the end of the last fragment; then
//! their payloads are copied, once, into one buffer. Limits keep a flood
//! of fragments from eating memory: [`MAX_DATAGRAMS`] datagrams and
//! [`MAX_FRAGMENTS`] fragments in all, each datagram given up after its
//! family's timeout; when either limit is reached the oldest datagrams
//! make room, so a flood of fragments that never complete cannot lock
//! honest ones out. An exact duplicate of a fragment (a link that
//! duplicates) is dropped alone; any other overlap discards its whole
//! datagram (RFC 5722's rule, the safe answer to overlap attacks; honest
//! senders never overlap). Datagrams and fragment records are charged to
//! the `reassembly` account (the fragments' buffers to the packet pool);
//! under memory pressure [`Reassembler::shrink`] gives up the datagrams
//! waiting longest.

use alloc::vec::Vec;

use base::memory::ReclaimLevel;

use crate::buffer::{PacketBuffer, PacketPool};
use crate::memory::Budget;

/// Datagrams being reassembled at once, per family.
pub const MAX_DATAGRAMS: usize = 16;
/// Fragments held in all, per family.
pub const MAX_FRAGMENTS: usize = 128;
/// How long a datagram may wait before the pagedaemon's first stage gives
/// it up.
const RECLAIM_AGE_NS: u64 = 1_000_000_000;

/// A family's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a datagram may take to arrive whole.
    pub timeout_ns: u64,
    /// The largest payload a datagram of the family can have.
    pub max_payload: usize,
}

/// One fragment as its family's header describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<K, H> {
    /// Which datagram it belongs to.
    pub key: K,
    /// Where its payload goes in the datagram, in bytes.
    pub offset: usize,
    /// More fragments follow.
    pub more: bool,
    /// Its header, kept from the fragment at offset 0.
    pub header: H,
}

struct Fragment {
    offset: usize,
    /// The fragment's payload (its headers stripped).
    payload: PacketBuffer,
}

struct Datagram<K, H> {
    key: K,
    /// The header of the fragment at offset 0, once seen.
    first_header: Option<H>,
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

/// Datagrams in reassembly, keyed by `K`, remembering header `H`.
pub struct Reassembler<K, H> {
    datagrams: Vec<Datagram<K, H>>,
    held: usize,
    budget: Budget,
    limits: Limits,
    /// Counters.
    pub stats: ReassemblyStats,
}

impl<K: Copy + Eq, H: Copy> Reassembler<K, H> {
    /// What a datagram in reassembly is charged besides its fragments.
    const DATAGRAM_BYTES: usize = core::mem::size_of::<Datagram<K, H>>();
    /// What a fragment record is charged (its vector slot, growth included).
    const FRAGMENT_BYTES: usize = 2 * core::mem::size_of::<Fragment>();

    /// Nothing in reassembly; what is held is charged to `budget`.
    pub fn with_limits(budget: Budget, limits: Limits) -> Self {
        Self {
            datagrams: Vec::new(),
            held: 0,
            budget,
            limits,
            stats: ReassemblyStats::default(),
        }
    }

    /// Adds a fragment (`payload` with its headers stripped); returns the
    /// first fragment's header and the whole payload once complete.
    pub fn add(
        &mut self,
        now_ns: u64,
        piece: Piece<K, H>,
        payload: PacketBuffer,
        pool: &PacketPool,
    ) -> Option<(H, PacketBuffer)> {
        self.stats.fragments += 1;
        let end = piece.offset + payload.len();
        if end > self.limits.max_payload || (piece.more && !payload.len().is_multiple_of(8)) {
            self.stats.dropped += 1;
            return None;
        }
        let Some(index) = self.datagram_for(now_ns, piece.key) else {
            self.stats.dropped += 1;
            return None;
        };
        let index = self.make_room(index);
        match self.add_fragment(index, &piece, payload) {
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

    /// Datagrams in reassembly now.
    pub fn datagrams(&self) -> usize {
        self.datagrams.len()
    }

    fn datagram_for(&mut self, now_ns: u64, key: K) -> Option<usize> {
        if let Some(index) = self.datagrams.iter().position(|d| d.key == key) {
            return Some(index);
        }
        if self.datagrams.len() >= MAX_DATAGRAMS {
            // The oldest goes: a flood cannot keep new datagrams out.
            self.discard(0);
        }
        if !self.budget.charge(Self::DATAGRAM_BYTES) {
            return None;
        }
        self.datagrams.push(Datagram {
            key,
            first_header: None,
            total_len: None,
            fragments: Vec::new(),
            expires_ns: now_ns.saturating_add(self.limits.timeout_ns),
        });
        Some(self.datagrams.len() - 1)
    }

    /// Adds the fragment, or says why not.
    fn add_fragment(&mut self, index: usize, piece: &Piece<K, H>, payload: PacketBuffer) -> Added {
        let start = piece.offset;
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
        let last_again = !piece.more && datagram.total_len.is_some();
        if overlaps || beyond_end || last_again || self.held >= MAX_FRAGMENTS {
            return Added::Conflict;
        }
        if !piece.more {
            let furthest = datagram
                .fragments
                .iter()
                .map(|f| f.offset + f.payload.len());
            if furthest.max().is_some_and(|furthest| furthest > end) {
                return Added::Conflict;
            }
            datagram.total_len = Some(end);
        }
        if !self.budget.charge(Self::FRAGMENT_BYTES) {
            return Added::NoMemory;
        }
        if start == 0 {
            datagram.first_header = Some(piece.header);
        }
        datagram.fragments.push(Fragment {
            offset: start,
            payload,
        });
        self.held += 1;
        Added::Stored
    }

    fn complete(&mut self, index: usize, pool: &PacketPool) -> Option<(H, PacketBuffer)> {
        let datagram = &self.datagrams[index];
        let total = datagram.total_len?;
        let covered: usize = datagram.fragments.iter().map(|f| f.payload.len()).sum();
        if covered != total {
            return None;
        }
        let header = datagram.first_header?;
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
        self.stats.reassembled += 1;
        Some((header, whole))
    }

    fn remove(&mut self, index: usize) -> Datagram<K, H> {
        let datagram = self.datagrams.remove(index);
        self.held -= datagram.fragments.len();
        self.budget
            .release(Self::DATAGRAM_BYTES + datagram.fragments.len() * Self::FRAGMENT_BYTES);
        datagram
    }

    /// Gives memory back (the pagedaemon): datagrams that have waited
    /// over a second go, or at [`ReclaimLevel::Urgent`] all of them.
    /// Returns about the bytes freed.
    pub fn shrink(&mut self, now_ns: u64, level: ReclaimLevel) -> usize {
        let timeout = self.limits.timeout_ns;
        let started = |datagram: &Datagram<K, H>| datagram.expires_ns.saturating_sub(timeout);
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
                freed += buffers
                    + Self::DATAGRAM_BYTES
                    + datagram.fragments.len() * Self::FRAGMENT_BYTES;
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

impl<K, H> Drop for Reassembler<K, H> {
    fn drop(&mut self) {
        let held: usize = self.datagrams.iter().map(|d| d.fragments.len()).sum();
        let bytes = self.datagrams.len() * core::mem::size_of::<Datagram<K, H>>()
            + held * 2 * core::mem::size_of::<Fragment>();
        self.budget.release(bytes);
    }
}

impl<K, H> core::fmt::Debug for Reassembler<K, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reassembler")
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
