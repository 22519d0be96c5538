//! Refining the TSC rate over a growing baseline against the HPET.
//!
//! The boot window is short, so its estimate carries the read jitter of two
//! samples. [`anchor`] records a (TSC, HPET) sample right after boot
//! calibration; each later [`refine`] whose baseline is at least twice the
//! previous one measures the rate over the whole baseline and, if its error
//! bound beats the current one, rebases the clock there (continuous, no
//! jump). The bound shrinks in proportion to the baseline. A 32-bit HPET
//! stops refining before its counter could wrap. Without an HPET nothing is
//! refined: the boot estimate stays (see the report for its error).

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use super::sample::{Sample, bracket};
use super::{clock, hpet, scale};
use crate::cpu;

/// Refine first after this long.
const FIRST_BASELINE_NS: u64 = 20_000_000;
/// Stop before a 32-bit counter reaches half its range.
const HALF_32_BIT: u64 = 1 << 31;

#[derive(Debug, Clone, Copy)]
struct State {
    anchor: Sample,
    /// Error bound of the rate in use, in parts per billion.
    uncertainty_ppb: u64,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
/// TSC value from which the next refinement is due (u64::MAX: never).
static NEXT_DUE: AtomicU64 = AtomicU64::new(u64::MAX);

fn sample(hpet: &hpet::Hpet) -> Sample {
    bracket(&|| hpet.counter())
}

/// Starts the baseline now, if there is an HPET; `uncertainty_ppm` is the
/// error bound of the boot calibration.
pub fn anchor(tsc_hz: u64, uncertainty_ppm: u64) {
    let Some(hpet) = hpet::get() else { return };
    let anchor = sample(hpet);
    let uncertainty_ppb = uncertainty_ppm.saturating_mul(1000);
    cpu::without_interrupts(|| {
        *STATE.lock() = Some(State {
            anchor,
            uncertainty_ppb,
        })
    });
    let first = scale::ticks_in(FIRST_BASELINE_NS, tsc_hz);
    NEXT_DUE.store(anchor.tsc.saturating_add(first), Ordering::Relaxed);
}

/// Refines if due (cheap otherwise: one TSC read and a compare). Returns
/// the new TSC rate when it refined.
pub fn refine_if_due() -> Option<u64> {
    if cpu::rdtsc() < NEXT_DUE.load(Ordering::Relaxed) {
        return None;
    }
    refine()
}

/// Measures the TSC rate over the whole baseline and rebases the clock if
/// that is more precise than the rate in use. `None` if nothing changed:
/// no HPET, no better bound, or a 32-bit HPET's range is used up.
pub fn refine() -> Option<u64> {
    let hpet = hpet::get()?;
    cpu::without_interrupts(|| {
        let mut guard = STATE.lock();
        let state = guard.as_mut()?;
        let now = sample(hpet);
        let counted = now.value.wrapping_sub(state.anchor.value);
        if !hpet.is_64_bit() && counted >= HALF_32_BIT {
            NEXT_DUE.store(u64::MAX, Ordering::Relaxed);
            return None;
        }
        let baseline = now.tsc.saturating_sub(state.anchor.tsc);
        NEXT_DUE.store(now.tsc.saturating_add(baseline.max(1)), Ordering::Relaxed);
        let uncertainty_ppb = ppb(state.anchor.spread + now.spread, baseline);
        if uncertainty_ppb >= state.uncertainty_ppb {
            return None;
        }
        let hz = scale::rate(baseline, counted, hpet.frequency_hz())?;
        clock::set_scale(clock::scale().rebased(now.tsc, hz));
        state.uncertainty_ppb = uncertainty_ppb;
        Some(hz)
    })
}

fn ppb(error: u64, total: u64) -> u64 {
    error
        .saturating_mul(1_000_000_000)
        .checked_div(total)
        .unwrap_or(u64::MAX)
}
