//! The neighbor cache (RFC 4861 7.3): link-layer addresses of on-link
//! neighbors with Neighbor Unreachability Detection, and packets waiting
//! for an address.
//!
//! Each entry is in one NUD state ([`NudState`]), kept with the data
//! only that state has:
//!
//! - `Incomplete`: solicitations go to the solicited-node group every
//!   retransmit time, [`MAX_MULTICAST_SOLICIT`] in all; packets wait (up
//!   to ARP's bounds, [`PENDING_LIMIT`] and [`PENDING_TOTAL`]); with no
//!   answer the entry and its packets go.
//! - `Reachable`: confirmed within the interface's reachable time; then
//!   `Stale`.
//! - `Stale`: a MAC nobody confirmed lately. Used as is; the first packet
//!   sent moves it to `Delay`. Forgotten after [`STALE_NS`] unused.
//! - `Delay`: a packet went out on trust; an upper-layer hint (or an
//!   advertisement) within [`DELAY_FIRST_PROBE_NS`] makes it `Reachable`,
//!   otherwise `Probe`.
//! - `Probe`: unicast solicitations every retransmit time,
//!   [`MAX_UNICAST_SOLICIT`] in all, then the entry goes.
//!
//! Advertisements update entries as RFC 4861 7.2.5 says; solicitations
//! and router messages carrying a link-layer address make or refresh a
//! `Stale` entry (7.2.3, 6.3.4). The table is bounded
//! ([`TABLE_LIMIT`]); a new entry evicts a stale one first, else the
//! entry whose timer runs out first. Entries are charged to the `nd`
//! account. All of it is plain data with time passed in, so the state
//! machine is tested with simulated time; the caller sends the
//! solicitations it returns ([`Probe`]).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use base::memory::ReclaimLevel;
use wire::MacAddress;

use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::memory::Budget;

pub use crate::arp::{PENDING_LIMIT, PENDING_TOTAL};

/// Multicast solicitations before an address is given up (RFC 4861 10).
pub const MAX_MULTICAST_SOLICIT: u32 = 3;
/// Unicast probes before a neighbor is declared unreachable.
pub const MAX_UNICAST_SOLICIT: u32 = 3;
/// How long `Delay` waits for a hint before probing.
pub const DELAY_FIRST_PROBE_NS: u64 = 5_000_000_000;
/// How long an unused `Stale` entry is kept.
pub const STALE_NS: u64 = 600_000_000_000;
/// Entries the cache holds at most.
pub const TABLE_LIMIT: usize = 256;
/// What an entry is charged: key and value in B-tree nodes about half
/// full, and its waiting queue's first slots.
const ENTRY_BYTES: usize =
    2 * core::mem::size_of::<(Key, Entry)>() + 4 * core::mem::size_of::<PacketBuffer>();

type Key = (InterfaceIndex, Ipv6Addr);

/// The NUD states (RFC 4861 7.3.2), for display and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NudState {
    /// Resolving.
    Incomplete,
    /// Recently confirmed.
    Reachable,
    /// Unconfirmed.
    Stale,
    /// Waiting for a hint.
    Delay,
    /// Probing.
    Probe,
}

enum State {
    Incomplete {
        pending: VecDeque<PacketBuffer>,
        probes: u32,
    },
    Reachable(MacAddress),
    Stale(MacAddress),
    Delay(MacAddress),
    Probe(MacAddress, u32),
}

struct Entry {
    state: State,
    /// When the state's timer runs out.
    deadline_ns: u64,
    /// The neighbor said it is a router.
    router: bool,
}

impl Entry {
    fn mac(&self) -> Option<MacAddress> {
        match self.state {
            State::Incomplete { .. } => None,
            State::Reachable(mac) | State::Stale(mac) | State::Delay(mac) => Some(mac),
            State::Probe(mac, _) => Some(mac),
        }
    }

    fn nud(&self) -> NudState {
        match self.state {
            State::Incomplete { .. } => NudState::Incomplete,
            State::Reachable(_) => NudState::Reachable,
            State::Stale(_) => NudState::Stale,
            State::Delay(_) => NudState::Delay,
            State::Probe(..) => NudState::Probe,
        }
    }
}

/// An interface's NUD timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long a confirmation lasts.
    pub reachable_ns: u64,
    /// Time between solicitations.
    pub retransmit_ns: u64,
}

/// A solicitation the caller must send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// On which interface.
    pub interface: InterfaceIndex,
    /// For which address.
    pub target: Ipv6Addr,
    /// To the solicited-node group (`None`) or to this MAC.
    pub unicast: Option<MacAddress>,
}

/// What an advertisement's flags say (RFC 4861 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advertised {
    /// Its link-layer address, if it carried one.
    pub mac: Option<MacAddress>,
    /// An answer to our solicitation.
    pub solicited: bool,
    /// Replace what we have.
    pub override_cache: bool,
    /// The sender is a router.
    pub router: bool,
}

/// Counters, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NeighborStats {
    /// Packets dropped waiting for a neighbor that never answered, or
    /// pushed out of a full pending queue.
    pub dropped_unresolved: u64,
    /// Neighbors given up by NUD (no answer to probes).
    pub unreachable: u64,
}

/// The cache.
pub struct NeighborCache {
    entries: BTreeMap<Key, Entry>,
    budget: Budget,
    /// Packets waiting in all incomplete entries.
    pending: usize,
    /// Counters.
    pub stats: NeighborStats,
}

mod machine;

impl NeighborCache {
    /// An empty cache charging its entries to `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            entries: BTreeMap::new(),
            budget,
            pending: 0,
            stats: NeighborStats::default(),
        }
    }

    /// The state of the entry for `target`, if there is one.
    pub fn state(&self, interface: InterfaceIndex, target: Ipv6Addr) -> Option<NudState> {
        self.entries.get(&(interface, target)).map(Entry::nud)
    }

    /// Whether `target` said it is a router and has a link-layer address.
    pub fn is_reachable_router(&self, interface: InterfaceIndex, target: Ipv6Addr) -> bool {
        self.entries
            .get(&(interface, target))
            .is_some_and(|entry| entry.router && entry.mac().is_some())
    }

    /// Entries (interface, address, MAC if known, state), for display.
    pub fn entries(
        &self,
    ) -> impl Iterator<Item = (InterfaceIndex, Ipv6Addr, Option<MacAddress>, NudState)> + '_ {
        self.entries
            .iter()
            .map(|((index, ip), entry)| (*index, *ip, entry.mac(), entry.nud()))
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The earliest timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.entries.values().map(|entry| entry.deadline_ns).min()
    }

    /// Forgets every entry of `interface`.
    pub fn flush_interface(&mut self, interface: InterfaceIndex) {
        let keys: Vec<Key> = self
            .entries
            .keys()
            .filter(|(index, _)| *index == interface)
            .copied()
            .collect();
        for key in keys {
            self.forget(&key);
        }
    }

    /// Gives memory back (the pagedaemon): stale entries go, and at
    /// [`ReclaimLevel::Urgent`] so do packets waiting for neighbors.
    /// Returns about the bytes freed.
    pub fn shrink(&mut self, level: ReclaimLevel) -> usize {
        let stale: Vec<Key> = self
            .entries
            .iter()
            .filter(|(_, entry)| matches!(entry.state, State::Stale(_)))
            .map(|(key, _)| *key)
            .collect();
        let mut freed = stale.len() * ENTRY_BYTES;
        for key in stale {
            self.forget(&key);
        }
        if level == ReclaimLevel::Urgent {
            for entry in self.entries.values_mut() {
                if let State::Incomplete { pending, .. } = &mut entry.state {
                    freed += pending.iter().map(PacketBuffer::footprint).sum::<usize>();
                    self.stats.dropped_unresolved += pending.len() as u64;
                    self.pending -= pending.len();
                    *pending = VecDeque::new();
                }
            }
        }
        freed
    }

    /// Removes an entry, counting the packets that waited in it.
    fn forget(&mut self, key: &Key) {
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        self.budget.release(ENTRY_BYTES);
        if let State::Incomplete { pending, .. } = entry.state {
            self.stats.dropped_unresolved += pending.len() as u64;
            self.pending -= pending.len();
        }
    }

    /// Makes room for a new key (a stale entry goes first, else the one
    /// whose timer ends first) and charges it; false when refused.
    fn admit(&mut self, key: &Key) -> bool {
        if self.entries.contains_key(key) {
            return true;
        }
        if self.entries.len() >= TABLE_LIMIT {
            let victim = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| {
                    (!matches!(entry.state, State::Stale(_)), entry.deadline_ns)
                })
                .map(|(key, _)| *key);
            if let Some(victim) = victim {
                self.forget(&victim);
            }
        }
        self.budget.charge(ENTRY_BYTES)
    }
}

impl Drop for NeighborCache {
    fn drop(&mut self) {
        self.budget.release(self.entries.len() * ENTRY_BYTES);
    }
}

impl core::fmt::Debug for NeighborCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NeighborCache")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
