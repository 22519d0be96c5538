//! Where packet buffers come from: a block, a large block (reused), or
//! pages, by the size asked for.

use alloc::sync::Arc;

use base::memory::Memory;
use hypercall_posix::{Posix, PosixConfig};

use crate::buffer::{LARGE_DATA, MAX_DATA, PacketPool};

fn charged(memory: &Memory, account: &str) -> usize {
    let accounts = memory.accounts();
    accounts
        .iter()
        .find(|stats| stats.name == account)
        .map_or(0, |stats| stats.bytes)
}

#[test]
fn each_size_comes_from_its_tier_and_large_blocks_are_reused() {
    let memory = Arc::new(Memory::new(Posix::new(PosixConfig::default()), 64 << 20));
    let pool = PacketPool::new(&memory).expect("a pool");
    let small = pool.allocate_large(MAX_DATA).expect("a block");
    assert_eq!(charged(&memory, "packet_large"), 0);
    let large = pool.allocate_large(MAX_DATA + 1).expect("a large block");
    assert!(large.tailroom() >= LARGE_DATA);
    let large_bytes = charged(&memory, "packet_large");
    assert!(large_bytes >= LARGE_DATA, "{large_bytes}");
    drop(large);
    // Kept for the next one: nothing more is charged.
    let again = pool.allocate_large(LARGE_DATA).expect("the same block");
    assert_eq!(charged(&memory, "packet_large"), large_bytes);
    assert_eq!(charged(&memory, "packet_pages"), 0);
    let huge = pool.allocate_large(LARGE_DATA + 1).expect("pages");
    assert!(charged(&memory, "packet_pages") > LARGE_DATA);
    drop((small, again, huge));
    assert_eq!(charged(&memory, "packet_pages"), 0);
}
