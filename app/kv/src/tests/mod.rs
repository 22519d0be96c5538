//! Host tests: the store's semantics, each command, framing, and garbage.

mod commands;
mod framing;
mod garbage;
mod lru;
mod retrieval;
mod store;

use std::string::String;
use std::vec::Vec;

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

use crate::{Clock, Config, Key, Session, Status, Store};

/// A fixed moment: 1 s after boot, in November 2023.
pub(crate) const NOW: Clock = Clock::new(1_000_000_000, 1_700_000_000_000_000_000);

pub(crate) fn store() -> Store {
    Store::new(Config::default(), [0x5a; 16], NOW)
}

pub(crate) fn small_store(memory_limit: usize, item_size_limit: usize) -> Store {
    let config = Config {
        memory_limit,
        item_size_limit,
    };
    Store::new(config, [0xa5; 16], NOW)
}

pub(crate) fn key(text: &str) -> Key<'_> {
    Key::new(text.as_bytes()).expect("test keys are valid")
}

/// Feeds `bytes`, then resumes a stalled session until it wants input or
/// closes; returns every reply byte.
pub(crate) fn feed(session: &mut Session, store: &mut Store, bytes: &[u8], now: Clock) -> Vec<u8> {
    session.input(bytes, store, now);
    let mut replies = session.take_output();
    while !session.wants_input() && session.status() == Status::Open {
        session.input(&[], store, now);
        replies.extend(session.take_output());
    }
    replies
}

/// One conversation with a fresh session on `store`, as text.
pub(crate) fn talk(store: &mut Store, requests: &str) -> String {
    let replies = feed(&mut Session::new(), store, requests.as_bytes(), NOW);
    String::from_utf8_lossy(&replies).into_owned()
}

/// One conversation with a fresh session on a fresh default store.
pub(crate) fn chat(requests: &str) -> String {
    talk(&mut store(), requests)
}

/// The seeded generator every randomised test draws from.
pub(crate) struct Random(Xoshiro256PlusPlus);

impl Random {
    pub(crate) fn new(seed: u64) -> Random {
        Random(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// A number in `0..bound` (bound > 0).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.0.next_u64() % bound as u64) as usize
    }

    pub(crate) fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.below(choices.len())]
    }

    pub(crate) fn bytes(&mut self, length: usize) -> Vec<u8> {
        (0..length).map(|_| self.0.next_u64() as u8).collect()
    }
}
