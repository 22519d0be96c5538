//! The slab LRU: order, slot reuse, growth accounting.

use std::vec::Vec;

use crate::lru::Lru;

fn order(lru: &Lru<u32>) -> Vec<u32> {
    lru.newest_first().copied().collect()
}

#[test]
fn inserts_at_the_newest_end_and_evicts_the_oldest() {
    let mut lru = Lru::new();
    let slots: Vec<_> = (0..4).map(|n| lru.insert_newest(n).unwrap()).collect();
    assert_eq!(order(&lru), [3, 2, 1, 0]);
    assert_eq!(lru.oldest(), Some(slots[0]));
    lru.promote(slots[0]);
    assert_eq!(order(&lru), [0, 3, 2, 1]);
    assert_eq!(lru.oldest(), Some(slots[1]));
    lru.promote(slots[0]);
    assert_eq!(order(&lru), [0, 3, 2, 1], "promoting the newest is a no-op");
}

#[test]
fn removes_from_the_middle_and_both_ends() {
    let mut lru = Lru::new();
    let slots: Vec<_> = (0..5).map(|n| lru.insert_newest(n).unwrap()).collect();
    assert_eq!(lru.remove(slots[2]), Some(2));
    assert_eq!(lru.remove(slots[4]), Some(4));
    assert_eq!(lru.remove(slots[0]), Some(0));
    assert_eq!(order(&lru), [3, 1]);
    assert_eq!(lru.remove(slots[0]), None, "a vacant slot removes nothing");
    assert_eq!(lru.len(), 2);
    lru.remove(slots[1]);
    lru.remove(slots[3]);
    assert_eq!(lru.oldest(), None);
    assert!(order(&lru).is_empty());
}

#[test]
fn reuses_vacant_slots_before_growing() {
    let mut lru = Lru::new();
    let first = lru.insert_newest(1).unwrap();
    let bytes = lru.allocation_bytes();
    assert_eq!(lru.growth_bytes(), 0, "room for 16 before any growth");
    lru.remove(first);
    let again = lru.insert_newest(2).unwrap();
    assert_eq!(again, first, "the freed slot is taken again");
    assert_eq!(lru.allocation_bytes(), bytes);
}

#[test]
fn growth_is_announced_before_it_happens() {
    let mut lru = Lru::new();
    while lru.growth_bytes() == 0 {
        lru.insert_newest(0u32).unwrap();
    }
    let before = lru.allocation_bytes();
    let announced = lru.growth_bytes();
    lru.insert_newest(0).unwrap();
    assert_eq!(lru.allocation_bytes(), before + announced);
}

#[test]
fn clear_keeps_the_allocation() {
    let mut lru = Lru::new();
    for n in 0..40 {
        lru.insert_newest(n).unwrap();
    }
    let bytes = lru.allocation_bytes();
    lru.clear();
    assert_eq!(lru.len(), 0);
    assert_eq!(lru.oldest(), None);
    assert_eq!(lru.allocation_bytes(), bytes);
    lru.insert_newest(7).unwrap();
    assert_eq!(order(&lru), [7]);
}
