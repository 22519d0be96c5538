//! The cache on a simulated clock: TTLs, caps, negative answers, bounds.

use core::net::{IpAddr, Ipv4Addr};
use std::format;

use crate::response::{Answer, Resolution};
use crate::{
    AddressList, Cache, DEFAULT_CAPACITY, Family, NEGATIVE_TTL_CAP, Name, POSITIVE_TTL_CAP,
};

const SECOND: u64 = 1_000_000_000;
const START: u64 = 1_000 * SECOND;

fn name(text: &str) -> Name {
    Name::from_text(text).unwrap()
}

fn positive(last: u8, ttl: u32) -> Answer {
    let mut list = AddressList::default();
    list.push(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)));
    Answer {
        resolution: Resolution::Addresses(list),
        ttl: Some(ttl),
    }
}

fn negative(resolution: Resolution, ttl: Option<u32>) -> Answer {
    Answer { resolution, ttl }
}

#[test]
fn an_answer_lives_exactly_its_ttl() {
    let mut cache = Cache::new(8);
    let www = name("www.example.org");
    cache.insert(START, &www, Family::V4, &positive(1, 60));
    let expected = positive(1, 60).resolution;
    assert_eq!(
        cache.lookup(START + 60 * SECOND - 1, &www, Family::V4),
        Some(expected)
    );
    assert_eq!(cache.lookup(START, &www, Family::V6), None, "per family");
    assert_eq!(cache.lookup(START + 60 * SECOND, &www, Family::V4), None);
    assert!(cache.is_empty(), "an expired entry is dropped when met");
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.expired), (1, 2, 1));
}

#[test]
fn ttls_are_capped_and_zero_is_not_cached() {
    let mut cache = Cache::new(8);
    let www = name("www.example.org");
    cache.insert(START, &www, Family::V4, &positive(1, u32::MAX >> 1));
    let cap = u64::from(POSITIVE_TTL_CAP) * SECOND;
    assert!(cache.lookup(START + cap - 1, &www, Family::V4).is_some());
    assert!(cache.lookup(START + cap, &www, Family::V4).is_none());
    let gone = name("gone.example.org");
    let nxdomain = negative(Resolution::NoSuchName, Some(86_400));
    cache.insert(START, &gone, Family::V4, &nxdomain);
    let cap = u64::from(NEGATIVE_TTL_CAP) * SECOND;
    assert_eq!(
        cache.lookup(START + cap - 1, &gone, Family::V4),
        Some(Resolution::NoSuchName)
    );
    assert_eq!(cache.lookup(START + cap, &gone, Family::V4), None);
    cache.insert(START, &www, Family::V4, &positive(1, 60));
    cache.insert(START + SECOND, &www, Family::V4, &positive(2, 0));
    assert_eq!(
        cache.lookup(START + SECOND, &www, Family::V4),
        None,
        "TTL 0 replaces and is not kept"
    );
}

#[test]
fn negative_answers_without_an_soa_are_not_cached() {
    let mut cache = Cache::new(8);
    let gone = name("gone.example.org");
    cache.insert(
        START,
        &gone,
        Family::V6,
        &negative(Resolution::NoAddresses, None),
    );
    assert_eq!(cache.lookup(START, &gone, Family::V6), None);
    cache.insert(
        START,
        &gone,
        Family::V6,
        &negative(Resolution::NoAddresses, Some(10)),
    );
    assert_eq!(
        cache.lookup(START, &gone, Family::V6),
        Some(Resolution::NoAddresses)
    );
}

/// Full: an expired entry makes room first, else the least recently used;
/// the cache never holds more than its capacity or its bytes.
#[test]
fn a_full_cache_replaces_the_expired_then_the_least_recently_used() {
    let mut cache = Cache::new(4);
    let names: [Name; 6] = core::array::from_fn(|i| name(&format!("host{i}.example")));
    for (index, name) in names[..4].iter().enumerate() {
        cache.insert(
            START,
            name,
            Family::V4,
            &positive(index as u8, 10 + index as u32),
        );
    }
    // host0 expires at +10 s; look the others up so that host1 is the oldest.
    for name in &names[2..4] {
        assert!(cache.lookup(START + 5 * SECOND, name, Family::V4).is_some());
    }
    let later = START + 10 * SECOND;
    cache.insert(later, &names[4], Family::V4, &positive(4, 60));
    assert_eq!(cache.stats().expired, 1);
    cache.insert(later, &names[5], Family::V4, &positive(5, 60));
    assert_eq!(cache.stats().evicted, 1);
    assert_eq!(cache.len(), 4);
    assert!(
        cache.lookup(later, &names[1], Family::V4).is_none(),
        "LRU gone"
    );
    for name in &names[2..6] {
        assert!(cache.lookup(later, name, Family::V4).is_some());
    }
    assert!(cache.footprint() <= 4 * Cache::ENTRY_BYTES);
}

#[test]
fn the_default_cache_is_bounded_in_entries_and_bytes() {
    let mut cache = Cache::new(DEFAULT_CAPACITY);
    for index in 0..(3 * DEFAULT_CAPACITY) {
        let name = name(&format!("host{index}.example"));
        cache.insert(START + index as u64, &name, Family::V4, &positive(1, 60));
        cache.insert(
            START + index as u64,
            &name,
            Family::V6,
            &negative(Resolution::NoAddresses, Some(60)),
        );
    }
    assert_eq!(cache.len(), DEFAULT_CAPACITY);
    assert_eq!(cache.footprint(), DEFAULT_CAPACITY * Cache::ENTRY_BYTES);
    std::println!(
        "cache: {} entries of {} bytes = {} bytes at most",
        DEFAULT_CAPACITY,
        Cache::ENTRY_BYTES,
        cache.footprint()
    );
    cache.clear();
    assert_eq!((cache.len(), cache.footprint()), (0, 0));
    let mut none = Cache::new(0);
    none.insert(START, &name("a.example"), Family::V4, &positive(1, 60));
    assert!(none.is_empty());
}
