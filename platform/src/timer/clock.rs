//! The monotonic clock: the TSC through a [`Scale`] kept under a seqlock.
//!
//! Readers never block and never see a half-written scale; the writer
//! (calibration, rebasing) runs with interrupts disabled and is never an
//! interrupt handler, so on one CPU a reader cannot spin on a writer it
//! interrupted. A last-value floor makes the result monotonic even if a
//! rebase or another CPU's TSC would otherwise step it back by a few ns.

use core::sync::atomic::{AtomicU64, Ordering, fence};

use super::scale::Scale;
use crate::cpu;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static TSC_BASE: AtomicU64 = AtomicU64::new(0);
static NS_BASE: AtomicU64 = AtomicU64::new(0);
/// 0 until the first calibration: the clock then reads 0.
static MULTIPLIER: AtomicU64 = AtomicU64::new(0);
static FLOOR: AtomicU64 = AtomicU64::new(0);

/// The current scale (multiplier 0 before calibration).
pub fn scale() -> Scale {
    loop {
        let sequence = SEQUENCE.load(Ordering::Acquire);
        if sequence & 1 == 0 {
            let scale = Scale {
                tsc_base: TSC_BASE.load(Ordering::Relaxed),
                ns_base: NS_BASE.load(Ordering::Relaxed),
                multiplier: MULTIPLIER.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            if SEQUENCE.load(Ordering::Relaxed) == sequence {
                return scale;
            }
        }
        core::hint::spin_loop();
    }
}

/// Installs `scale` (calibration or rebase).
pub fn set_scale(scale: Scale) {
    cpu::without_interrupts(|| {
        SEQUENCE.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        TSC_BASE.store(scale.tsc_base, Ordering::Relaxed);
        NS_BASE.store(scale.ns_base, Ordering::Relaxed);
        MULTIPLIER.store(scale.multiplier, Ordering::Relaxed);
        SEQUENCE.fetch_add(1, Ordering::Release);
    });
}

/// Nanoseconds since kernel entry; 0 before the timer is calibrated.
/// Never goes backwards, never blocks.
pub fn monotonic_ns() -> u64 {
    let now = scale().ns_at(cpu::rdtsc());
    let floor = FLOOR.fetch_max(now, Ordering::Relaxed);
    now.max(floor)
}

/// Nanoseconds since kernel entry at TSC value `tsc` (no floor applied).
pub fn ns_at_tsc(tsc: u64) -> u64 {
    scale().ns_at(tsc)
}
