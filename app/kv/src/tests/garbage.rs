//! 100,000 random inputs: no panic, and every bound holds throughout.

use std::vec::Vec;

use super::{NOW, Random, small_store};
use crate::session::framing::LINE_LIMIT;
use crate::{Session, Status};

const WORDS: &[&[u8]] = &[
    b"get",
    b"gets",
    b"gat",
    b"set",
    b"add",
    b"cas",
    b"append",
    b"prepend",
    b"replace",
    b"incr",
    b"decr",
    b"delete",
    b"touch",
    b"flush_all",
    b"stats",
    b"verbosity",
    b"version",
    b"k",
    b"key",
    b"0",
    b"1",
    b"-1",
    b"99999999999",
    b"18446744073709551615",
    b"noreply",
    b"100",
    b"2000",
    b"\r\n",
    b"\n",
    b"\r",
    b" ",
    b"  ",
    b"\t",
    b"\0",
    b"set k 0 0 1\r\nx\r\n",
    b"set key 0 0 900\r\n",
    b"append k 0 0 500\r\n",
    b"get k key\r\n",
    b"incr k 1\r\n",
    b"set n 0 0 2 noreply\r\n10\r\n",
];

/// Bytes that are mostly protocol words, sometimes pure noise, sometimes
/// a storage command for one of many keys with one byte possibly wrong.
fn garbage(random: &mut Random) -> Vec<u8> {
    match random.below(4) {
        0 => {
            let length = random.below(300);
            return random.bytes(length);
        }
        1 => return storage(random),
        _ => {}
    }
    let mut bytes = Vec::new();
    for _ in 0..random.below(24) {
        let word: &[u8] = random.pick(WORDS);
        bytes.extend_from_slice(word);
        if random.below(3) == 0 {
            bytes.push(b' ');
        }
    }
    bytes
}

#[test]
fn garbage_never_panics_and_keeps_every_bound() {
    const MEMORY_LIMIT: usize = 32 << 10;
    const ITEM_SIZE_LIMIT: usize = 1000;
    let mut random = Random::new(0x0a4b_a9e0);
    let mut store = small_store(MEMORY_LIMIT, ITEM_SIZE_LIMIT);
    let mut session = Session::new();
    for round in 0..100_000u64 {
        let input = garbage(&mut random);
        let now = NOW.plus_seconds(round / 100);
        let status = session.input(&input, &mut store, now);
        session.take_output();
        assert!(session.buffered_input() <= ITEM_SIZE_LIMIT + 2 + LINE_LIMIT + 300);
        assert!(store.memory_in_use() <= MEMORY_LIMIT);
        if status == Status::Close || random.below(500) == 0 {
            session = Session::new();
        }
        if round % 1000 == 0 {
            store.check_invariants();
        }
    }
    store.check_invariants();
    let counters = store.counters();
    assert!(counters.evictions > 1000, "{counters:?}");
    assert!(counters.store_too_large > 500, "{counters:?}");
}

fn storage(random: &mut Random) -> Vec<u8> {
    let length = random.below(1100);
    let key = random.below(300);
    let mut bytes = std::format!("set key{key} 0 0 {length}\r\n").into_bytes();
    bytes.resize(bytes.len() + length, b'v');
    bytes.extend_from_slice(b"\r\n");
    if random.below(10) == 0 {
        let index = random.below(bytes.len());
        bytes[index] = random.bytes(1)[0];
    }
    bytes
}
