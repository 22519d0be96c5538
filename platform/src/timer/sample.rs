//! Bracketed samples of a reference counter against the TSC.
//!
//! A sample reads the reference between two TSC reads; its TSC value is the
//! midpoint and its spread half the bracket. Every sample is the best (the
//! narrowest) of three tries: the first try may run cold code, which an
//! emulator translates first (measured ~3 µs per basic block under TCG),
//! and an emulator may be descheduled during any one try. The PIT is
//! sampled on a tick edge instead, since its ticks (838 ns) are longer than
//! a read.

use super::{TimerError, pit};
use crate::cpu::rdtsc_ordered;

#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    /// Midpoint of the bracket.
    pub tsc: u64,
    /// Half the bracket width.
    pub spread: u64,
    /// The reference (or APIC count) read inside the bracket.
    pub value: u64,
}

/// Reads the counter between two TSC reads; of three tries keeps the one
/// with the narrowest bracket. All tries run the same instructions (the
/// reader is called through `dyn`, never inlined three times), so at least
/// the later ones are warm.
#[inline(never)]
pub(super) fn bracket(read: &dyn Fn() -> u64) -> Sample {
    let mut best = Sample {
        tsc: 0,
        spread: u64::MAX,
        value: 0,
    };
    for _ in 0..3 {
        let before = rdtsc_ordered();
        let value = read();
        let after = rdtsc_ordered();
        let spread = (after - before) / 2;
        if spread < best.spread {
            best = Sample {
                tsc: before + spread,
                spread,
                value,
            };
        }
    }
    best
}

/// One read of the PIT between two TSC reads.
fn pit_read() -> Sample {
    let before = rdtsc_ordered();
    let value = u64::from(pit::channel2_count());
    let after = rdtsc_ordered();
    Sample {
        tsc: before + (after - before) / 2,
        spread: (after - before) / 2,
        value,
    }
}

/// Samples a PIT tick edge three times and keeps the narrowest (the
/// first try runs cold code).
pub(super) fn pit_edge() -> Result<Sample, TimerError> {
    let mut best: Option<Sample> = None;
    for _ in 0..3 {
        let edge = pit_edge_once()?;
        if best.is_none_or(|best| edge.spread < best.spread) {
            best = Some(edge);
        }
    }
    best.ok_or(TimerError::ReferenceStopped)
}

/// Waits for the PIT count to change and samples that edge: it happened
/// between the previous latch and this one.
fn pit_edge_once() -> Result<Sample, TimerError> {
    let mut previous = pit_read();
    for _ in 0..1000 {
        let current = pit_read();
        if current.value != previous.value {
            let earliest = previous.tsc - previous.spread;
            let latest = current.tsc + current.spread;
            let spread = (latest - earliest) / 2;
            return Ok(Sample {
                tsc: earliest + spread,
                spread,
                value: current.value,
            });
        }
        previous = current;
    }
    Err(TimerError::ReferenceStopped)
}
