//! Transaction ids and retransmit jitter from a seeded generator.
//!
//! Not cryptographic: xids only need to differ between exchanges and between
//! clients (anyone on the link sees them anyway), and the seed comes from the
//! random hypercall. The generator is the workspace's one seeded generator
//! (xoshiro256++); the same seed gives the same sequence, which keeps the
//! client deterministic in tests.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// Nanoseconds in one second.
pub const SECOND_NS: u64 = 1_000_000_000;

/// The client's generator.
#[derive(Clone, Debug)]
pub struct Random {
    generator: Xoshiro256PlusPlus,
}

impl Random {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            generator: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.generator.next_u64()
    }

    /// A fresh transaction id: the high half of the next output.
    pub fn next_xid(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform offset in `-SECOND_NS ..= SECOND_NS` (RFC 2131 §4.1's
    /// "randomized by the value of a uniform random number chosen from the
    /// range -1 to +1").
    pub fn jitter_ns(&mut self) -> i64 {
        let span = 2 * SECOND_NS + 1;
        let offset = self.next_u64() % span;
        offset as i64 - SECOND_NS as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_different_seeds_differ() {
        let mut first = Random::new(7);
        let mut second = Random::new(7);
        let mut other = Random::new(8);
        let a: [u64; 4] = core::array::from_fn(|_| first.next_u64());
        let b: [u64; 4] = core::array::from_fn(|_| second.next_u64());
        let c: [u64; 4] = core::array::from_fn(|_| other.next_u64());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn jitter_stays_within_one_second_and_uses_both_signs() {
        let mut random = Random::new(42);
        let samples: std::vec::Vec<i64> = (0..10_000).map(|_| random.jitter_ns()).collect();
        let bound = SECOND_NS as i64;
        assert!(
            samples
                .iter()
                .all(|jitter| (-bound..=bound).contains(jitter))
        );
        assert!(samples.iter().any(|jitter| *jitter < -bound / 2));
        assert!(samples.iter().any(|jitter| *jitter > bound / 2));
    }
}
