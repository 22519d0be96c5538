//! The store on its own: storage rules, LRU eviction, memory, expiry, CAS.

use std::format;
use std::vec::Vec;

use super::{NOW, key, small_store, store};
use crate::{ITEM_ALLOCATION_OVERHEAD, NewItem, Store, StoreMode, StoreOutcome};

fn put(store: &mut Store, mode: StoreMode, name: &str, value: &[u8]) -> StoreOutcome {
    let new = NewItem {
        key: key(name),
        flags: 0,
        exptime: 0,
        value,
    };
    store.store(mode, new, NOW)
}

fn value(store: &mut Store, name: &str) -> Option<Vec<u8>> {
    store.get(key(name), NOW).map(|hit| hit.value.to_vec())
}

#[test]
fn each_storage_mode_follows_its_condition() {
    let mut store = store();
    assert_eq!(
        put(&mut store, StoreMode::Replace, "k", b"x"),
        StoreOutcome::NotStored
    );
    assert_eq!(
        put(&mut store, StoreMode::Append, "k", b"x"),
        StoreOutcome::NotStored
    );
    assert_eq!(
        put(&mut store, StoreMode::Add, "k", b"one"),
        StoreOutcome::Stored
    );
    assert_eq!(
        put(&mut store, StoreMode::Add, "k", b"two"),
        StoreOutcome::NotStored
    );
    assert_eq!(
        put(&mut store, StoreMode::Replace, "k", b"mid"),
        StoreOutcome::Stored
    );
    assert_eq!(
        put(&mut store, StoreMode::Append, "k", b">"),
        StoreOutcome::Stored
    );
    assert_eq!(
        put(&mut store, StoreMode::Prepend, "k", b"<"),
        StoreOutcome::Stored
    );
    assert_eq!(value(&mut store, "k").unwrap(), b"<mid>");
    store.check_invariants();
}

#[test]
fn append_keeps_flags_and_expiry_and_respects_the_item_limit() {
    let mut store = small_store(1 << 20, 8);
    let new = NewItem {
        key: key("k"),
        flags: 77,
        exptime: 10,
        value: b"1234",
    };
    assert_eq!(store.store(StoreMode::Set, new, NOW), StoreOutcome::Stored);
    assert_eq!(
        put(&mut store, StoreMode::Append, "k", b"5678"),
        StoreOutcome::Stored
    );
    assert_eq!(
        put(&mut store, StoreMode::Append, "k", b"9"),
        StoreOutcome::NotStored
    );
    let hit = store.get(key("k"), NOW).unwrap();
    assert_eq!((hit.flags, &*hit.value), (77, &b"12345678"[..]));
    assert!(
        store.get(key("k"), NOW.plus_seconds(10)).is_none(),
        "expiry kept"
    );
}

#[test]
fn cas_uniques_increase_with_every_change() {
    let mut store = store();
    put(&mut store, StoreMode::Set, "a", b"1");
    let first = store.get(key("a"), NOW).unwrap().cas;
    put(&mut store, StoreMode::Set, "b", b"1");
    store.increment(key("a"), 1, NOW).unwrap();
    let second = store.get(key("a"), NOW).unwrap().cas;
    assert!(second > first + 1, "{second} after {first}, with b between");
    store.touch(key("a"), 100, NOW);
    assert_eq!(
        store.get(key("a"), NOW).unwrap().cas,
        second,
        "touch keeps it"
    );
}

#[test]
fn evicts_the_least_recently_used_first() {
    let mut store = small_store(16 << 10, 1024);
    let value = [b'v'; 200];
    for n in 0..20 {
        put(&mut store, StoreMode::Set, &format!("key{n}"), &value);
    }
    assert_eq!(store.counters().evictions, 0, "20 items fit in 16 KiB");
    store.get(key("key0"), NOW).unwrap();
    for n in 20..200 {
        put(&mut store, StoreMode::Set, &format!("key{n}"), &value);
        store.check_invariants();
        store
            .get(key("key0"), NOW)
            .expect("a hot key is never evicted");
    }
    assert!(store.counters().evictions > 100);
    assert!(
        store.get(key("key1"), NOW).is_none(),
        "the coldest went first"
    );
    let keys = store.keys_newest_first();
    assert_eq!(keys[0], b"key0");
    assert_eq!(keys[1], b"key199");
    assert_eq!(
        keys.last().unwrap(),
        format!("key{}", 200 - keys.len() + 1).as_bytes()
    );
}

#[test]
fn memory_is_counted_per_item_and_for_the_index() {
    let mut store = store();
    assert_eq!(store.memory_in_use(), 0);
    put(&mut store, StoreMode::Set, "abc", &[0; 100]);
    assert_eq!(store.item_bytes(), 3 + 100 + ITEM_ALLOCATION_OVERHEAD);
    let slot_bytes = Store::SLOT_BYTES;
    assert_eq!(slot_bytes, 48, "as the crate documentation says");
    assert!(
        store.index_bytes() >= 16 * 48,
        "16 slots of 48 bytes at least"
    );
    assert_eq!(
        store.memory_in_use(),
        store.item_bytes() + store.index_bytes()
    );
    store.delete(key("abc"), NOW);
    assert_eq!(store.item_bytes(), 0);
}

#[test]
fn a_value_too_large_for_the_limit_or_the_memory_is_refused() {
    let mut store = small_store(4096, 8192);
    put(&mut store, StoreMode::Set, "k", b"old");
    let outcome = put(&mut store, StoreMode::Set, "k", &[0; 8193]);
    assert_eq!(outcome, StoreOutcome::TooLarge);
    assert!(
        value(&mut store, "k").is_none(),
        "a refused set drops the old value"
    );
    put(&mut store, StoreMode::Set, "k", b"old");
    assert_eq!(
        put(&mut store, StoreMode::Set, "k", &[0; 5000]),
        StoreOutcome::OutOfMemory
    );
    assert!(value(&mut store, "k").is_none());
    put(&mut store, StoreMode::Set, "k", b"old");
    assert_eq!(
        put(&mut store, StoreMode::Add, "j", &[0; 5000]),
        StoreOutcome::OutOfMemory
    );
    assert_eq!(value(&mut store, "k").unwrap(), b"old", "only set drops it");
    assert_eq!(store.counters().store_too_large, 1);
    assert_eq!(store.counters().store_no_memory, 2);
    store.check_invariants();
}

#[test]
fn the_limit_holds_with_tiny_items_that_grow_the_index() {
    let mut store = small_store(8 << 10, 64);
    for n in 0..5000 {
        put(&mut store, StoreMode::Set, &format!("{n}"), b"");
        assert!(store.memory_in_use() <= 8 << 10);
    }
    store.check_invariants();
    assert!(store.len() > 20, "{} items", store.len());
}

#[test]
fn cas_race_has_one_winner() {
    let mut store = store();
    put(&mut store, StoreMode::Set, "k", b"0");
    let seen_by_a = store.get(key("k"), NOW).unwrap().cas;
    let seen_by_b = store.get(key("k"), NOW).unwrap().cas;
    assert_eq!(
        put(&mut store, StoreMode::Cas(seen_by_a), "k", b"a"),
        StoreOutcome::Stored
    );
    assert_eq!(
        put(&mut store, StoreMode::Cas(seen_by_b), "k", b"b"),
        StoreOutcome::Exists
    );
    assert_eq!(value(&mut store, "k").unwrap(), b"a");
    store.delete(key("k"), NOW);
    assert_eq!(
        put(&mut store, StoreMode::Cas(seen_by_a), "k", b"c"),
        StoreOutcome::NotFound
    );
    let counters = store.counters();
    assert_eq!(
        (counters.cas_hits, counters.cas_badval, counters.cas_misses),
        (1, 1, 1)
    );
}

#[test]
fn a_value_being_read_is_shared_not_copied() {
    let mut store = store();
    put(&mut store, StoreMode::Set, "k", &[1; 4096]);
    let first = store.get(key("k"), NOW).unwrap().value;
    let second = store.get(key("k"), NOW).unwrap().value;
    assert_eq!(first.as_ptr(), second.as_ptr());
    put(&mut store, StoreMode::Set, "k", b"new");
    assert_eq!(first.len(), 4096, "a reader keeps the old bytes");
}
