//! The memory limit turns exhaustion into errors, and pools give memory
//! back.

mod common;

use base::memory::{MemoryError, Pool};
use common::boot;

#[test]
fn pages_past_the_limit_are_refused_and_freeing_makes_room() {
    let test = boot("mem=64K");
    let memory = test.kernel.memory();
    let mut held = Vec::new();
    while let Ok(pages) = memory.alloc_pages(1) {
        held.push(pages);
        assert!(held.len() <= 16, "the limit is 16 pages");
    }
    assert_eq!(held.len(), 16);
    assert_eq!(memory.alloc_pages(1).err(), Some(MemoryError::Exhausted));
    assert!(memory.stats().failures >= 1);
    held.pop();
    let mut again = memory.alloc_pages(1).expect("room after a free");
    assert!(again.as_slice().iter().all(|&b| b == 0), "pages are zeroed");
    again.as_mut_slice()[0] = 1;
    assert_eq!(
        memory.alloc_pages(0).err(),
        Some(MemoryError::InvalidRequest)
    );
}

#[test]
fn pools_grow_until_the_limit_and_reclaim_free_chunks() {
    let test = boot("mem=128K");
    let pool = Pool::new(test.kernel.memory(), "test", 1000).unwrap();
    let mut blocks = Vec::new();
    loop {
        match pool.alloc() {
            Ok(mut block) => {
                assert_eq!(block.len(), 1008, "rounded up to 16");
                block[0] = blocks.len() as u8;
                blocks.push(block);
            }
            Err(error) => {
                assert_eq!(error, MemoryError::Exhausted);
                break;
            }
        }
    }
    assert!(
        blocks.len() >= 100,
        "most of 128K is usable: {}",
        blocks.len()
    );
    for (index, block) in blocks.iter().enumerate() {
        assert_eq!(block[0], index as u8, "blocks do not overlap");
    }
    let used = test.kernel.memory().stats().in_use;
    blocks.clear();
    assert_eq!(pool.stats().in_use, 0);
    let released = pool.reclaim();
    assert!(released > 0);
    assert_eq!(test.kernel.memory().stats().in_use, used - released * 4096);
    assert_eq!(pool.stats().chunks, 0);
}
