//! The storage commands: set, add, replace, append, prepend and cas.
//!
//! Each counts itself in the [`Counters`](crate::Counters) as memcached
//! 1.6 does and follows its `do_store_item` in the corners: `add` of an
//! existing key refreshes its LRU place, a failed `set` drops the old
//! value, `append` keeps the old flags and expiry, and an `append` past
//! the item size limit is `NOT_STORED`.

use super::{Item, Store};
use crate::clock::{Clock, Deadline};
use crate::key::Key;
use crate::lru::SlotNumber;

/// The storage commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMode {
    /// Store unconditionally.
    Set,
    /// Store only if the key holds nothing.
    Add,
    /// Store only if the key holds something.
    Replace,
    /// Add the bytes after the existing value.
    Append,
    /// Add the bytes before the existing value.
    Prepend,
    /// Store only if the item's CAS unique is still this one.
    Cas(u64),
}

/// What a storage command did, named by its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreOutcome {
    /// `STORED`
    Stored,
    /// `NOT_STORED`: the condition of add, replace, append or prepend failed.
    NotStored,
    /// `EXISTS`: a cas whose item was modified since it was read.
    Exists,
    /// `NOT_FOUND`: a cas whose item is gone.
    NotFound,
    /// `SERVER_ERROR object too large for cache`
    TooLarge,
    /// `SERVER_ERROR out of memory storing object`
    OutOfMemory,
}

/// An item as a storage command supplies it.
#[derive(Clone, Copy, Debug)]
pub struct NewItem<'a> {
    /// Where to store it.
    pub key: Key<'a>,
    /// The client's opaque 32 bits.
    pub flags: u32,
    /// memcached's exptime: 0 never, < 0 at once, relative up to 30 days,
    /// else a unix time in seconds.
    pub exptime: i64,
    /// The bytes.
    pub value: &'a [u8],
}

impl Store {
    /// Records a value refused for its size before it was read; a `set`
    /// so refused drops the old value, as memcached does.
    pub fn refuse_too_large(&mut self, mode: StoreMode, key: Key<'_>, now: Clock) {
        self.counters.store_too_large += 1;
        if mode == StoreMode::Set
            && let Ok(slot) = self.lookup(key, now)
        {
            self.unlink(slot);
        }
    }

    /// The storage commands: set, add, replace, append, prepend and cas.
    pub fn store(&mut self, mode: StoreMode, new: NewItem<'_>, now: Clock) -> StoreOutcome {
        self.counters.cmd_set += 1;
        if new.value.len() > self.config.item_size_limit {
            self.refuse_too_large(mode, new.key, now);
            return StoreOutcome::TooLarge;
        }
        let existing = self.lookup(new.key, now).ok();
        match (mode, existing) {
            (StoreMode::Add, Some(slot)) => {
                self.items.promote(slot);
                StoreOutcome::NotStored
            }
            (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, None) => {
                StoreOutcome::NotStored
            }
            (StoreMode::Append, Some(slot)) => self.concatenate(slot, [&[], new.value], now),
            (StoreMode::Prepend, Some(slot)) => self.concatenate(slot, [new.value, &[]], now),
            (StoreMode::Cas(unique), found) => self.compare_and_swap(unique, found, new, now),
            (StoreMode::Set | StoreMode::Add | StoreMode::Replace, found) => {
                self.put(mode, found, new, now)
            }
        }
    }

    fn compare_and_swap(
        &mut self,
        unique: u64,
        found: Option<SlotNumber>,
        new: NewItem<'_>,
        now: Clock,
    ) -> StoreOutcome {
        let Some(slot) = found else {
            self.counters.cas_misses += 1;
            return StoreOutcome::NotFound;
        };
        if self.items.get(slot).is_none_or(|item| item.cas != unique) {
            self.counters.cas_badval += 1;
            return StoreOutcome::Exists;
        }
        self.counters.cas_hits += 1;
        self.put(StoreMode::Cas(unique), Some(slot), new, now)
    }

    fn put(
        &mut self,
        mode: StoreMode,
        old: Option<SlotNumber>,
        new: NewItem<'_>,
        now: Clock,
    ) -> StoreOutcome {
        let mut item = Item::new(new.key.as_bytes(), [new.value, &[], &[]], new.flags);
        item.expires = Deadline::from_exptime(new.exptime, now);
        item.cas = self.next_cas();
        match self.install(old, item, now) {
            Ok(()) => StoreOutcome::Stored,
            Err(_) => {
                self.counters.store_no_memory += 1;
                if let (StoreMode::Set, Some(old)) = (mode, old) {
                    self.unlink(old);
                }
                StoreOutcome::OutOfMemory
            }
        }
    }

    /// append (`[old, new]` order given as `[&[], bytes]`) and prepend.
    fn concatenate(&mut self, slot: SlotNumber, around: [&[u8]; 2], now: Clock) -> StoreOutcome {
        let Some(old) = self.items.get(slot) else {
            return StoreOutcome::NotStored;
        };
        let length = around[0].len() + old.value().len() + around[1].len();
        if length > self.config.item_size_limit {
            return StoreOutcome::NotStored;
        }
        let mut item = Item::new(old.key(), [around[0], old.value(), around[1]], old.flags);
        item.expires = old.expires;
        item.cas = self.next_cas();
        match self.install(Some(slot), item, now) {
            Ok(()) => StoreOutcome::Stored,
            Err(_) => StoreOutcome::NotStored,
        }
    }
}
