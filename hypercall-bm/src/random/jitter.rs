//! CPU-jitter entropy: timing variations of a memory-heavy workload.
//!
//! Used only when the CPU has neither RDSEED nor RDRAND (or both kept
//! failing). One raw sample is the TSC delta across a walk over a 32 KiB
//! block (heap-allocated at the first seed) with data-dependent addresses,
//! branches and a data-dependent length; cache misses (the block and the
//! hashing around it overflow a 32 KiB L1), TLB, pipeline, interrupt and,
//! under emulation, host effects make the delta vary. The design follows
//! Stephan Müller's jitterentropy, reduced:
//!
//! - every raw sample goes through the SP 800-90B continuous health tests
//!   and a lag predictor (`health.rs`, tuned for 1 bit per sample), and
//!   the first 1024 samples after start or after a failure are start-up
//!   tests (§4.3), not used;
//! - a sample is *stuck* (credited nothing, though still hashed) when its
//!   delta, or its first or second difference to the previous deltas, is
//!   zero: a clock that does not advance, or advances regularly;
//! - each non-stuck sample is credited 1/4 bit, a safety factor of 4 under
//!   the 1 bit the health tests defend, because successive timings are not
//!   independent and the tests only see the most common value. Measured
//!   with the SP 800-90B §6.3 MCV, lag, MultiMCW and MultiMMC estimators on
//!   16384 samples as taken while seeding, the worst estimate over the
//!   runs was 1.8 bits per sample on the development host (AMD EPYC,
//!   virtualised, 3 runs) and 2.4 under QEMU TCG (5 runs); a 2 KiB block
//!   gave as little as 0.3, hence 32 KiB. The full non-IID suite of
//!   SP 800-90B (ten estimators, restart tests) has not been run;
//! - a seed needs 320 credited bits (256 + 64, the SP 800-90B §3.1.5
//!   margin for full-entropy output from a vetted conditioner), that is
//!   1280 non-stuck samples, hashed with BLAKE2s-256 into 32 bytes;
//! - an attempt fails on a health-test failure or when 5120 samples did not
//!   yield 1280 non-stuck ones; three failed attempts in a row, or no heap
//!   for the block, make the source refuse (`RandomError::SourceFailed`).
//!
//! Limits: the entropy estimate is a design margin, not a measurement on
//! every machine; a hypervisor that traps RDTSC and returns a coarse,
//! regular clock is caught by the stuck and health tests, but a clock that
//! is regular in a way those tests do not see would be over-credited.

use alloc::vec::Vec;

use blake2::{Blake2s256, Digest};
use hypercall::RandomError;

use super::health::HealthTests;
use super::seeder::{Seed, conditioned};

/// 64-bit words in the workload's memory block (32 KiB).
const MEMORY_WORDS: usize = 4096;
/// Samples run through the health tests before any is used (§4.3).
const STARTUP_SAMPLES: u32 = 1024;
/// Non-stuck samples per seed: 320 bits at 1/4 bit each.
const CREDITED_SAMPLES: u32 = 1280;
/// Samples an attempt may take before it gives up on too many stuck ones.
const MAX_SAMPLES_PER_ATTEMPT: u32 = 4 * CREDITED_SAMPLES;
/// Failed attempts in a row after which the source refuses.
const ATTEMPTS: u32 = 3;
/// Domain separation for the conditioner's input.
const LABEL: &[u8] = b"anykernel jitter seed v1";

/// Why one collection attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttemptFailure {
    /// A continuous health test failed.
    Health,
    /// Too many stuck samples to reach the entropy target.
    Stuck,
}

/// The jitter collector's state: workload memory, health tests, history.
pub(super) struct JitterSource {
    /// The workload's block: empty until the first seed, then
    /// `MEMORY_WORDS` long.
    memory: Vec<u64>,
    position: usize,
    health: HealthTests,
    started: bool,
    last_delta: u64,
    last_difference: u64,
}

impl core::fmt::Debug for JitterSource {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("JitterSource")
            .field("memory_words", &self.memory.len())
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl JitterSource {
    pub(super) fn new() -> Self {
        Self {
            memory: Vec::new(),
            position: 0,
            health: HealthTests::default(),
            started: false,
            last_delta: 0,
            last_difference: 0,
        }
    }

    /// A 256-bit seed from timings read with `clock` (a cycle counter).
    ///
    /// # Errors
    /// `SourceFailed` after three failed attempts in a row, or when the
    /// workload's block cannot be allocated.
    pub(super) fn seed(&mut self, mut clock: impl FnMut() -> u64) -> Result<Seed, RandomError> {
        self.allocate_memory()?;
        for _ in 0..ATTEMPTS {
            match self.attempt(&mut clock) {
                Ok(seed) => return Ok(seed),
                Err(_) => self.restart(),
            }
        }
        Err(RandomError::SourceFailed)
    }

    fn allocate_memory(&mut self) -> Result<(), RandomError> {
        if self.memory.is_empty() {
            self.memory
                .try_reserve_exact(MEMORY_WORDS)
                .map_err(|_| RandomError::SourceFailed)?;
            self.memory.extend(0..MEMORY_WORDS as u64);
        }
        Ok(())
    }

    /// Forgets the health-test history; start-up tests run again.
    fn restart(&mut self) {
        self.health = HealthTests::default();
        self.started = false;
    }

    /// One try at a seed; the block must be allocated.
    fn attempt(&mut self, clock: &mut impl FnMut() -> u64) -> Result<Seed, AttemptFailure> {
        if !self.started {
            for _ in 0..STARTUP_SAMPLES {
                self.tested_sample(clock)?;
            }
            self.started = true;
        }
        let mut hash = Blake2s256::new();
        hash.update(LABEL);
        let mut credited = 0;
        for _ in 0..MAX_SAMPLES_PER_ATTEMPT {
            let (delta, stuck) = self.tested_sample(clock)?;
            hash.update(delta.to_le_bytes());
            credited += u32::from(!stuck);
            if credited == CREDITED_SAMPLES {
                return Ok(conditioned(hash));
            }
        }
        Err(AttemptFailure::Stuck)
    }

    /// One raw sample that passed the health tests, and whether it is stuck.
    fn tested_sample(
        &mut self,
        clock: &mut impl FnMut() -> u64,
    ) -> Result<(u64, bool), AttemptFailure> {
        let delta = self.raw_sample(clock);
        self.health
            .check(delta)
            .map_err(|_| AttemptFailure::Health)?;
        Ok((delta, self.stuck(delta)))
    }

    /// Whether `delta` or its first or second difference is zero; updates
    /// the history either way.
    fn stuck(&mut self, delta: u64) -> bool {
        let difference = delta.wrapping_sub(self.last_delta);
        let second_difference = difference.wrapping_sub(self.last_difference);
        self.last_delta = delta;
        self.last_difference = difference;
        delta == 0 || difference == 0 || second_difference == 0
    }

    /// The time the workload took, in clock ticks.
    fn raw_sample(&mut self, clock: &mut impl FnMut() -> u64) -> u64 {
        let start = clock();
        self.walk_memory();
        clock().wrapping_sub(start)
    }

    /// Reads and rewrites 64 to 127 words at data-dependent positions, 8 to
    /// 248 bytes apart; the length depends on the previous delta, the
    /// addresses on the data.
    fn walk_memory(&mut self) {
        let steps = 64 + (self.last_delta % 64) as usize;
        let mut value = self.last_delta;
        for _ in 0..steps {
            let word = &mut self.memory[self.position];
            value = value.rotate_left(7) ^ *word;
            *word = if value & 1 == 0 {
                word.wrapping_add(value)
            } else {
                word.rotate_left(13) ^ value
            };
            self.position = (self.position + 1 + (value as usize % 31)) % MEMORY_WORDS;
        }
        core::hint::black_box(&mut self.memory);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock whose deltas are `delta(n)` for the n-th measurement.
    fn fake_clock(mut delta: impl FnMut(u64) -> u64) -> impl FnMut() -> u64 {
        let (mut now, mut reads) = (0u64, 0u64);
        move || {
            if reads % 2 == 1 {
                now += delta(reads / 2);
            }
            reads += 1;
            now
        }
    }

    fn noisy(index: u64) -> u64 {
        100 + (index.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
    }

    #[test]
    fn a_noisy_clock_gives_a_seed_and_distinct_seeds_after() {
        let mut source = JitterSource::new();
        let mut clock = fake_clock(noisy);
        let first = source.seed(&mut clock).expect("a noisy clock is healthy");
        let second = source.seed(&mut clock).expect("a noisy clock is healthy");
        assert_ne!(first, second);
    }

    #[test]
    fn a_regular_clock_is_refused() {
        let mut source = JitterSource::new();
        assert_eq!(
            source.seed(fake_clock(|_| 40)),
            Err(RandomError::SourceFailed)
        );
    }

    #[test]
    fn a_stopped_clock_is_refused() {
        let mut source = JitterSource::new();
        assert_eq!(source.seed(|| 12345), Err(RandomError::SourceFailed));
    }

    /// Two alternating deltas pass the repetition and proportion tests;
    /// the lag predictor refuses them.
    #[test]
    fn an_alternating_clock_is_refused() {
        let mut source = JitterSource::new();
        source.allocate_memory().unwrap();
        let attempt = source.attempt(&mut fake_clock(|index| 40 + index % 2));
        assert_eq!(attempt, Err(AttemptFailure::Health));
        assert_eq!(
            source.seed(fake_clock(|index| 40 + index % 2)),
            Err(RandomError::SourceFailed)
        );
    }

    /// Deltas growing by one each time pass every health test but have a
    /// zero second difference: all stuck, nothing credited.
    #[test]
    fn a_linearly_drifting_clock_is_refused_as_stuck() {
        let mut source = JitterSource::new();
        source.allocate_memory().unwrap();
        let attempt = source.attempt(&mut fake_clock(|index| 40 + index));
        assert_eq!(attempt, Err(AttemptFailure::Stuck));
    }

    #[test]
    fn the_real_time_stamp_counter_gives_seeds() {
        let mut source = JitterSource::new();
        let first = source
            .seed(platform::cpu::rdtsc_ordered)
            .expect("TSC jitter on the test host");
        let second = source
            .seed(platform::cpu::rdtsc_ordered)
            .expect("TSC jitter on the test host");
        assert_ne!(first, second);
    }
}
