//! Keeping the store under its memory limit: admission and eviction.
//!
//! An insertion may grow the slot vector or the hash table; both report
//! what their next growth would cost, so eviction makes room for the item
//! and that growth together, and the limit holds after the insertion too.

use super::{Item, Store, hash, slot_hash};
use crate::clock::Clock;
use crate::lru::SlotNumber;

impl Store {
    /// Bytes the hash table may add on the next insertion (at most its
    /// current size: it doubles).
    fn index_growth_bytes(&self) -> usize {
        if self.index.len() < self.index.capacity() {
            return 0;
        }
        self.index.allocation_size().max(64)
    }

    /// Evicts from the LRU end until `cost` more bytes, and the growth of
    /// the index one more item may cause, fit under the limit.
    fn make_room(&mut self, cost: usize, now: Clock) -> bool {
        loop {
            let growth = self.items.growth_bytes() + self.index_growth_bytes();
            if self.memory_in_use() + growth + cost <= self.config.memory_limit {
                return true;
            }
            let Some(oldest) = self.items.oldest() else {
                return false;
            };
            self.retire(oldest, now);
        }
    }

    /// Stores `item` in place of the one in `old`, evicting as needed.
    /// Hands `item` back if it cannot fit: untouched when it could never
    /// fit beside the index, without `old` when even eviction fell short.
    pub(super) fn install(
        &mut self,
        old: Option<SlotNumber>,
        item: Item,
        now: Clock,
    ) -> Result<(), Item> {
        if item.cost() + self.index_bytes() > self.config.memory_limit {
            return Err(item);
        }
        if let Some(old) = old {
            self.unlink(old);
        }
        if !self.make_room(item.cost(), now) {
            return Err(item);
        }
        self.link(item)
    }

    /// Puts an item at the newest end of the list and into the index.
    fn link(&mut self, item: Item) -> Result<(), Item> {
        let (items, hash_key) = (&self.items, &self.hash_key);
        let rehash = |&slot: &SlotNumber| slot_hash(items, hash_key, slot);
        if self.index.try_reserve(1, rehash).is_err() {
            return Err(item);
        }
        let key_hash = hash(&self.hash_key, item.key());
        let cost = item.cost();
        let slot = self.items.insert_newest(item)?;
        let (items, hash_key) = (&self.items, &self.hash_key);
        self.index
            .insert_unique(key_hash, slot, |&slot| slot_hash(items, hash_key, slot));
        self.item_bytes += cost;
        self.counters.total_items += 1;
        Ok(())
    }

    /// Bytes of one slot of the slab (tests hold the documentation to it).
    #[cfg(test)]
    pub(crate) const SLOT_BYTES: usize = crate::lru::Lru::<Item>::SLOT_BYTES;

    /// Checks the bookkeeping against the items themselves (tests).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let items: alloc::vec::Vec<&Item> = self.items.newest_first().collect();
        assert_eq!(items.len(), self.items.len(), "list length");
        assert_eq!(items.len(), self.index.len(), "index length");
        let cost: usize = items.iter().map(|item| item.cost()).sum();
        assert_eq!(cost, self.item_bytes, "item bytes");
        for item in &items {
            let found = self.index.find(hash(&self.hash_key, item.key()), |&slot| {
                self.items
                    .get(slot)
                    .is_some_and(|other| other.key() == item.key())
            });
            assert!(found.is_some(), "item missing from the index");
        }
        assert!(
            self.memory_in_use() <= self.config.memory_limit,
            "memory limit"
        );
    }

    /// The stored keys from the most to the least recently used (tests).
    #[cfg(test)]
    pub(crate) fn keys_newest_first(&self) -> alloc::vec::Vec<alloc::vec::Vec<u8>> {
        self.items
            .newest_first()
            .map(|item| item.key().to_vec())
            .collect()
    }
}
