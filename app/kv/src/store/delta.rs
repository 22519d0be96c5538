//! `incr` and `decr`: numbers kept as decimal text, as memcached keeps them.
//!
//! As memcached's `do_add_delta`: the value is parsed with `safe_strtoull`
//! (so `" 12 "` counts, `"12abc"` does not), `incr` wraps at 2^64, `decr`
//! stops at zero, and the new digits overwrite the value in place, padded
//! with spaces, when they fit and no reader holds the bytes (`decr` of
//! `10` by one leaves `"9 "`); otherwise a new item replaces the old.

use alloc::sync::Arc;

use super::{Item, Store};
use crate::clock::Clock;
use crate::key::Key;
use crate::lru::SlotNumber;
use crate::number::{DECIMAL_U64_LENGTH, format_u64, parse_u64};

/// Why `incr` or `decr` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeltaError {
    /// `NOT_FOUND`
    NotFound,
    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`
    NonNumeric,
    /// `SERVER_ERROR out of memory`
    OutOfMemory,
}

/// Which way `incr`/`decr` goes: up wraps at 2^64, down stops at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delta {
    Increment(u64),
    Decrement(u64),
}

impl Store {
    /// `incr`: adds `delta` modulo 2^64; returns the new value.
    pub fn increment(&mut self, key: Key<'_>, delta: u64, now: Clock) -> Result<u64, DeltaError> {
        self.apply_delta(key, Delta::Increment(delta), now)
    }

    /// `decr`: subtracts `delta`, stopping at zero; returns the new value.
    pub fn decrement(&mut self, key: Key<'_>, delta: u64, now: Clock) -> Result<u64, DeltaError> {
        self.apply_delta(key, Delta::Decrement(delta), now)
    }

    fn apply_delta(&mut self, key: Key<'_>, delta: Delta, now: Clock) -> Result<u64, DeltaError> {
        let Ok(slot) = self.lookup(key, now) else {
            self.count_delta(delta, false);
            return Err(DeltaError::NotFound);
        };
        let item = self.items.get(slot).ok_or(DeltaError::NotFound)?;
        let current = parse_u64(item.value()).ok_or(DeltaError::NonNumeric)?;
        let updated = match delta {
            Delta::Increment(amount) => current.wrapping_add(amount),
            Delta::Decrement(amount) => current.saturating_sub(amount),
        };
        self.count_delta(delta, true);
        let mut buffer = [0; DECIMAL_U64_LENGTH];
        let digits = format_u64(updated, &mut buffer);
        self.rewrite_number(slot, digits, now)?;
        Ok(updated)
    }

    fn count_delta(&mut self, delta: Delta, hit: bool) {
        let counters = &mut self.counters;
        *match (delta, hit) {
            (Delta::Increment(_), true) => &mut counters.incr_hits,
            (Delta::Increment(_), false) => &mut counters.incr_misses,
            (Delta::Decrement(_), true) => &mut counters.decr_hits,
            (Delta::Decrement(_), false) => &mut counters.decr_misses,
        } += 1;
    }

    /// Stores `digits` as the item's value: in place, padded with spaces,
    /// when they fit and no reader holds the bytes; else as a new item.
    fn rewrite_number(
        &mut self,
        slot: SlotNumber,
        digits: &[u8],
        now: Clock,
    ) -> Result<(), DeltaError> {
        let cas = self.next_cas();
        self.items.promote(slot);
        let item = self.items.get_mut(slot).ok_or(DeltaError::NotFound)?;
        item.cas = cas;
        let start = usize::from(item.key_length);
        if let Some(data) = Arc::get_mut(&mut item.data)
            && let Some(value) = data.get_mut(start..).filter(|v| v.len() >= digits.len())
        {
            let (number, padding) = value.split_at_mut(digits.len());
            number.copy_from_slice(digits);
            padding.fill(b' ');
            return Ok(());
        }
        let mut fresh = Item::new(item.key(), [digits, &[], &[]], item.flags);
        (fresh.expires, fresh.cas) = (item.expires, cas);
        self.install(Some(slot), fresh, now)
            .map_err(|_| DeltaError::OutOfMemory)
    }
}
