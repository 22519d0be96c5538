//! Reading and removing: get, gat, touch, delete and flush_all.
//!
//! Each counts itself in the [`Counters`](crate::Counters) as memcached
//! 1.6 does: a `gat` is a touch (`cmd_touch`, `touch_hits`), not a get.

use super::{Miss, Store};
use crate::clock::{Clock, Deadline};
use crate::key::Key;
use crate::lru::SlotNumber;
use crate::store::Hit;

impl Store {
    /// `get`: the live item under `key`, now the most recently used.
    pub fn get(&mut self, key: Key<'_>, now: Clock) -> Option<Hit> {
        self.counters.cmd_get += 1;
        let found = self.lookup(key, now);
        let counters = &mut self.counters;
        match found {
            Ok(_) => counters.get_hits += 1,
            Err(Miss::Absent) => counters.get_misses += 1,
            Err(Miss::Expired) => {
                counters.get_misses += 1;
                counters.get_expired += 1;
            }
        }
        self.fetch(found.ok()?, None)
    }

    /// `gat`: [`Store::get`] that also sets a new exptime.
    pub fn get_and_touch(&mut self, key: Key<'_>, exptime: i64, now: Clock) -> Option<Hit> {
        let slot = self.touch_lookup(key, now)?;
        self.fetch(slot, Some(Deadline::from_exptime(exptime, now)))
    }

    /// `touch`: sets a new exptime; false if nothing is stored under `key`.
    pub fn touch(&mut self, key: Key<'_>, exptime: i64, now: Clock) -> bool {
        let Some(slot) = self.touch_lookup(key, now) else {
            return false;
        };
        self.fetch(slot, Some(Deadline::from_exptime(exptime, now)));
        true
    }

    fn touch_lookup(&mut self, key: Key<'_>, now: Clock) -> Option<SlotNumber> {
        self.counters.cmd_touch += 1;
        let found = self.lookup(key, now).ok();
        let counters = &mut self.counters;
        match found {
            Some(_) => counters.touch_hits += 1,
            None => counters.touch_misses += 1,
        }
        found
    }

    fn fetch(&mut self, slot: SlotNumber, expires: Option<Deadline>) -> Option<Hit> {
        self.items.promote(slot);
        let item = self.items.get_mut(slot)?;
        item.fetched = true;
        if let Some(expires) = expires {
            item.expires = expires;
        }
        Some(item.hit())
    }

    /// `delete`: true if an item was there.
    pub fn delete(&mut self, key: Key<'_>, now: Clock) -> bool {
        let found = self
            .lookup(key, now)
            .ok()
            .and_then(|slot| self.unlink(slot));
        let counters = &mut self.counters;
        match found {
            Some(_) => counters.delete_hits += 1,
            None => counters.delete_misses += 1,
        }
        found.is_some()
    }

    /// `flush_all [delay]`: everything stored before the delay runs out
    /// disappears then (at once for a delay of zero or less).
    pub fn flush_all(&mut self, delay: i64, now: Clock) {
        self.counters.cmd_flush += 1;
        self.pending_flush = None;
        if delay <= 0 {
            self.clear();
        } else {
            self.pending_flush = Some(Deadline::from_exptime(delay, now));
        }
    }
}
