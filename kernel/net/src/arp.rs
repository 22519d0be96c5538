//! The ARP cache (RFC 826): neighbours' MACs, with timeouts and a queue
//! of packets waiting for a reply.
//!
//! A packet to an unknown neighbour waits in the entry (up to
//! [`PENDING_LIMIT`], enough for a fragmented 64 KiB datagram, and
//! [`PENDING_TOTAL`] over all entries; the oldest go first) while requests go out once a
//! second, [`REQUEST_TRIES`] times; then the entry fails and its packets are
//! dropped. A resolved entry lives [`REACHABLE_NS`] and is then forgotten,
//! so a moved neighbour is found again. The table is bounded: when full, a
//! new entry evicts the one expiring first. Entries are charged to the
//! `arp` account; without memory for a new one, its packet is dropped
//! (or, for a reply, nothing is learned). Under memory pressure
//! [`ArpCache::shrink`] drops expired entries and waiting packets. All
//! state is plain data under the stack lock; the caller sends what this
//! module asks for.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use wire::MacAddress;

use base::memory::ReclaimLevel;

use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::memory::Budget;

/// Packets held per unresolved neighbour.
pub const PENDING_LIMIT: usize = 48;
/// Packets held for all unresolved neighbours together.
pub const PENDING_TOTAL: usize = 256;
/// Requests sent before giving up.
pub const REQUEST_TRIES: u32 = 3;
/// Time between requests.
pub const RETRY_NS: u64 = 1_000_000_000;
/// How long a resolved entry is trusted.
pub const REACHABLE_NS: u64 = 300_000_000_000;
/// Entries the table holds at most.
pub const TABLE_LIMIT: usize = 512;
/// What an entry is charged: key and value in B-tree nodes about half
/// full, and its waiting queue's first slots.
const ENTRY_BYTES: usize =
    2 * core::mem::size_of::<(Key, Entry)>() + 4 * core::mem::size_of::<PacketBuffer>();

type Key = (InterfaceIndex, Ipv4Addr);

enum State {
    Resolving {
        pending: VecDeque<PacketBuffer>,
        tries: u32,
    },
    Resolved(MacAddress),
}

struct Entry {
    state: State,
    /// Resolving: when to send the next request (or give up); resolved:
    /// when the entry expires.
    deadline_ns: u64,
}

/// What the caller should do after [`ArpCache::hold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldOutcome {
    /// A new entry: send the first request now.
    SendRequest,
    /// A request is already out; the packet waits with the others.
    Waiting,
}

/// Counters, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArpStats {
    /// Requests sent.
    pub requests_sent: u64,
    /// Replies sent.
    pub replies_sent: u64,
    /// Packets dropped waiting for a neighbour that never answered, or
    /// pushed out of a full pending queue.
    pub dropped_unresolved: u64,
    /// Malformed or unsupported ARP packets.
    pub malformed: u64,
}

/// The cache.
pub struct ArpCache {
    entries: BTreeMap<Key, Entry>,
    budget: Budget,
    /// Packets waiting in all resolving entries.
    pending: usize,
    /// Counters.
    pub stats: ArpStats,
}

impl ArpCache {
    /// An empty cache charging its entries to `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            entries: BTreeMap::new(),
            budget,
            pending: 0,
            stats: ArpStats::default(),
        }
    }

    /// The neighbour's MAC, if resolved and not expired.
    pub fn lookup(
        &self,
        now_ns: u64,
        interface: InterfaceIndex,
        ip: Ipv4Addr,
    ) -> Option<MacAddress> {
        match self.entries.get(&(interface, ip)) {
            Some(Entry {
                state: State::Resolved(mac),
                deadline_ns,
            }) if *deadline_ns > now_ns => Some(*mac),
            _ => None,
        }
    }

    /// Keeps `packet` (an IP packet for `ip`) until `ip` resolves.
    pub fn hold(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        ip: Ipv4Addr,
        packet: PacketBuffer,
    ) -> HoldOutcome {
        let key = (interface, ip);
        if let Some(Entry {
            state: State::Resolving { pending, .. },
            ..
        }) = self.entries.get_mut(&key)
        {
            if pending.len() >= PENDING_LIMIT || self.pending >= PENDING_TOTAL {
                pending.pop_front();
                self.stats.dropped_unresolved += 1;
                self.pending -= 1;
            }
            pending.push_back(packet);
            self.pending += 1;
            return HoldOutcome::Waiting;
        }
        if self.pending >= PENDING_TOTAL {
            self.stats.dropped_unresolved += 1;
            return HoldOutcome::Waiting;
        }
        self.make_room(&key);
        if !self.entries.contains_key(&key) && !self.budget.charge(ENTRY_BYTES) {
            self.stats.dropped_unresolved += 1;
            return HoldOutcome::Waiting;
        }
        let mut pending = VecDeque::new();
        pending.push_back(packet);
        self.pending += 1;
        let entry = Entry {
            state: State::Resolving { pending, tries: 1 },
            deadline_ns: now_ns.saturating_add(RETRY_NS),
        };
        self.entries.insert(key, entry);
        self.stats.requests_sent += 1;
        HoldOutcome::SendRequest
    }

    /// Records that `ip` is at `mac` and returns the packets that waited
    /// for it. With `create` false only an existing entry is updated (RFC
    /// 826: learn from packets addressed to us, refresh the rest).
    pub fn learn(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        ip: Ipv4Addr,
        mac: MacAddress,
        create: bool,
    ) -> VecDeque<PacketBuffer> {
        let key = (interface, ip);
        let known = self.entries.contains_key(&key);
        if !create && !known {
            return VecDeque::new();
        }
        self.make_room(&key);
        if !known && !self.budget.charge(ENTRY_BYTES) {
            return VecDeque::new();
        }
        let entry = Entry {
            state: State::Resolved(mac),
            deadline_ns: now_ns.saturating_add(REACHABLE_NS),
        };
        match self.entries.insert(key, entry) {
            Some(Entry {
                state: State::Resolving { pending, .. },
                ..
            }) => {
                self.pending -= pending.len();
                pending
            }
            _ => VecDeque::new(),
        }
    }

    /// Runs the timers due at `now_ns`: retries (returned, for the caller
    /// to send requests) and expiries.
    pub fn on_timer(&mut self, now_ns: u64, retries: &mut Vec<Key>) {
        let mut expired = Vec::new();
        for (key, entry) in self.entries.iter_mut() {
            if entry.deadline_ns > now_ns {
                continue;
            }
            match &mut entry.state {
                State::Resolving { tries, .. } if *tries < REQUEST_TRIES => {
                    *tries += 1;
                    entry.deadline_ns = now_ns.saturating_add(RETRY_NS);
                    retries.push(*key);
                }
                _ => expired.push(*key),
            }
        }
        self.stats.requests_sent += retries.len() as u64;
        for key in expired {
            self.forget(&key);
        }
    }

    /// Removes an entry, counting the packets that waited in it.
    fn forget(&mut self, key: &Key) {
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        self.budget.release(ENTRY_BYTES);
        if let State::Resolving { pending, .. } = entry.state {
            self.stats.dropped_unresolved += pending.len() as u64;
            self.pending -= pending.len();
        }
    }

    /// Gives memory back (the pagedaemon): expired entries go, and at
    /// [`ReclaimLevel::Urgent`] so do the packets waiting for neighbours
    /// (their requests stay out). Returns about the bytes freed.
    pub fn shrink(&mut self, now_ns: u64, level: ReclaimLevel) -> usize {
        let expired: Vec<Key> = self
            .entries
            .iter()
            .filter(|(_, entry)| {
                matches!(entry.state, State::Resolved(_)) && entry.deadline_ns <= now_ns
            })
            .map(|(key, _)| *key)
            .collect();
        let mut freed = expired.len() * ENTRY_BYTES;
        for key in expired {
            self.forget(&key);
        }
        if level == ReclaimLevel::Urgent {
            for entry in self.entries.values_mut() {
                if let State::Resolving { pending, .. } = &mut entry.state {
                    freed += pending.iter().map(PacketBuffer::footprint).sum::<usize>();
                    self.stats.dropped_unresolved += pending.len() as u64;
                    self.pending -= pending.len();
                    *pending = VecDeque::new();
                }
            }
        }
        freed
    }

    /// The earliest retry or expiry.
    pub fn next_deadline(&self) -> Option<u64> {
        self.entries.values().map(|entry| entry.deadline_ns).min()
    }

    /// Forgets every entry of `interface` (it went down or changed address).
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

    /// Resolved entries, for display.
    pub fn resolved(&self) -> impl Iterator<Item = (InterfaceIndex, Ipv4Addr, MacAddress)> + '_ {
        self.entries
            .iter()
            .filter_map(|((index, ip), entry)| match entry.state {
                State::Resolved(mac) => Some((*index, *ip, mac)),
                State::Resolving { .. } => None,
            })
    }

    /// Evicts the entry expiring first when a new key would overflow.
    fn make_room(&mut self, key: &Key) {
        if self.entries.len() < TABLE_LIMIT || self.entries.contains_key(key) {
            return;
        }
        let victim = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| entry.deadline_ns)
            .map(|(key, _)| *key);
        if let Some(victim) = victim {
            self.forget(&victim);
        }
    }
}

impl Drop for ArpCache {
    fn drop(&mut self) {
        self.budget.release(self.entries.len() * ENTRY_BYTES);
    }
}

impl core::fmt::Debug for ArpCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ArpCache").finish_non_exhaustive()
    }
}
