//! ChaCha20 DRBG with fast key erasure, in front of every entropy source.
//!
//! After Bernstein, "Fast-key-erasure random-number generators" (2017):
//! a request runs ChaCha20 (RFC 8439, RustCrypto's `chacha20`) under the
//! current key from block 0 with a zero nonce; the first 32 keystream
//! bytes become the next key, overwriting the old one before any output is
//! made, and the bytes after them are the output. Whoever reads the state
//! later learns nothing about earlier output. The nonce can stay zero
//! because no key is used twice.
//!
//! Reseeding hashes the new seed *together with* the current key
//! (BLAKE2s-256), so a seed can add entropy but never take it away. The
//! DRBG asks for a reseed after [`RESEED_POLICY`] bytes or requests; whether
//! and from where it gets one is the caller's business (`mod.rs`). Until
//! the first seed it produces nothing.
//!
//! Erasure: the key lives in a [`Zeroizing`] buffer, a seed is wiped by
//! [`Drbg::reseed`] itself, and the keystream generator and the hash wipe
//! their own state when dropped (the crates' `zeroize` features). What the
//! compiler copies on its own (the key handed to the generator by value,
//! registers) is beyond reach: erasure is thorough, not absolute.

use blake2::{Blake2s256, Digest};
use chacha20::ChaCha20Rng;
use chacha20::rand_core::{Rng, SeedableRng};
use hypercall::RandomError;
use zeroize::{Zeroize, Zeroizing};

use super::seeder::{SEED_BYTES, conditioned};

/// Key size in bytes.
const KEY_BYTES: usize = 32;
/// Largest single request: 1025 blocks of one key, far from counter wrap.
pub(super) const MAX_REQUEST: usize = 64 * 1024;
/// The reseed interval of the kernel's generator.
pub(super) const RESEED_POLICY: ReseedPolicy = ReseedPolicy {
    bytes: 1 << 20,
    requests: 1 << 16,
};
/// Domain separation for reseeds.
const RESEED_LABEL: &[u8] = b"anykernel chacha20 drbg reseed v1";

/// After how much output the DRBG asks for a new seed (whichever first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ReseedPolicy {
    pub(super) bytes: u64,
    pub(super) requests: u64,
}

/// The generator state: a key, and the output since the last seed.
pub(super) struct Drbg {
    key: Zeroizing<[u8; KEY_BYTES]>,
    seeded: bool,
    policy: ReseedPolicy,
    bytes_since_seed: u64,
    requests_since_seed: u64,
}

impl core::fmt::Debug for Drbg {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("Drbg")
            .field("seeded", &self.seeded)
            .field("bytes_since_seed", &self.bytes_since_seed)
            .field("requests_since_seed", &self.requests_since_seed)
            .finish_non_exhaustive()
    }
}

impl Drbg {
    /// An unseeded generator that reseeds according to `policy`.
    pub(super) fn new(policy: ReseedPolicy) -> Self {
        Self {
            key: Zeroizing::new([0; KEY_BYTES]),
            seeded: false,
            policy,
            bytes_since_seed: 0,
            requests_since_seed: 0,
        }
    }

    /// Whether the next request should be preceded by [`Drbg::reseed`].
    pub(super) fn needs_seed(&self) -> bool {
        !self.seeded
            || self.bytes_since_seed >= self.policy.bytes
            || self.requests_since_seed >= self.policy.requests
    }

    /// Mixes 256 bits of conditioned `seed` into the key, then erases
    /// `seed`.
    pub(super) fn reseed(&mut self, seed: &mut [u8; SEED_BYTES]) {
        let mut hash = Blake2s256::new();
        hash.update(RESEED_LABEL);
        hash.update(&self.key[..]);
        hash.update(&seed[..]);
        seed.zeroize();
        self.key = conditioned(hash);
        self.seeded = true;
        self.bytes_since_seed = 0;
        self.requests_since_seed = 0;
    }

    /// Fills `output` (at most [`MAX_REQUEST`] bytes) and replaces the key.
    ///
    /// # Errors
    /// `SourceFailed`, with `output` untouched, if never seeded.
    pub(super) fn generate(&mut self, output: &mut [u8]) -> Result<(), RandomError> {
        if !self.seeded {
            return Err(RandomError::SourceFailed);
        }
        debug_assert!(
            output.len() <= MAX_REQUEST,
            "requests are split by the caller"
        );
        // Zero nonce (stream 0), block counter from 0: RFC 8439's keystream.
        let mut keystream = ChaCha20Rng::from_seed(*self.key);
        keystream.fill_bytes(&mut self.key[..]);
        keystream.fill_bytes(output);
        self.bytes_since_seed += output.len() as u64;
        self.requests_since_seed += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const NEVER: ReseedPolicy = ReseedPolicy {
        bytes: u64::MAX,
        requests: u64::MAX,
    };

    fn seeded(seed: u8) -> Drbg {
        let mut drbg = Drbg::new(NEVER);
        drbg.reseed(&mut [seed; SEED_BYTES]);
        drbg
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
            .collect()
    }

    /// The ChaCha20 keystream of `key` from block 0 (the reference).
    fn keystream(key: &[u8; KEY_BYTES], length: usize) -> Vec<u8> {
        let mut bytes = vec![0; length];
        ChaCha20Rng::from_seed(*key).fill_bytes(&mut bytes);
        bytes
    }

    /// The state wiped on drop: the key, the keystream generator (state
    /// and buffered output) and the hash's chain value. Fails to build if
    /// a `zeroize` feature goes. (The hash's input buffer is wiped by
    /// `block-buffer` under the same feature, without the marker trait.)
    #[test]
    fn secret_state_is_erased_on_drop() {
        fn erased_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        erased_on_drop::<Zeroizing<[u8; KEY_BYTES]>>();
        erased_on_drop::<ChaCha20Rng>();
        erased_on_drop::<blake2::Blake2sVarCore>();
    }

    /// The composition (label, key and seed hashed with BLAKE2s, fast key
    /// erasure over ChaCha20), pinned to the output of the hand-written
    /// RFC 7693 / RFC 8439 code this replaced, byte for byte.
    #[test]
    fn a_fixed_seed_gives_the_fixed_output() {
        let mut drbg = seeded(1);
        let (mut first, mut second, mut third) = ([0u8; 48], [0u8; 80], [0u8; 16]);
        drbg.generate(&mut first).unwrap();
        drbg.generate(&mut second).unwrap();
        drbg.reseed(&mut [2; SEED_BYTES]);
        drbg.generate(&mut third).unwrap();
        let expected_first = hex(concat!(
            "35bff88911e419d0110886be2ed1f9340ba5e4abcbace3ef",
            "1963bbd7f93cc6026a763a34f12fbab09771b5a6073edb69"
        ));
        let expected_second = hex(concat!(
            "9de76affdae7b254fff176104680ff044643641894bbaa6c8457769cb01c3b7f",
            "1ba2b2dc1a77fe7bdb3cd279fdc05e5d934fdea5acf0dd7b976537bbe80684ea",
            "727b195e6c7e62986f2c4a915650f567"
        ));
        assert_eq!(first.to_vec(), expected_first);
        assert_eq!(second.to_vec(), expected_second);
        assert_eq!(third.to_vec(), hex("7ca6b5228f4b0f6c4540e761108797e6"));
    }

    #[test]
    fn a_reseed_erases_the_seed_it_was_given() {
        let mut drbg = Drbg::new(NEVER);
        let mut seed = [9; SEED_BYTES];
        drbg.reseed(&mut seed);
        assert_eq!(seed, [0; SEED_BYTES]);
        assert_ne!(*drbg.key, [0; KEY_BYTES]);
    }

    #[test]
    fn an_unseeded_generator_outputs_nothing() {
        let mut drbg = Drbg::new(NEVER);
        let mut output = [0xaa; 64];
        assert_eq!(drbg.generate(&mut output), Err(RandomError::SourceFailed));
        assert_eq!(output, [0xaa; 64]);
        assert!(drbg.needs_seed());
    }

    /// Output is the keystream after its first 32 bytes, and those 32
    /// bytes are the next key: fast key erasure, for odd sizes too.
    #[test]
    fn output_and_next_key_follow_the_keystream() {
        for length in [0, 1, 31, 32, 33, 63, 64, 65, 255, 257, 1000, MAX_REQUEST] {
            let mut drbg = seeded(1);
            let key = *drbg.key;
            let reference = keystream(&key, KEY_BYTES + length);
            let mut output = vec![0; length];
            drbg.generate(&mut output).unwrap();
            assert_eq!(
                output,
                reference[KEY_BYTES..KEY_BYTES + length],
                "length {length}"
            );
            assert_eq!(drbg.key[..], reference[..KEY_BYTES], "length {length}");
        }
    }

    /// Even when every reseed brings the same constant seed, no output
    /// ever comes back: the key changes at each request and each reseed.
    #[test]
    fn a_constant_seed_never_repeats_output() {
        let mut drbg = Drbg::new(ReseedPolicy {
            bytes: u64::MAX,
            requests: 2,
        });
        let mut outputs: Vec<[u8; 64]> = Vec::new();
        for round in 0..100 {
            if drbg.needs_seed() {
                drbg.reseed(&mut [7; SEED_BYTES]);
            }
            let mut output = [0u8; 64];
            drbg.generate(&mut output).unwrap();
            assert!(
                !outputs.contains(&output),
                "round {round} repeats an earlier output"
            );
            outputs.push(output);
        }
    }

    #[test]
    fn reseeding_mixes_into_the_key_instead_of_replacing_it() {
        let mut twice = seeded(1);
        twice.reseed(&mut [2; SEED_BYTES]);
        assert_ne!(*twice.key, *seeded(2).key);
        assert_ne!(*seeded(1).key, *seeded(2).key);
    }

    #[test]
    fn a_reseed_is_due_after_the_byte_threshold() {
        let mut drbg = Drbg::new(ReseedPolicy {
            bytes: 1000,
            requests: u64::MAX,
        });
        drbg.reseed(&mut [1; SEED_BYTES]);
        let mut output = [0u8; 999];
        drbg.generate(&mut output).unwrap();
        assert!(!drbg.needs_seed());
        drbg.generate(&mut output[..1]).unwrap();
        assert!(drbg.needs_seed());
        drbg.reseed(&mut [1; SEED_BYTES]);
        assert!(!drbg.needs_seed());
    }

    #[test]
    fn a_reseed_is_due_after_the_request_threshold() {
        let mut drbg = Drbg::new(ReseedPolicy {
            bytes: u64::MAX,
            requests: 3,
        });
        drbg.reseed(&mut [1; SEED_BYTES]);
        for _ in 0..3 {
            assert!(!drbg.needs_seed());
            drbg.generate(&mut []).unwrap();
        }
        assert!(drbg.needs_seed());
    }
}
