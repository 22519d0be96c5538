//! A key-value cache speaking memcached's text protocol, sans-IO.
//!
//! Two types make the appliance: a [`Store`], the cache, shared by all
//! connections; and a [`Session`] per connection, which turns received
//! bytes into operations on the store and queues the replies. Neither
//! reads a clock, touches a socket or spawns anything: the caller passes a
//! [`Clock`] reading with each call and moves the bytes. The crate is
//! `no_std` with `alloc`, has no `unsafe`, and never panics on any input.
//!
//! # Memory
//!
//! The store enforces `memory_in_use() <= Config::memory_limit` after
//! every operation, counting
//! - per item: key + value + [`ITEM_ALLOCATION_OVERHEAD`] (32 bytes on
//!   64-bit: the shared allocation's reference counts plus an allowance
//!   for the allocator's header and rounding);
//! - the index: the whole allocation of the slot vector (48 bytes a slot)
//!   and of the hash table (5 bytes a bucket, up to 8/7 buckets an item),
//!   spare capacity included, since that memory is as taken as any.
//!
//! Before inserting, the store evicts least recently used items until the
//! item and the index growth the insertion may cause both fit. Not counted:
//! the sessions' own buffers (each bounded, see [`Session`]), and values
//! already evicted or replaced that a session is still sending (a value is
//! shared by reference, not copied, as memcached's reference counts do).
//! A table's rehash briefly holds its old and new allocations together.
//!
//! # LRU
//!
//! Items live in a slab, a `Vec` of slots named by 32-bit slot numbers,
//! threaded on one doubly linked recency list through those numbers. The
//! hash table (`hashbrown::HashTable`, SipHash-1-3 keyed by a seed from the
//! caller's random source) maps a key's hash to a slot number, the key
//! itself being stored once, in the item. Lookup, insertion, promotion,
//! removal and eviction are each O(1). Expired items are reclaimed when
//! touched or when they reach the LRU end; memcached 1.6's segmented
//! hot/warm/cold LRU and its background crawler are not reproduced.
//!
//! # Against memcached 1.6
//!
//! Implemented: get, gets, gat, gats, set, add, replace, append, prepend,
//! cas, delete, incr, decr, touch, flush_all (with or without a delay),
//! stats, stats reset, version, verbosity, quit, and `noreply`; the
//! replies and error strings of memcached's `proto_text.c`, its number
//! parsing (`safe_strtoull`), 64-bit wrapping `incr`, `decr` stopping at
//! zero, the in-place rewrite padded with spaces, `add` refreshing an
//! existing key, `set` of a value too large dropping the old value, a
//! refused value's bytes swallowed, `CLIENT_ERROR bad data chunk` on a
//! bad value terminator, and `noreply` silencing errors too.
//!
//! Left out: the meta commands (`mg`, `ms`, `md`, `ma`, `mn`, `me`), the
//! binary protocol, SASL, `stats` subcommands other than `reset`
//! (`items`, `slabs`, `settings`, ...: `ERROR`), slab classes and their
//! tuning commands, `shutdown`, `watch`, `lru_crawler`, `cache_memlimit`,
//! UDP framing, and per-connection statistics (the glue owns connections).
//!
//! Deliberate differences: keys with control characters are refused
//! (`CLIENT_ERROR bad command line format`; memcached stores them); flags
//! above 2^32 - 1 are refused (memcached truncates them); a command line
//! over 2,048 bytes gets `CLIENT_ERROR line too long` before the close
//! (memcached closes silently) and a `get` line is capped at 64 KiB
//! (memcached lets it grow without bound); a delayed `flush_all` empties
//! the store when its time comes rather than hiding older items.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod clock;
mod key;
mod lru;
mod number;
mod output;
mod session;
mod stats;
mod store;

#[cfg(test)]
mod tests;

pub use clock::{Clock, RELATIVE_EXPTIME_LIMIT};
pub use key::{KEY_LENGTH_LIMIT, Key, KeyError};
pub use session::{Session, Status, VERSION};
pub use stats::{Counters, STATISTIC_COUNT, Statistic};
pub use store::{
    Config, DeltaError, Hit, ITEM_ALLOCATION_OVERHEAD, NewItem, Store, StoreMode, StoreOutcome,
    Value,
};
