//! The cache: a keyed index over an LRU slab, under one memory limit.
//!
//! The index is a SwissTable (`hashbrown::HashTable`) of four-byte slot
//! numbers; the key itself is stored once, in the item. Keys are hashed
//! with SipHash-1-3 under a 128-bit key the caller draws from its random
//! source, so a client cannot choose keys that collide.
//!
//! Memory accounting: `memory_in_use = item bytes + index bytes`, where an
//! item costs its key, its value and [`ITEM_ALLOCATION_OVERHEAD`], and the
//! index is the whole allocation of the slot vector and the hash table,
//! spare capacity included. Before an insertion the store evicts from the
//! LRU end until the item *and the index growth the insertion may cause*
//! fit, so `memory_in_use <= memory_limit` holds after every operation.

mod delta;
mod item;
mod memory;
mod retrieval;
mod storage;

use core::hash::Hasher;

use hashbrown::HashTable;
use siphasher::sip::SipHasher13;

pub(crate) use delta::Delta;
pub use delta::DeltaError;
pub use item::{Hit, ITEM_ALLOCATION_OVERHEAD, Value};
pub use storage::{NewItem, StoreMode, StoreOutcome};

use crate::clock::{Clock, Deadline};
use crate::key::Key;
use crate::lru::{Lru, SlotNumber};
use crate::stats::Counters;
use item::Item;

/// The limits a store enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Bytes the items and the index may hold together (memcached `-m`).
    pub memory_limit: usize,
    /// The largest value accepted, in bytes (memcached `-I`).
    pub item_size_limit: usize,
}

impl Default for Config {
    /// memcached's defaults: 64 MiB of memory, 1 MiB values.
    fn default() -> Config {
        Config {
            memory_limit: 64 << 20,
            item_size_limit: 1 << 20,
        }
    }
}

/// Why a lookup found nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    Absent,
    /// The item was there but its time had come; it is gone now.
    Expired,
}

/// A memcached-style cache (see the module documentation).
#[derive(Debug)]
pub struct Store {
    config: Config,
    hash_key: [u8; 16],
    index: HashTable<SlotNumber>,
    items: Lru<Item>,
    item_bytes: usize,
    last_cas: u64,
    pending_flush: Option<Deadline>,
    started: Clock,
    counters: Counters,
}

fn hash(hash_key: &[u8; 16], key: &[u8]) -> u64 {
    let mut hasher = SipHasher13::new_with_key(hash_key);
    hasher.write(key);
    hasher.finish()
}

/// The index's hash of the item in `slot` (for rehashing on growth).
fn slot_hash(items: &Lru<Item>, hash_key: &[u8; 16], slot: SlotNumber) -> u64 {
    items.get(slot).map_or(0, |item| hash(hash_key, item.key()))
}

impl Store {
    /// An empty store; `hash_seed` must be unpredictable to clients.
    pub fn new(config: Config, hash_seed: [u8; 16], now: Clock) -> Store {
        Store {
            config,
            hash_key: hash_seed,
            index: HashTable::new(),
            items: Lru::new(),
            item_bytes: 0,
            last_cas: 0,
            pending_flush: None,
            started: now,
            counters: Counters::default(),
        }
    }

    /// The limits this store was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How many items are stored, expired ones not yet reclaimed included.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item is stored.
    pub fn is_empty(&self) -> bool {
        self.items.len() == 0
    }

    /// Bytes charged for items: keys, values and per-item overhead.
    pub fn item_bytes(&self) -> usize {
        self.item_bytes
    }

    /// Bytes allocated for the slot vector and the hash table.
    pub fn index_bytes(&self) -> usize {
        self.items.allocation_bytes() + self.index.allocation_size()
    }

    /// Everything the store holds; never above `config().memory_limit`.
    pub fn memory_in_use(&self) -> usize {
        self.item_bytes + self.index_bytes()
    }

    /// The event counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub(crate) fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }

    /// The clock reading the store was created with.
    pub(crate) fn started(&self) -> Clock {
        self.started
    }

    /// Runs a delayed `flush_all` whose time has come; every operation
    /// starts here.
    fn begin(&mut self, now: Clock) {
        if self
            .pending_flush
            .is_some_and(|deadline| deadline.has_passed(now))
        {
            self.pending_flush = None;
            self.clear();
        }
    }

    fn clear(&mut self) {
        self.items.clear();
        self.index.clear();
        self.item_bytes = 0;
    }

    fn next_cas(&mut self) -> u64 {
        self.last_cas = self.last_cas.wrapping_add(1).max(1);
        self.last_cas
    }

    /// The live item under `key`; an expired one is reclaimed on the way.
    pub(crate) fn lookup(&mut self, key: Key<'_>, now: Clock) -> Result<SlotNumber, Miss> {
        self.begin(now);
        let key = key.as_bytes();
        let (items, hash_key) = (&self.items, &self.hash_key);
        let found = self.index.find(hash(hash_key, key), |&slot| {
            items.get(slot).is_some_and(|item| item.key() == key)
        });
        let slot = *found.ok_or(Miss::Absent)?;
        if self
            .items
            .get(slot)
            .is_some_and(|item| !item.expires.has_passed(now))
        {
            return Ok(slot);
        }
        self.retire(slot, now);
        Err(Miss::Expired)
    }

    /// Takes an item out of the index and the list.
    fn unlink(&mut self, slot: SlotNumber) -> Option<Item> {
        let key_hash = slot_hash(&self.items, &self.hash_key, slot);
        if let Ok(entry) = self.index.find_entry(key_hash, |&other| other == slot) {
            entry.remove();
        }
        let item = self.items.remove(slot)?;
        self.item_bytes -= item.cost();
        Some(item)
    }

    /// Removes an item the cache gives up (expired or evicted), counting it.
    fn retire(&mut self, slot: SlotNumber, now: Clock) {
        let Some(item) = self.unlink(slot) else {
            return;
        };
        let counters = &mut self.counters;
        if item.expires.has_passed(now) {
            counters.reclaimed += 1;
            counters.expired_unfetched += u64::from(!item.fetched);
        } else {
            counters.evictions += 1;
            counters.evicted_unfetched += u64::from(!item.fetched);
        }
    }
}
