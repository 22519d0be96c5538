//! Keyed randomness for IPv6: secrets derived from a boot-time key, and
//! the random delays and identifiers the protocols ask for.
//!
//! Every value is SipHash-2-4 under a 128-bit key: a keyed PRF, so what
//! is seen on the wire (a delay, a fragment identification) tells
//! nothing about the next value or about other keys derived from the same
//! boot key with other labels ([`derive`]).

use siphasher::sip::SipHasher24;

/// A 128-bit key derived from `key` for the purpose `label`: SipHash of
/// the label under `key`, twice (the second time with a marker byte).
pub fn derive(key: &[u8; 16], label: &[u8]) -> [u8; 16] {
    let hasher = SipHasher24::new_with_key(key);
    let first = hasher.hash(label);
    let mut marked = [0u8; 64];
    let length = label.len().min(63);
    marked[..length].copy_from_slice(&label[..length]);
    marked[length] = 0xff;
    let second = hasher.hash(&marked[..=length]);
    let mut derived = [0u8; 16];
    derived[..8].copy_from_slice(&first.to_le_bytes());
    derived[8..].copy_from_slice(&second.to_le_bytes());
    derived
}

/// A stream of keyed random numbers.
#[derive(Clone)]
pub struct Random {
    hasher: SipHasher24,
    drawn: u64,
}

impl Random {
    /// A stream under `key`.
    pub fn new(key: [u8; 16]) -> Self {
        Self {
            hasher: SipHasher24::new_with_key(&key),
            drawn: 0,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.drawn += 1;
        self.hasher.hash(&self.drawn.to_le_bytes())
    }

    /// A value in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        match bound {
            0 => 0,
            bound => self.next_u64() % bound,
        }
    }

    /// A value in `low..=high`, for the RFCs' random intervals.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low).saturating_add(1))
    }
}

impl core::fmt::Debug for Random {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Random").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_give_different_keys_and_draws_stay_in_range() {
        let key = [7u8; 16];
        assert_ne!(derive(&key, b"a"), derive(&key, b"b"));
        assert_eq!(derive(&key, b"a"), derive(&key, b"a"));
        assert_ne!(derive(&key, b"a"), derive(&[8u8; 16], b"a"));
        let mut random = Random::new(derive(&key, b"delays"));
        for _ in 0..1000 {
            assert!(random.below(10) < 10);
            let value = random.between(500, 1500);
            assert!((500..=1500).contains(&value));
        }
        assert_eq!(random.below(0), 0);
        assert_eq!(random.between(3, 3), 3);
        let first = random.next_u64();
        assert_ne!(first, random.next_u64());
    }
}
