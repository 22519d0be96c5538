//! A bounded cache of answers, per name and family, honouring their TTLs.
//!
//! Positive answers are kept for their TTL, at most [`POSITIVE_TTL_CAP`];
//! negative ones (NXDOMAIN, NODATA) for the SOA's negative TTL, at most
//! [`NEGATIVE_TTL_CAP`] (RFC 2308 §5), and not at all without an SOA. A
//! TTL of zero is not cached (RFC 1035 §3.2.1). The cache holds at most
//! `capacity` entries of fixed size ([`Cache::ENTRY_BYTES`]); a new one
//! replaces an expired entry first, else the least recently used. It
//! grows one entry at a time and never past its capacity, so what it
//! holds is at most `capacity * ENTRY_BYTES` ([`Cache::footprint`]).

use alloc::vec::Vec;

use crate::response::{Answer, Resolution};
use crate::{Family, Name};

/// Entries a cache holds by default: 32 names in both families.
pub const DEFAULT_CAPACITY: usize = 64;
/// The longest a positive answer is kept, in seconds: a day.
pub const POSITIVE_TTL_CAP: u32 = 86_400;
/// The longest a negative answer is kept, in seconds (RFC 2308 §5 allows
/// up to a day and suggests hours; an appliance whose server learns a new
/// name should see it soon).
pub const NEGATIVE_TTL_CAP: u32 = 300;

const SECOND_NS: u64 = 1_000_000_000;

/// One cached answer.
#[derive(Clone, Copy, Debug)]
struct Entry {
    name: Name,
    family: Family,
    resolution: Resolution,
    expires_ns: u64,
    used_ns: u64,
}

// A full default cache stays under 28 KiB (64 entries of 416 bytes).
const _: () = assert!(Cache::ENTRY_BYTES <= 448);

/// Where [`Cache::insert`] puts an entry.
enum Slot {
    Replace(usize),
    Append,
}

/// What the cache did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups it could not answer (absent or expired).
    pub misses: u64,
    /// Answers stored.
    pub stored: u64,
    /// Entries dropped because they expired.
    pub expired: u64,
    /// Live entries dropped to make room.
    pub evicted: u64,
}

/// The cache.
#[derive(Debug)]
pub struct Cache {
    entries: Vec<Entry>,
    capacity: usize,
    stats: CacheStats,
}

impl Cache {
    /// The bytes one entry takes.
    pub const ENTRY_BYTES: usize = core::mem::size_of::<Entry>();

    /// An empty cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Vec::new(),
            capacity,
            stats: CacheStats::default(),
        }
    }

    /// The answer for `name` in `family`, if one is cached and still valid
    /// at `now_ns`.
    pub fn lookup(&mut self, now_ns: u64, name: &Name, family: Family) -> Option<Resolution> {
        let Some(index) = self.position(name, family) else {
            self.stats.misses += 1;
            return None;
        };
        let entry = &mut self.entries[index];
        if entry.expires_ns <= now_ns {
            self.entries.swap_remove(index);
            self.stats.expired += 1;
            self.stats.misses += 1;
            return None;
        }
        entry.used_ns = now_ns;
        self.stats.hits += 1;
        Some(entry.resolution)
    }

    /// Stores `answer` for `name` in `family` at `now_ns`, for its capped
    /// TTL; an answer that may not be cached removes an older one.
    pub fn insert(&mut self, now_ns: u64, name: &Name, family: Family, answer: &Answer) {
        let cap = match answer.resolution {
            Resolution::Addresses(_) => POSITIVE_TTL_CAP,
            Resolution::NoAddresses | Resolution::NoSuchName => NEGATIVE_TTL_CAP,
        };
        let ttl = answer.ttl.unwrap_or(0).min(cap);
        let existing = self.position(name, family);
        if ttl == 0 {
            if let Some(index) = existing {
                self.entries.swap_remove(index);
            }
            return;
        }
        let entry = Entry {
            name: *name,
            family,
            resolution: answer.resolution,
            expires_ns: now_ns.saturating_add(u64::from(ttl) * SECOND_NS),
            used_ns: now_ns,
        };
        let slot = match existing {
            Some(index) => Slot::Replace(index),
            None => match self.slot_for_new(now_ns) {
                Some(slot) => slot,
                None => return,
            },
        };
        self.stats.stored += 1;
        match slot {
            Slot::Replace(index) => self.entries[index] = entry,
            Slot::Append => self.entries.push(entry),
        }
    }

    /// Where a new entry goes: one more at the end while there is room
    /// (and memory) for it, else the slot of an expired entry, else that
    /// of the least recently used; `None` with no capacity at all.
    fn slot_for_new(&mut self, now_ns: u64) -> Option<Slot> {
        if self.entries.len() < self.capacity && self.entries.try_reserve_exact(1).is_ok() {
            return Some(Slot::Append);
        }
        if let Some(index) = self.entries.iter().position(|e| e.expires_ns <= now_ns) {
            self.stats.expired += 1;
            return Some(Slot::Replace(index));
        }
        let oldest = self
            .entries
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.used_ns);
        let (index, _) = oldest?;
        self.stats.evicted += 1;
        Some(Slot::Replace(index))
    }

    fn position(&self, name: &Name, family: Family) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.family == family && e.name == *name)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most entries it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes its entries take (their vector's capacity).
    pub fn footprint(&self) -> usize {
        self.entries.capacity() * Self::ENTRY_BYTES
    }

    /// Forgets everything and gives the memory back.
    pub fn clear(&mut self) {
        self.entries = Vec::new();
    }

    /// What it did so far.
    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }
}
