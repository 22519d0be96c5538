//! ChaCha20 DRBG with fast key erasure, in front of every entropy source.
//!
//! After Bernstein, "Fast-key-erasure random-number generators" (2017):
//! a request runs ChaCha20 under the current key from block 0 with a zero
//! nonce; the first 32 keystream bytes become the next key, the old key is
//! overwritten before the request returns, and the bytes after them are the
//! output. Whoever reads the state later learns nothing about earlier
//! output. The nonce can stay zero because no key is used twice.
//!
//! Reseeding hashes the new seed *together with* the current key
//! (BLAKE2s-256), so a seed can add entropy but never take it away. The
//! DRBG asks for a reseed after [`RESEED_POLICY`] bytes or requests; whether
//! and from where it gets one is the caller's business (`mod.rs`). Until
//! the first seed it produces nothing.
//!
//! Erasure of keys and seeds is best effort: safe Rust cannot force the
//! compiler to keep a store to memory it never reads again, so the wipes go
//! through `core::hint::black_box`, which in practice keeps them.

use hypercall::RandomError;

use super::blake2s::{Blake2s, DIGEST_BYTES};
use super::chacha20::{self, BLOCK_BYTES, KEY_BYTES, NONCE_BYTES};

/// Largest single request: 1025 blocks of one key, far from counter wrap.
pub(super) const MAX_REQUEST: usize = 64 * 1024;
/// The reseed interval of the kernel's generator.
pub(super) const RESEED_POLICY: ReseedPolicy = ReseedPolicy {
    bytes: 1 << 20,
    requests: 1 << 16,
};
/// Domain separation for reseeds.
const RESEED_LABEL: &[u8] = b"anykernel chacha20 drbg reseed v1";
/// The nonce of every request.
const NONCE: [u8; NONCE_BYTES] = [0; NONCE_BYTES];

/// After how much output the DRBG asks for a new seed (whichever first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ReseedPolicy {
    pub(super) bytes: u64,
    pub(super) requests: u64,
}

/// The generator state: a key, and the output since the last seed.
pub(super) struct Drbg {
    key: [u8; KEY_BYTES],
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
            key: [0; KEY_BYTES],
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

    /// Mixes 256 bits of conditioned `seed` into the key.
    pub(super) fn reseed(&mut self, seed: &[u8; DIGEST_BYTES]) {
        let mut hash = Blake2s::new();
        hash.update(RESEED_LABEL);
        hash.update(&self.key);
        hash.update(seed);
        self.key = hash.finalize();
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
        let mut first = chacha20::block(&self.key, 0, &NONCE);
        let head = output.len().min(BLOCK_BYTES - KEY_BYTES);
        output[..head].copy_from_slice(&first[KEY_BYTES..KEY_BYTES + head]);
        for (index, chunk) in output[head..].chunks_mut(BLOCK_BYTES).enumerate() {
            let mut block = chacha20::block(&self.key, index as u32 + 1, &NONCE);
            chunk.copy_from_slice(&block[..chunk.len()]);
            wipe(&mut block);
        }
        self.key.copy_from_slice(&first[..KEY_BYTES]);
        wipe(&mut first);
        self.bytes_since_seed += output.len() as u64;
        self.requests_since_seed += 1;
        Ok(())
    }
}

/// Overwrites secret bytes with zeros (best effort, see the module docs).
pub(super) fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    core::hint::black_box(bytes);
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
        drbg.reseed(&[seed; DIGEST_BYTES]);
        drbg
    }

    /// The ChaCha20 keystream of `key` from block 0 (the reference).
    fn keystream(key: &[u8; KEY_BYTES], length: usize) -> Vec<u8> {
        (0..length.div_ceil(BLOCK_BYTES) as u32)
            .flat_map(|counter| chacha20::block(key, counter, &NONCE))
            .collect()
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
        for length in [0, 1, 31, 32, 33, 63, 64, 65, 1000, MAX_REQUEST] {
            let mut drbg = seeded(1);
            let key = drbg.key;
            let reference = keystream(&key, KEY_BYTES + length);
            let mut output = vec![0; length];
            drbg.generate(&mut output).unwrap();
            assert_eq!(
                output,
                reference[KEY_BYTES..KEY_BYTES + length],
                "length {length}"
            );
            assert_eq!(drbg.key, reference[..KEY_BYTES], "length {length}");
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
                drbg.reseed(&[7; DIGEST_BYTES]);
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
        twice.reseed(&[2; DIGEST_BYTES]);
        assert_ne!(twice.key, seeded(2).key);
        assert_ne!(seeded(1).key, seeded(2).key);
    }

    #[test]
    fn a_reseed_is_due_after_the_byte_threshold() {
        let mut drbg = Drbg::new(ReseedPolicy {
            bytes: 1000,
            requests: u64::MAX,
        });
        drbg.reseed(&[1; DIGEST_BYTES]);
        let mut output = [0u8; 999];
        drbg.generate(&mut output).unwrap();
        assert!(!drbg.needs_seed());
        drbg.generate(&mut output[..1]).unwrap();
        assert!(drbg.needs_seed());
        drbg.reseed(&[1; DIGEST_BYTES]);
        assert!(!drbg.needs_seed());
    }

    #[test]
    fn a_reseed_is_due_after_the_request_threshold() {
        let mut drbg = Drbg::new(ReseedPolicy {
            bytes: u64::MAX,
            requests: 3,
        });
        drbg.reseed(&[1; DIGEST_BYTES]);
        for _ in 0..3 {
            assert!(!drbg.needs_seed());
            drbg.generate(&mut []).unwrap();
        }
        assert!(drbg.needs_seed());
    }
}
