//! The memory limit turns exhaustion into errors, every charge is
//! accounted, pools give memory back, and the pagedaemon asks for it.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use base::memory::pagedaemon::PAGEDAEMON;
use base::memory::{MemoryError, Pool, Reclaim, ReclaimLevel};
use base::thread::THREAD_BYTES;
use base::{Context, Kernel};
use common::{DEADLINE_NS, boot, boot_with, poll};
use hypercall::PAGE_SIZE;

/// Pages that still fit under the limit.
fn pages_left(kernel: &Kernel) -> usize {
    let stats = kernel.memory().stats();
    (stats.limit - stats.in_use) / PAGE_SIZE
}

#[test]
fn pages_past_the_limit_are_refused_and_freeing_makes_room() {
    let test = boot("mem=256K");
    let memory = test.kernel.memory();
    let expected = pages_left(&test.kernel);
    assert!(
        expected > 16,
        "the clock thread's stack is charged, not all"
    );
    let mut held = Vec::new();
    while let Ok(pages) = memory.alloc_pages(1) {
        held.push(pages);
        assert!(held.len() <= expected, "the limit is {expected} pages");
    }
    assert_eq!(held.len(), expected);
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
fn every_charge_lands_in_its_account_and_comes_back() {
    let test = boot("mem=1M");
    let memory = test.kernel.memory();
    let threads = account_bytes(&test.kernel, "threads");
    assert_eq!(threads, THREAD_BYTES, "the clock thread");
    let start = memory.stats().in_use;
    let account = memory.account("widgets");
    account.charge(10_000).expect("room");
    let pages = account.alloc_pages(2).expect("room");
    assert_eq!(
        account_bytes(&test.kernel, "widgets"),
        10_000 + 2 * PAGE_SIZE
    );
    assert_eq!(memory.stats().in_use, start + 10_000 + 2 * PAGE_SIZE);
    assert_eq!(account.charge(1 << 20), Err(MemoryError::Exhausted));
    let refused = memory.accounts().into_iter().find(|a| a.name == "widgets");
    assert_eq!(refused.map(|a| a.refused), Some(1));
    drop(pages);
    account.release(10_000);
    assert_eq!(memory.stats().in_use, start);
    let mut text = String::new();
    memory.write_stats(&mut text).unwrap();
    assert!(text.contains("memory widgets_bytes 0\n"), "{text}");
    assert!(text.contains(&format!("memory threads_bytes {threads}\n")));
}

fn account_bytes(kernel: &Kernel, name: &str) -> usize {
    let accounts = kernel.memory().accounts();
    let account = accounts.iter().find(|account| account.name == name);
    account.map_or(0, |account| account.bytes)
}

#[test]
fn pools_grow_until_the_limit_and_reclaim_free_chunks() {
    let test = boot("mem=256K");
    let pool = Pool::new(test.kernel.memory(), "test", 1000).unwrap();
    let room = pages_left(&test.kernel) * PAGE_SIZE;
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
        blocks.len() * 1008 >= room * 3 / 4,
        "most of the room is usable: {} blocks in {room} bytes",
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
    let in_use = test.kernel.memory().stats().in_use;
    assert!(
        in_use <= used - released * PAGE_SIZE,
        "the free list shrank too"
    );
    assert_eq!(pool.stats().chunks, 0);
    assert_eq!(account_bytes(&test.kernel, "test"), 0);
}

/// Fills `pool` to just under the high-water mark, then frees every
/// block: the pool keeps its chunks, and the kernel's use stays high.
fn fill_and_free(kernel: &Kernel, pool: &Arc<Pool>) -> usize {
    let memory = kernel.memory();
    let high_water = memory.stats().limit / 100 * 89;
    let mut blocks = Vec::new();
    while memory.stats().in_use + 16 * 1024 < high_water {
        blocks.push(pool.alloc().expect("below the limit"));
    }
    drop(blocks);
    memory.stats().in_use
}

#[test]
fn a_pool_of_single_blocks_keeps_only_its_share_of_free_ones() {
    let test = boot("mem=1M");
    let memory = test.kernel.memory();
    let pool = Pool::with_chunks_of(memory, "large", 4 * PAGE_SIZE, 1, Some(2)).unwrap();
    let blocks: Vec<_> = (0..5).map(|_| pool.alloc().expect("room")).collect();
    assert_eq!(pool.stats().chunks, 5);
    let in_use = memory.stats().in_use;
    drop(blocks);
    let stats = pool.stats();
    assert_eq!((stats.chunks, stats.free, stats.in_use), (2, 2, 0));
    assert!(memory.stats().in_use + 3 * 4 * PAGE_SIZE <= in_use);
    // The kept ones serve the next requests; past them, the pool grows.
    let again: Vec<_> = (0..3).map(|_| pool.alloc().expect("room")).collect();
    assert_eq!(pool.stats().chunks, 3);
    drop(again);
}

#[test]
fn crossing_ninety_percent_wakes_the_pagedaemon_and_pools_give_pages_back() {
    let test = boot_with("mem=1M", &[&PAGEDAEMON]);
    let memory = test.kernel.memory();
    let pool = Pool::new(memory, "cache", 512).unwrap();
    let before = fill_and_free(&test.kernel, &pool);
    assert_eq!(memory.pagedaemon_stats().passes, 0, "below the mark");
    // Cross the mark from a thread on the virtual CPU, as kernel code does.
    let context = test.kernel.enter().expect("enter");
    let pages = memory.alloc_pages(8).expect("room left");
    poll(&context, "a pass", || memory.pagedaemon_stats().passes >= 1);
    let after = memory.stats().in_use;
    assert!(after + 64 * 1024 < before, "{before} -> {after}");
    assert_eq!(pool.stats().chunks, 0, "every chunk was free");
    assert!(memory.pagedaemon_stats().reclaimed_bytes >= (before - after) as u64);
    drop(pages);
}

/// A reclaimer that frees `room` bytes of its account when asked, and
/// records the levels it was asked at.
struct Cache {
    account: base::memory::Account,
    held: AtomicUsize,
    levels: Mutex<Vec<ReclaimLevel>>,
}

impl Reclaim for Cache {
    fn reclaim(&self, _: &Context<'_>, level: ReclaimLevel) -> usize {
        self.levels.lock().unwrap().push(level);
        let held = self.held.swap(0, Relaxed);
        self.account.release(held);
        held
    }
}

#[test]
fn a_refused_allocation_waits_for_a_pass_and_the_retry_succeeds() {
    let test = boot_with("mem=1M", &[&PAGEDAEMON]);
    let memory = test.kernel.memory();
    let account = memory.account("cache");
    let room = memory.stats().limit - memory.stats().in_use;
    account.charge(room).expect("all the room");
    let cache = Arc::new(Cache {
        account: account.clone(),
        held: AtomicUsize::new(room),
        levels: Mutex::new(Vec::new()),
    });
    let reclaimer: Arc<dyn Reclaim> = cache.clone();
    memory.register_reclaimer(Arc::downgrade(&reclaimer));
    let context = test.kernel.enter().expect("enter");
    assert_eq!(memory.alloc_pages(4).err(), Some(MemoryError::Exhausted));
    let started = context.now_ns();
    assert!(memory.wait_for_reclaim(&context), "a pass ran");
    assert!(context.now_ns() - started < DEADLINE_NS);
    let pages = memory.alloc_pages(4).expect("the retry finds room");
    assert_eq!(cache.held.load(Relaxed), 0);
    assert_eq!(cache.levels.lock().unwrap()[0], ReclaimLevel::Idle);
    assert!(memory.pagedaemon_stats().waits >= 1);
    drop(pages);
}

#[test]
fn without_a_pagedaemon_waiting_for_reclaim_returns_at_once() {
    let test = boot("mem=1M");
    let context = test.kernel.enter().expect("enter");
    assert!(!test.kernel.memory().wait_for_reclaim(&context));
}

#[test]
fn a_thread_that_does_not_fit_is_refused_and_its_charge_comes_back() {
    let test = boot("mem=256K");
    let memory = test.kernel.memory();
    let filler = memory.account("filler");
    let room = memory.stats().limit - memory.stats().in_use;
    filler.charge(room - THREAD_BYTES / 2).expect("room");
    let in_use = memory.stats().in_use;
    let refused = test.kernel.spawn("too big", |_| {});
    assert!(refused.is_err());
    assert_eq!(memory.stats().in_use, in_use, "nothing stays charged");
    filler.release(room - THREAD_BYTES / 2);
    let context = test.kernel.enter().expect("enter");
    let thread = test.kernel.spawn("fits", |_| {}).expect("room now");
    thread.join(&context).expect("joined");
    poll(&context, "the stack's charge back", || {
        account_bytes(&test.kernel, "threads") == THREAD_BYTES
    });
}
