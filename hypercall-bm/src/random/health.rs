//! Continuous health tests of NIST SP 800-90B §4.4 on raw noise samples.
//!
//! Both tests are tuned for a claimed min-entropy of H = 1 bit per raw
//! sample and a false-positive probability of alpha = 2^-30 per sample (the
//! values of the jitterentropy library, which is SP 800-90B validated):
//!
//! - repetition count test (§4.4.1): cutoff C = 1 + ceil(30 / H) = 31
//!   identical samples in a row;
//! - adaptive proportion test (§4.4.2, non-binary, window W = 512): cutoff
//!   C = 1 + CRITBINOM(512, 2^-H, 1 - 2^-30) = 325 occurrences of the
//!   window's first sample.
//!
//! A source whose most common sample has probability p fails the adaptive
//! proportion test almost surely once p > 325/512, i.e. once its
//! most-common-value min-entropy drops below about 0.65 bit per sample.
//!
//! A third test, not in SP 800-90B, is jitterentropy's lag predictor: it
//! guesses that each sample equals the one 1 to 8 samples before and fails
//! when one of those guesses is right 325 times in a 512-sample window.
//! For a source of H >= 1 a guess is right with probability <= 1/2, as in
//! the proportion test; a periodic clock (deltas 40, 41, 40, 41, ...)
//! passes the two SP 800-90B tests but not this one.
//! A failure is reported, never repaired here: the caller discards what it
//! collected since the last seed and restarts (`jitter.rs`).

/// Claimed min-entropy per raw sample, in bits, that the cutoffs assume.
#[cfg(test)]
const CLAIMED_BITS: f64 = 1.0;
/// -log2 of the per-sample false-positive probability.
#[cfg(test)]
const ALPHA_EXPONENT: i32 = 30;
/// Identical consecutive samples that fail the repetition count test.
const REPETITION_CUTOFF: u32 = 31;
/// Samples per adaptive proportion window.
const WINDOW: u32 = 512;
/// Occurrences of the window's first sample that fail the test.
const PROPORTION_CUTOFF: u32 = 325;

/// Which test a sample stream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HealthFailure {
    /// Too many identical samples in a row (a stuck source).
    Repetition,
    /// One value too frequent within a window (a biased source).
    Proportion,
    /// Samples predictable from recent ones (a periodic source).
    Lag,
}

/// Both continuous tests, fed every raw sample in order.
#[derive(Debug, Clone, Default)]
pub(super) struct HealthTests {
    repetition: RepetitionCount,
    proportion: AdaptiveProportion,
    lag: LagPredictor,
}

impl HealthTests {
    /// Runs both tests on the next raw sample.
    pub(super) fn check(&mut self, sample: u64) -> Result<(), HealthFailure> {
        self.repetition.check(sample)?;
        self.proportion.check(sample)?;
        self.lag.check(sample)
    }
}

/// SP 800-90B §4.4.1: the current value and how often it has repeated.
#[derive(Debug, Clone, Default)]
struct RepetitionCount {
    last: Option<u64>,
    run: u32,
}

impl RepetitionCount {
    fn check(&mut self, sample: u64) -> Result<(), HealthFailure> {
        if self.last == Some(sample) {
            self.run += 1;
        } else {
            self.last = Some(sample);
            self.run = 1;
        }
        if self.run >= REPETITION_CUTOFF {
            Err(HealthFailure::Repetition)
        } else {
            Ok(())
        }
    }
}

/// SP 800-90B §4.4.2: the window's first value, its count so far, and how
/// many samples of the window have been seen.
#[derive(Debug, Clone, Default)]
struct AdaptiveProportion {
    first: u64,
    count: u32,
    seen: u32,
}

impl AdaptiveProportion {
    fn check(&mut self, sample: u64) -> Result<(), HealthFailure> {
        if self.seen == 0 {
            self.first = sample;
            self.count = 1;
        } else if sample == self.first {
            self.count += 1;
        }
        self.seen = (self.seen + 1) % WINDOW;
        if self.count >= PROPORTION_CUTOFF {
            Err(HealthFailure::Proportion)
        } else {
            Ok(())
        }
    }
}

/// Lags the predictor tries: each sample is compared with the 1st to the
/// 8th sample before it.
const LAGS: usize = 8;

/// jitterentropy's lag predictor, reduced: per lag, how often "same as
/// `lag` samples ago" was right in the current window.
#[derive(Debug, Clone, Default)]
struct LagPredictor {
    /// The last `LAGS` samples; `newest` indexes the most recent.
    history: [u64; LAGS],
    newest: usize,
    hits: [u32; LAGS],
    seen: u32,
}

impl LagPredictor {
    fn check(&mut self, sample: u64) -> Result<(), HealthFailure> {
        for (lag, hits) in self.hits.iter_mut().enumerate() {
            *hits += u32::from(self.history[(self.newest + LAGS - lag) % LAGS] == sample);
        }
        self.newest = (self.newest + 1) % LAGS;
        self.history[self.newest] = sample;
        let failed = self.hits.iter().any(|&hits| hits >= PROPORTION_CUTOFF);
        self.seen += 1;
        if self.seen == WINDOW {
            self.seen = 0;
            self.hits = [0; LAGS];
        }
        if failed {
            Err(HealthFailure::Lag)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::{Rng, SeedableRng};

    use super::*;

    /// A full-entropy stand-in for a good noise source: 4 bits a sample.
    fn good_samples(count: usize) -> impl Iterator<Item = u64> {
        let mut noise = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
        (0..count).map(move |_| noise.next_u64() % 16)
    }

    fn first_failure(samples: impl Iterator<Item = u64>) -> Option<(usize, HealthFailure)> {
        let mut tests = HealthTests::default();
        samples
            .enumerate()
            .find_map(|(index, sample)| tests.check(sample).err().map(|failure| (index, failure)))
    }

    #[test]
    fn a_stuck_source_fails_the_repetition_test_at_the_cutoff() {
        let samples = good_samples(100).chain(core::iter::repeat_n(7, 40));
        let (index, failure) = first_failure(samples).expect("a stuck source must fail");
        assert_eq!(failure, HealthFailure::Repetition);
        assert!(
            (100 + 29..100 + 31).contains(&index),
            "failed at sample {index}"
        );
    }

    #[test]
    fn thirty_repeats_pass() {
        let samples = core::iter::repeat_n(7, 30).chain(good_samples(100));
        assert_eq!(first_failure(samples), None);
    }

    /// Seven tenths of the samples are one value, at random places: runs
    /// stay short and no lag predicts well, only the proportion is off.
    #[test]
    fn a_biased_source_fails_the_proportion_test() {
        let samples = good_samples(3000).map(|noise| if noise < 11 { 5 } else { 1000 + noise });
        let samples = core::iter::once(5).chain(samples);
        let (index, failure) = first_failure(samples).expect("a biased source must fail");
        assert_eq!(failure, HealthFailure::Proportion);
        assert!(index < 512, "failed only at sample {index}");
    }

    #[test]
    fn periodic_sources_fail_the_lag_test() {
        for period in [2, 3, 5, 8] {
            let samples = (0..2000).map(|index| 40 + index % period);
            let (index, failure) = first_failure(samples).expect("a periodic source must fail");
            assert_eq!(failure, HealthFailure::Lag, "period {period}");
            assert!(index < 512, "period {period} failed only at sample {index}");
        }
    }

    /// 4 bits per sample, far above the claimed 1 bit: no false alarm in a
    /// million samples (expected false alarms: 2^-10).
    #[test]
    fn a_good_source_passes() {
        assert_eq!(first_failure(good_samples(1_000_000)), None);
    }

    #[test]
    fn cutoffs_follow_sp800_90b_formulas() {
        let alpha = 2f64.powi(-ALPHA_EXPONENT);
        let repetition = 1 + (f64::from(ALPHA_EXPONENT) / CLAIMED_BITS).ceil() as u32;
        assert_eq!(repetition, REPETITION_CUTOFF);
        let proportion = 1 + critical_binomial(WINDOW, 2f64.powf(-CLAIMED_BITS), 1.0 - alpha);
        assert_eq!(proportion, PROPORTION_CUTOFF);
    }

    /// Excel's CRITBINOM(trials, p, target): the smallest k whose
    /// cumulative binomial probability reaches `target`. Sums the upper
    /// tail instead, to keep precision near 1 - 2^-30.
    fn critical_binomial(trials: u32, p: f64, target: f64) -> u32 {
        let log_pmf = |k: u32| {
            let log_choose: f64 = (0..k)
                .map(|i| f64::from(trials - i).ln() - f64::from(i + 1).ln())
                .sum();
            log_choose + f64::from(k) * p.ln() + f64::from(trials - k) * (1.0 - p).ln()
        };
        let mut tail = 0.0;
        for k in (0..=trials).rev() {
            let next_tail = tail + log_pmf(k).exp();
            if next_tail > 1.0 - target {
                return k;
            }
            tail = next_tail;
        }
        0
    }
}
