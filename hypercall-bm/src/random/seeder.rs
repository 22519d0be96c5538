//! Where seeds come from: RDSEED, else RDRAND, else CPU jitter.
//!
//! Each seed is 256 bits out of BLAKE2s-256 over more raw input than that:
//!
//! - RDSEED: 8 values (512 bits for a 256-bit seed). RDSEED output is
//!   already conditioned full entropy (Intel's ENRNG, AMD's equivalent);
//!   the factor 2 covers a partially broken unit.
//! - RDRAND, only when RDSEED is missing or failed: 2048 values, that is
//!   1024 samples of the 128-bit DRBG behind it. Intel's DRNG guide
//!   (§4.2.5, "512:1 data reduction") says that DRBG reseeds from its
//!   noise source at least every 511 samples, so mixing 512 samples gives
//!   128 bits of seed-grade entropy; twice that gives our 256 bits. The
//!   guide mixes with AES-CBC-MAC; BLAKE2s does the same job here.
//! - CPU jitter (`jitter.rs`) when the CPU has neither, or both failed.
//!
//! An instruction read is tried up to 4 times (on top of the retries of
//! `platform::cpu`); a value of 0 or all ones (known failure modes of some
//! AMD parts), or equal to the previous value, counts as a failure. Any
//! failure abandons that source for this seed and moves to the next one:
//! never to a weaker recipe, never to a clock read as a number.

use blake2::{Blake2s256, Digest};
use hypercall::RandomError;
use zeroize::Zeroizing;

use super::CpuEntropy;
use super::jitter::JitterSource;

/// Bytes in a seed: 256 bits, the BLAKE2s-256 digest.
pub(super) const SEED_BYTES: usize = 32;
/// A seed, erased when dropped.
pub(super) type Seed = Zeroizing<[u8; SEED_BYTES]>;

/// RDSEED values per seed.
const RDSEED_WORDS: usize = 8;
/// RDRAND values per seed: 2 x 512 samples of 128 bits.
const RDRAND_WORDS: usize = 2048;
/// Calls of a `platform::cpu` read per value before the source is given up.
const READ_ATTEMPTS: usize = 4;

/// The machine's entropy instructions and cycle counter: the CPU on bare
/// metal, fakes in tests.
pub(crate) trait Hardware {
    /// Which instructions exist; the others are never called.
    fn entropy(&self) -> CpuEntropy;
    /// One RDSEED value, `None` if it failed (already retried).
    fn rdseed(&mut self) -> Option<u64>;
    /// One RDRAND value, `None` if it failed (already retried).
    fn rdrand(&mut self) -> Option<u64>;
    /// The cycle counter, ordered after earlier instructions.
    fn timestamp(&mut self) -> u64;
}

/// Which source produced a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SeedSource {
    Rdseed,
    Rdrand,
    Jitter,
}

/// The source chain and the jitter collector's state.
#[derive(Debug)]
pub(super) struct Seeder<H> {
    hardware: H,
    jitter: JitterSource,
}

impl<H: Hardware> Seeder<H> {
    pub(super) fn new(hardware: H) -> Self {
        Self {
            hardware,
            jitter: JitterSource::new(),
        }
    }

    /// Which instructions the hardware has.
    pub(super) fn entropy(&self) -> CpuEntropy {
        self.hardware.entropy()
    }

    /// A 256-bit seed from the best source that works.
    ///
    /// # Errors
    /// `SourceFailed` when the instructions are missing or failed and the
    /// jitter source failed its health tests three times in a row.
    pub(super) fn seed(&mut self) -> Result<(SeedSource, Seed), RandomError> {
        let entropy = self.hardware.entropy();
        let hardware = &mut self.hardware;
        if entropy.rdseed
            && let Some(seed) =
                instruction_seed(b"anykernel rdseed v1", RDSEED_WORDS, || hardware.rdseed())
        {
            return Ok((SeedSource::Rdseed, seed));
        }
        if entropy.rdrand
            && let Some(seed) =
                instruction_seed(b"anykernel rdrand v1", RDRAND_WORDS, || hardware.rdrand())
        {
            return Ok((SeedSource::Rdrand, seed));
        }
        let seed = self.jitter.seed(|| hardware.timestamp())?;
        Ok((SeedSource::Jitter, seed))
    }

    #[cfg(test)]
    pub(super) fn hardware(&mut self) -> &mut H {
        &mut self.hardware
    }
}

/// BLAKE2s over `label` and `words` plausible values from `read`, or
/// `None` at the first value that cannot be had.
fn instruction_seed(
    label: &[u8],
    words: usize,
    mut read: impl FnMut() -> Option<u64>,
) -> Option<Seed> {
    let mut hash = Blake2s256::new();
    hash.update(label);
    let mut previous = None;
    for _ in 0..words {
        let word = (0..READ_ATTEMPTS).find_map(|_| read())?;
        if word == 0 || word == u64::MAX || previous == Some(word) {
            return None;
        }
        hash.update(word.to_le_bytes());
        previous = Some(word);
    }
    Some(conditioned(hash))
}

/// The digest of `hash`, written straight into an erasable seed.
pub(super) fn conditioned(hash: Blake2s256) -> Seed {
    let mut seed = Zeroizing::new([0; SEED_BYTES]);
    hash.finalize_into((&mut *seed).into());
    seed
}
