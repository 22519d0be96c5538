//! Expiry, touch, flush_all and incr/decr on the store.

use std::vec::Vec;

use super::{NOW, key, store};
use crate::{DeltaError, NewItem, Store, StoreMode};

fn set(store: &mut Store, name: &str, value: &[u8], exptime: i64) {
    let new = NewItem {
        key: key(name),
        flags: 0,
        exptime,
        value,
    };
    store.store(StoreMode::Set, new, NOW);
}

fn value_at(store: &mut Store, name: &str, seconds: u64) -> Option<Vec<u8>> {
    let hit = store.get(key(name), NOW.plus_seconds(seconds));
    hit.map(|hit| hit.value.to_vec())
}

#[test]
fn relative_absolute_and_negative_exptimes() {
    let mut store = store();
    set(&mut store, "relative", b"r", 10);
    set(&mut store, "absolute", b"a", NOW.unix_seconds() as i64 + 20);
    set(&mut store, "negative", b"n", -1);
    set(&mut store, "never", b"v", 0);
    assert!(value_at(&mut store, "negative", 0).is_none());
    assert!(value_at(&mut store, "relative", 9).is_some());
    assert!(value_at(&mut store, "relative", 10).is_none());
    assert!(value_at(&mut store, "absolute", 19).is_some());
    assert!(value_at(&mut store, "absolute", 20).is_none());
    assert!(value_at(&mut store, "never", 1 << 30).is_some());
    assert_eq!(store.counters().get_expired, 3);
    assert_eq!(store.counters().reclaimed, 3);
    assert_eq!(
        store.counters().expired_unfetched,
        1,
        "only 'negative' unread"
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn touch_and_gat_move_the_deadline() {
    let mut store = store();
    set(&mut store, "k", b"v", 10);
    assert!(store.touch(key("k"), 100, NOW.plus_seconds(5)));
    assert!(value_at(&mut store, "k", 50).is_some());
    let hit = store.get_and_touch(key("k"), -1, NOW.plus_seconds(60));
    assert_eq!(&*hit.unwrap().value, b"v", "gat returns, then expires");
    assert!(value_at(&mut store, "k", 60).is_none());
    assert!(!store.touch(key("k"), 0, NOW));
    let counters = store.counters();
    assert_eq!((counters.touch_hits, counters.touch_misses), (2, 1));
}

#[test]
fn flush_all_now_and_later() {
    let mut store = store();
    set(&mut store, "a", b"1", 0);
    store.flush_all(0, NOW);
    assert!(store.is_empty());
    assert_eq!(store.item_bytes(), 0);
    set(&mut store, "b", b"2", 0);
    store.flush_all(30, NOW);
    set(&mut store, "c", b"3", 0);
    assert!(value_at(&mut store, "b", 29).is_some());
    assert!(
        value_at(&mut store, "c", 30).is_none(),
        "flushed at its time"
    );
    set(&mut store, "d", b"4", 0);
    assert!(value_at(&mut store, "d", 31).is_some(), "later items stay");
}

#[test]
fn increment_wraps_and_decrement_stops_at_zero() {
    let mut store = store();
    set(&mut store, "n", b"18446744073709551614", 0);
    assert_eq!(store.increment(key("n"), 1, NOW), Ok(u64::MAX));
    assert_eq!(store.increment(key("n"), 2, NOW), Ok(1));
    assert_eq!(store.decrement(key("n"), 5, NOW), Ok(0));
    assert_eq!(store.increment(key("n"), u64::MAX, NOW), Ok(u64::MAX));
}

#[test]
fn shorter_numbers_are_padded_in_place_longer_ones_reallocated() {
    let mut store = store();
    set(&mut store, "n", b"10", 0);
    assert_eq!(store.decrement(key("n"), 1, NOW), Ok(9));
    assert_eq!(
        value_at(&mut store, "n", 0).unwrap(),
        b"9 ",
        "memcached pads"
    );
    assert_eq!(store.increment(key("n"), 91, NOW), Ok(100));
    assert_eq!(value_at(&mut store, "n", 0).unwrap(), b"100");
    let held = store.get(key("n"), NOW).unwrap().value;
    assert_eq!(store.decrement(key("n"), 1, NOW), Ok(99));
    assert_eq!(&*held, b"100", "a reader's bytes are never rewritten");
    assert_eq!(value_at(&mut store, "n", 0).unwrap(), b"99");
    store.check_invariants();
}

#[test]
fn increment_refuses_what_is_not_a_number() {
    let mut store = store();
    for text in [&b"abc"[..], b"12abc", b"", b"-1", b"18446744073709551616"] {
        set(&mut store, "n", text, 0);
        assert_eq!(
            store.increment(key("n"), 1, NOW),
            Err(DeltaError::NonNumeric)
        );
    }
    set(&mut store, "n", b" 41 ", 0);
    assert_eq!(
        store.increment(key("n"), 1, NOW),
        Ok(42),
        "strtoull's spaces"
    );
    assert_eq!(
        store.decrement(key("gone"), 1, NOW),
        Err(DeltaError::NotFound)
    );
    let counters = store.counters();
    assert_eq!((counters.incr_hits, counters.decr_misses), (1, 1));
}
