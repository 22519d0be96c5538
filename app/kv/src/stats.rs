//! The counters `stats` reports, named as memcached 1.6 names them.

use crate::clock::Clock;
use crate::store::Store;

/// Events counted since the store started or `stats reset`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "each field is the memcached statistic of that name"
)]
pub struct Counters {
    pub cmd_get: u64,
    pub cmd_set: u64,
    pub cmd_flush: u64,
    pub cmd_touch: u64,
    pub get_hits: u64,
    pub get_misses: u64,
    pub get_expired: u64,
    pub delete_misses: u64,
    pub delete_hits: u64,
    pub incr_misses: u64,
    pub incr_hits: u64,
    pub decr_misses: u64,
    pub decr_hits: u64,
    pub cas_misses: u64,
    pub cas_hits: u64,
    pub cas_badval: u64,
    pub touch_hits: u64,
    pub touch_misses: u64,
    pub store_too_large: u64,
    pub store_no_memory: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub total_items: u64,
    pub expired_unfetched: u64,
    pub evicted_unfetched: u64,
    pub evictions: u64,
    pub reclaimed: u64,
}

/// One `STAT name value` line with a numeric value.
pub type Statistic = (&'static str, u64);

/// How many lines [`Store::statistics`] returns.
pub const STATISTIC_COUNT: usize = 36;

impl Store {
    /// `stats`: every statistic as a (name, value) pair, in memcached's
    /// order (the version, a string, is the session's to add).
    pub fn statistics(&self, now: Clock) -> [Statistic; STATISTIC_COUNT] {
        let uptime = now
            .monotonic_nanoseconds
            .saturating_sub(self.started().monotonic_nanoseconds)
            / 1_000_000_000;
        let c = self.counters();
        let as_u64 = |value: usize| u64::try_from(value).unwrap_or(u64::MAX);
        [
            ("uptime", uptime),
            ("time", now.unix_seconds()),
            ("pointer_size", as_u64(8 * core::mem::size_of::<usize>())),
            ("cmd_get", c.cmd_get),
            ("cmd_set", c.cmd_set),
            ("cmd_flush", c.cmd_flush),
            ("cmd_touch", c.cmd_touch),
            ("get_hits", c.get_hits),
            ("get_misses", c.get_misses),
            ("get_expired", c.get_expired),
            ("delete_misses", c.delete_misses),
            ("delete_hits", c.delete_hits),
            ("incr_misses", c.incr_misses),
            ("incr_hits", c.incr_hits),
            ("decr_misses", c.decr_misses),
            ("decr_hits", c.decr_hits),
            ("cas_misses", c.cas_misses),
            ("cas_hits", c.cas_hits),
            ("cas_badval", c.cas_badval),
            ("touch_hits", c.touch_hits),
            ("touch_misses", c.touch_misses),
            ("store_too_large", c.store_too_large),
            ("store_no_memory", c.store_no_memory),
            ("bytes_read", c.bytes_read),
            ("bytes_written", c.bytes_written),
            ("limit_maxbytes", as_u64(self.config().memory_limit)),
            ("item_size_max", as_u64(self.config().item_size_limit)),
            ("hash_bytes", as_u64(self.index_bytes())),
            ("bytes", as_u64(self.item_bytes())),
            ("memory_in_use", as_u64(self.memory_in_use())),
            ("curr_items", as_u64(self.len())),
            ("total_items", c.total_items),
            ("expired_unfetched", c.expired_unfetched),
            ("evicted_unfetched", c.evicted_unfetched),
            ("evictions", c.evictions),
            ("reclaimed", c.reclaimed),
        ]
    }

    /// `stats reset`: zeroes the counters (not the items or their bytes).
    pub fn reset_counters(&mut self) {
        *self.counters_mut() = Counters::default();
    }

    /// The value of one statistic by name (tests and the appliance).
    pub fn statistic(&self, name: &str, now: Clock) -> Option<u64> {
        let all = self.statistics(now);
        all.iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, value)| value)
    }
}
