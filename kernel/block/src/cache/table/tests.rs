//! The table's orders and byte counts through every transition.

use alloc::vec;

use super::*;

fn key(block: u64) -> Key {
    Key {
        disk: 0,
        block_size: 1024,
        block,
    }
}

#[test]
fn reads_fill_clean_buffers_evicted_oldest_first() {
    let mut table = Table::default();
    for block in 0..3 {
        table.insert_reading(key(block));
        table.finish_read(&key(block), Ok(vec![block as u8; 1024]));
    }
    assert_eq!(
        (table.len(), table.bytes(), table.dirty_bytes()),
        (3, 3072, 0)
    );
    let mut out = [0u8; 1024];
    assert!(table.read_into(&key(0), 0, &mut out));
    assert_eq!(out[0], 0);
    assert_eq!(table.evict_oldest_clean(), Some(1024));
    assert!(table.get(&key(1)).is_none(), "block 0 was used since");
    assert_eq!(table.evict_oldest_clean(), Some(1024));
    assert_eq!(table.evict_oldest_clean(), Some(1024));
    assert_eq!((table.evict_oldest_clean(), table.bytes()), (None, 0));
}

#[test]
fn dirty_buffers_are_not_evicted_and_go_back_in_age_order() {
    let mut table = Table::default();
    table.insert_dirty(key(5), vec![5; 1024], 100);
    table.insert_reading(key(6));
    table.finish_read(&key(6), Ok(vec![6; 1024]));
    assert!(table.write_from(&key(6), 0, &[7; 1024], 200));
    assert_eq!(table.dirty_bytes(), 2048);
    assert_eq!(table.evict_oldest_clean(), None);
    assert_eq!(table.dirty_keys(8, |_, _| true), [key(5), key(6)]);
    assert_eq!(table.dirty_keys(8, |_, since| since < 150), [key(5)]);
    let data = table.start_write(&key(6)).expect("dirty");
    assert_eq!(
        (data[0], table.writing_on(0), table.dirty_bytes()),
        (7, 1, 1024)
    );
    assert_eq!(table.start_write(&key(6)), None, "already going");
    table.finish_write(&key(6), data, true, 300);
    assert_eq!(table.writing_on(0), 0);
    assert_eq!(table.evict_oldest_clean(), Some(1024));
}

#[test]
fn a_failed_write_leaves_the_buffer_dirty_and_a_failed_read_says_why() {
    let mut table = Table::default();
    table.insert_dirty(key(1), vec![1; 1024], 10);
    let data = table.start_write(&key(1)).expect("dirty");
    table.finish_write(&key(1), data, false, 20);
    assert_eq!(
        table.get(&key(1)).map(|b| b.state),
        Some(State::Dirty { since_ns: 20 })
    );
    assert_eq!(table.dirty_bytes(), 1024);
    table.insert_reading(key(2));
    table.finish_read(&key(2), Err(BlockError::Io));
    let state = table.get(&key(2)).map(|b| b.state);
    assert_eq!(state, Some(State::Failed(BlockError::Io)));
    let mut out = [0u8; 1024];
    assert!(!table.read_into(&key(2), 0, &mut out));
    assert!(!table.write_from(&key(2), 0, &out, 30));
    assert!(table.remove(&key(2)).is_some());
    assert_eq!(table.bytes(), 1024);
}

#[test]
fn late_completions_for_buffers_in_another_state_change_nothing() {
    let mut table = Table::default();
    table.insert_dirty(key(1), vec![1; 1024], 10);
    table.finish_read(&key(1), Ok(vec![9; 1024]));
    table.finish_write(&key(1), vec![9; 1024], true, 20);
    let mut out = [0u8; 1024];
    assert!(table.read_into(&key(1), 0, &mut out));
    assert_eq!((out[0], table.dirty_bytes()), (1, 1024));
}

#[test]
fn other_block_sizes_of_a_disk_are_found() {
    let mut table = Table::default();
    table.insert_reading(key(1));
    let small = Key {
        block_size: 512,
        ..key(1)
    };
    let other_disk = Key { disk: 1, ..small };
    table.insert_reading(small);
    table.insert_reading(other_disk);
    assert_eq!(table.keys_of(0, |key| key.block_size != 1024), [small]);
}
