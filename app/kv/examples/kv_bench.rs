//! Throughput of the kv store and session on the host: ops/s for get/set mixes.
//!
//! `cargo run --release -p kv --example kv_bench` prints, for a few value
//! sizes and get:set ratios, the operations per second of the store alone
//! and of whole requests through a session (parsing, the store, replies),
//! 100 requests pipelined per read. One thread; a fixed seed; a fixed
//! number of operations, so a run takes a few seconds.

use std::time::Instant;

use kv::{Clock, Config, Key, NewItem, Session, Store, StoreMode};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

const KEYS: usize = 100_000;
const OPERATIONS: usize = 2_000_000;
const PIPELINE: usize = 100;
const NOW: Clock = Clock::new(1_000_000_000, 1_700_000_000_000_000_000);

fn key_name(number: usize) -> String {
    format!("key:{number:08}")
}

/// A store holding every key with a `value_size`-byte value.
fn filled_store(value_size: usize) -> Store {
    let mut store = Store::new(Config::default(), [0x42; 16], NOW);
    let value = vec![b'v'; value_size];
    for number in 0..KEYS {
        let name = key_name(number);
        let key = Key::new(name.as_bytes()).expect("bench keys are valid");
        let new = NewItem {
            key,
            flags: 0,
            exptime: 0,
            value: &value,
        };
        store.store(StoreMode::Set, new, NOW);
    }
    store
}

/// Operations per second of `store.get` / `store.store` directly.
fn store_only(value_size: usize, gets_per_set: usize) -> f64 {
    let mut store = filled_store(value_size);
    let mut random = Xoshiro256PlusPlus::seed_from_u64(1);
    let names: Vec<String> = (0..KEYS).map(key_name).collect();
    let value = vec![b'w'; value_size];
    let started = Instant::now();
    let mut bytes = 0usize;
    for operation in 0..OPERATIONS {
        let name = &names[random.next_u64() as usize % KEYS];
        let key = Key::new(name.as_bytes()).expect("bench keys are valid");
        if operation % (gets_per_set + 1) == gets_per_set {
            let new = NewItem {
                key,
                flags: 0,
                exptime: 0,
                value: &value,
            };
            store.store(StoreMode::Set, new, NOW);
        } else if let Some(hit) = store.get(key, NOW) {
            bytes += hit.value.len();
        }
    }
    assert!(bytes > 0);
    OPERATIONS as f64 / started.elapsed().as_secs_f64()
}

/// Pipelined request batches: `PIPELINE` requests, one read each.
fn batches(value_size: usize, gets_per_set: usize) -> Vec<Vec<u8>> {
    let mut random = Xoshiro256PlusPlus::seed_from_u64(2);
    let value = "w".repeat(value_size);
    let mut all = Vec::new();
    for batch in 0..OPERATIONS / PIPELINE {
        let mut bytes = Vec::new();
        for request in 0..PIPELINE {
            let name = key_name(random.next_u64() as usize % KEYS);
            let text = if (batch * PIPELINE + request) % (gets_per_set + 1) == gets_per_set {
                format!("set {name} 0 0 {value_size}\r\n{value}\r\n")
            } else {
                format!("get {name}\r\n")
            };
            bytes.extend_from_slice(text.as_bytes());
        }
        all.push(bytes);
    }
    all
}

/// Requests per second through a session, replies drained as a socket would.
fn through_session(value_size: usize, gets_per_set: usize) -> f64 {
    let mut store = filled_store(value_size);
    let reads = batches(value_size, gets_per_set);
    let mut session = Session::new();
    let mut sent = 0usize;
    let started = Instant::now();
    for read in &reads {
        session.input(read, &mut store, NOW);
        while !session.output().is_empty() {
            let length = session.output().len();
            sent += length;
            session.consume_output(length);
        }
    }
    assert!(sent > 0 && session.wants_input());
    OPERATIONS as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    println!("kv bench: {KEYS} keys, {OPERATIONS} operations a row, one thread");
    println!(
        "{:>6} {:>8} {:>16} {:>18}",
        "value", "get:set", "store ops/s", "session req/s"
    );
    for value_size in [32, 1024] {
        for gets_per_set in [9, 1] {
            let store = store_only(value_size, gets_per_set);
            let session = through_session(value_size, gets_per_set);
            let mix = format!("{gets_per_set}:1");
            println!("{value_size:>6} {mix:>8} {store:>16.0} {session:>18.0}");
        }
    }
}
