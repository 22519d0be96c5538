//! The random hypercall on bare metal: CPU entropy behind a ChaCha20 DRBG.
//!
//! # Design
//!
//! Every byte the kernel gets comes out of one DRBG (`drbg.rs`): ChaCha20
//! (RFC 8439) under a 256-bit key, with fast key erasure (each request
//! replaces the key with fresh keystream, so the state never reveals past
//! output). The key is made from 256-bit seeds, each mixed into the old
//! key with BLAKE2s-256 (RFC 7693). The DRBG reseeds before its first
//! output, then after 1 MiB or 65536 requests of at most 64 KiB each.
//! The primitives are RustCrypto's (`chacha20`, `blake2`, `zeroize`); what
//! is ours is how they are put together, and the sources and their tests.
//!
//! Seeds come from the first source that works (`seeder.rs`):
//!
//! 1. RDSEED, 512 bits hashed to 256 (conditioned full entropy: best);
//! 2. RDRAND, 2048 values hashed to 256 bits, Intel's recipe for
//!    seed-grade entropy out of RDRAND's own DRBG;
//! 3. CPU jitter (`jitter.rs`), only when the CPU has neither instruction
//!    or both kept failing: TSC deltas of a walk over 32 KiB (taken from
//!    the heap at the first jitter seed), under the SP 800-90B health
//!    tests (`health.rs`), credited 1/4 bit per sample, 1280 samples
//!    hashed into a seed (about 1.5 ms on the development host, 5 to 15 ms
//!    under QEMU TCG).
//!
//! A time-stamp counter is never used *as* a random number: only the
//! variation of short intervals is, and only through those tests.
//!
//! # Failure
//!
//! When no source gives a seed, [`RandomSource::fill`] returns
//! `SourceFailed` and writes nothing. That includes a *reseed* that fails
//! after earlier success: the old key would still give good bytes, but a
//! machine whose entropy sources all fail at once is broken, and the
//! kernel should hear of it rather than run on an ever older seed. The
//! next call tries again.
//!
//! # Limits
//!
//! - RDSEED/RDRAND are trusted as their vendors document them; the checks
//!   here catch dead units (no value, 0, all ones, repeats), not a
//!   subverted one. Mixing seeds into the key means a bad seed cannot undo
//!   a good earlier one.
//! - The jitter credit is a conservative design margin (see `jitter.rs`),
//!   not a measurement on every machine. QEMU TCG without `+rdrand` and
//!   CPUs older than Ivy Bridge / Excavator take that path.
//! - Keys and seeds are erased with `zeroize`, but copies the compiler
//!   makes on its own are beyond reach (see `drbg.rs`).
//! - One generator per machine, not per CPU; callers serialise (the
//!   `&mut self` of [`RandomSource::fill`]).

mod drbg;
mod health;
mod jitter;
mod seeder;
#[cfg(test)]
mod tests;

use hypercall::RandomError;

use drbg::{Drbg, MAX_REQUEST, RESEED_POLICY, ReseedPolicy};
use seeder::{Hardware, SeedSource, Seeder};

/// Which entropy instructions the CPU has (from `platform::cpu::features`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CpuEntropy {
    pub(crate) rdseed: bool,
    pub(crate) rdrand: bool,
}

impl From<&platform::cpu::Features> for CpuEntropy {
    fn from(features: &platform::cpu::Features) -> Self {
        Self {
            rdseed: features.rdseed,
            rdrand: features.rdrand,
        }
    }
}

/// The processor's RDSEED, RDRAND and TSC, through `platform::cpu`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cpu {
    entropy: CpuEntropy,
}

impl Hardware for Cpu {
    fn entropy(&self) -> CpuEntropy {
        self.entropy
    }

    fn rdseed(&mut self) -> Option<u64> {
        platform::cpu::rdseed64()
    }

    fn rdrand(&mut self) -> Option<u64> {
        platform::cpu::rdrand64()
    }

    fn timestamp(&mut self) -> u64 {
        platform::cpu::rdtsc_ordered()
    }
}

/// The machine's random source: seeds from the CPU, bytes from the DRBG.
#[derive(Debug)]
pub(crate) struct RandomSource<H = Cpu> {
    seeder: Seeder<H>,
    drbg: Drbg,
    /// Where the current key's latest seed came from; `None` before the
    /// first seed.
    seeded_from: Option<SeedSource>,
}

impl RandomSource<Cpu> {
    /// A source over this CPU's instructions; `cpu` says which exist.
    /// Nothing is read until the first [`RandomSource::fill`].
    pub(crate) fn new(cpu: CpuEntropy) -> Self {
        Self::with_hardware(Cpu { entropy: cpu }, RESEED_POLICY)
    }
}

impl<H: Hardware> RandomSource<H> {
    fn with_hardware(hardware: H, policy: ReseedPolicy) -> Self {
        Self {
            seeder: Seeder::new(hardware),
            drbg: Drbg::new(policy),
            seeded_from: None,
        }
    }

    /// Fills `buffer` with random bytes, seeding first if due (an empty
    /// buffer seeds too, so a boot can seed early and report failure).
    ///
    /// # Errors
    /// `SourceFailed` when a seed was due and no source gave one; the
    /// buffer may then be partly filled (a reseed is due every 1 MiB).
    pub(crate) fn fill(&mut self, buffer: &mut [u8]) -> Result<(), RandomError> {
        if buffer.is_empty() {
            return self.seed_if_due();
        }
        for request in buffer.chunks_mut(MAX_REQUEST) {
            self.seed_if_due()?;
            self.drbg.generate(request)?;
        }
        Ok(())
    }

    fn seed_if_due(&mut self) -> Result<(), RandomError> {
        if self.drbg.needs_seed() {
            let (source, mut seed) = self.seeder.seed()?;
            self.drbg.reseed(&mut seed);
            self.seeded_from = Some(source);
        }
        Ok(())
    }

    /// The source in use for the boot banner: the latest seed's, or before
    /// the first seed the one that will be tried first.
    pub(crate) fn description(&self) -> &'static str {
        let CpuEntropy { rdseed, rdrand } = self.seeder.entropy();
        let preferred = if rdseed {
            SeedSource::Rdseed
        } else if rdrand {
            SeedSource::Rdrand
        } else {
            SeedSource::Jitter
        };
        match (self.seeded_from.unwrap_or(preferred), rdseed, rdrand) {
            (SeedSource::Rdseed, _, _) => "RDSEED",
            (SeedSource::Rdrand, false, _) => "RDRAND",
            (SeedSource::Rdrand, true, _) => "RDRAND (RDSEED failed)",
            (SeedSource::Jitter, false, false) => "CPU jitter (no RDRAND/RDSEED on this CPU)",
            (SeedSource::Jitter, true, true) => "CPU jitter (RDSEED and RDRAND failed)",
            (SeedSource::Jitter, true, false) => "CPU jitter (RDSEED failed, no RDRAND)",
            (SeedSource::Jitter, false, true) => "CPU jitter (RDRAND failed, no RDSEED)",
        }
    }
}
