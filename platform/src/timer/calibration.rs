//! TSC and local APIC timer calibration over a short window.
//!
//! [`begin`] takes a sample (TSC, reference) and [`Window::finish`] a second
//! one once the reference advanced by the requested window; the ratio gives
//! the TSC rate. Other boot work may run in between, so the window costs
//! only what is left of it. Each TSC read brackets one reference read; the
//! bracket widths bound the error. The PIT (838 ns ticks) is read on a tick
//! edge. The local APIC timer runs free during the window and is measured
//! against the TSC the same way. A PIT window is restarted at the end and
//! waited out in full, since the PIT wraps every 55 ms (see
//! [`Window::finish`]). References, best first: an exact CPUID
//! statement, the HPET, the APIC timer itself at the 1 GHz that QEMU and KVM
//! emulate (only when CPUID names one of them; 1 ns resolution, one MMIO
//! read), PIT channel 2 (838 ns ticks, three port accesses per read).

use super::sample::{Sample, bracket, pit_edge};
use super::{TimerError, hpet, pit, scale};
use crate::cpu::{self, rdtsc_ordered};
use crate::interrupts::local_apic;

/// Identical reference readings in a row after which it counts as stopped.
const STALLED_READS: u32 = 100_000;
/// TSC ticks per window nanosecond after which an erratic reference that
/// still moves counts as stopped: no TSC runs at 100 GHz, so a working
/// reference completes the window long before.
const GIVE_UP_TICKS_PER_NS: u64 = 100;

/// What the TSC was measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// CPUID stated the frequency (leaf 0x15 or 0x4000_0010): no window.
    Cpuid,
    /// The HPET main counter (period stated by the HPET).
    Hpet,
    /// PIT channel 2 at 1.193182 MHz.
    Pit,
    /// The local APIC timer, assumed 1 GHz (QEMU TCG or KVM only).
    ApicTimer,
}

/// The outcome of a calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// What the TSC was compared with.
    pub reference: Reference,
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// Local APIC timer ticks per second (divide-by-1), if there is one.
    pub apic_timer_hz: Option<u64>,
    /// The APIC timer rate as measured against the TSC, before any
    /// exact value (CPUID, QEMU's 1 GHz) replaced it.
    pub apic_timer_measured_hz: Option<u64>,
    /// Length of the window, in TSC ticks.
    pub window_ticks: u64,
    /// Error bound from the sample brackets, in parts per million.
    pub uncertainty_ppm: u64,
    /// TSC ticks spent inside [`begin`] and [`Window::finish`] themselves.
    pub busy_ticks: u64,
}

/// A calibration in progress.
#[derive(Debug)]
pub struct Window {
    reference: Reference,
    window_ns: u64,
    start: Sample,
    apic_start: Option<Sample>,
    busy_ticks: u64,
}

/// Starts a calibration against the best reference available.
///
/// # Errors
/// [`TimerError::NoReference`] if none answers.
pub fn begin(window_ns: u64) -> Result<Window, TimerError> {
    let features = cpu::features();
    let apic_1ghz = features
        .hypervisor
        .is_some_and(|hypervisor| hypervisor.apic_timer_is_1ghz());
    let candidates = [
        (Reference::Cpuid, features.stated_tsc_hz.is_some()),
        (Reference::Hpet, true),
        (Reference::ApicTimer, apic_1ghz),
        (Reference::Pit, true),
    ];
    candidates
        .into_iter()
        .filter(|(_, allowed)| *allowed)
        .find_map(|(reference, _)| begin_with(reference, window_ns).ok())
        .ok_or(TimerError::NoReference)
}

/// Starts a calibration against `reference` over `window_ns`.
///
/// # Errors
/// [`TimerError::NoReference`] if that reference is absent.
pub fn begin_with(reference: Reference, window_ns: u64) -> Result<Window, TimerError> {
    let entered = rdtsc_ordered();
    let apic = local_apic::get();
    match reference {
        Reference::Cpuid if cpu::features().stated_tsc_hz.is_none() => {
            Err(TimerError::NoReference)?
        }
        Reference::Hpet if hpet::get().is_none() => Err(TimerError::NoReference)?,
        Reference::Pit if !pit::start_channel2() => Err(TimerError::NoReference)?,
        Reference::ApicTimer if apic.is_none() => Err(TimerError::NoReference)?,
        _ => {}
    }
    if let Some(apic) = apic {
        apic.start_free_running();
    }
    let apic_start = apic.map(|apic| bracket(&|| u64::from(apic.timer_current())));
    let start = sample(reference)?;
    Ok(Window {
        reference,
        window_ns,
        start,
        apic_start,
        busy_ticks: rdtsc_ordered() - entered,
    })
}

/// One bracketed read of `reference`.
fn sample(reference: Reference) -> Result<Sample, TimerError> {
    match reference {
        Reference::Cpuid => Ok(bracket(&|| 0)),
        Reference::Hpet => {
            let hpet = hpet::get().ok_or(TimerError::NoReference)?;
            Ok(bracket(&|| u64::from(hpet.counter_low())))
        }
        Reference::Pit => pit_edge(),
        Reference::ApicTimer => {
            let apic = local_apic::get().ok_or(TimerError::NoReference)?;
            Ok(bracket(&|| u64::from(apic.timer_current())))
        }
    }
}

impl Window {
    /// The reference being used.
    pub fn reference(&self) -> Reference {
        self.reference
    }

    /// Waits until the window has passed, takes the closing samples and
    /// computes the rates. A window in which a counter may have wrapped
    /// is started afresh and waited out in full.
    ///
    /// # Errors
    /// [`TimerError::ReferenceStopped`] if the reference stops advancing,
    /// or moves too little to complete the window in time.
    pub fn finish(self) -> Result<Calibration, TimerError> {
        if !self.may_have_wrapped() {
            return self.close();
        }
        let mut fresh = begin_with(self.reference, self.window_ns)?;
        fresh.busy_ticks += self.busy_ticks;
        fresh.close()
    }

    /// Whether a counter may have wrapped since [`begin`], which the
    /// readings cannot tell: the PIT wraps every 55 ms, so a PIT window
    /// that spanned other boot work is never trusted; the APIC timer stops
    /// at 0 after 2^32 ticks (4.3 s at 1 GHz).
    fn may_have_wrapped(&self) -> bool {
        self.reference == Reference::Pit
            || local_apic::get().is_some_and(|apic| apic.timer_current() == 0)
    }

    /// Takes the closing samples (waiting out the window) and computes the
    /// rates.
    fn close(self) -> Result<Calibration, TimerError> {
        let entered = rdtsc_ordered();
        let (end, tsc_hz) = match self.reference {
            Reference::Cpuid => self.closing_stated(),
            _ => self.closing_sample()?,
        };
        let apic_end = local_apic::get().map(|apic| bracket(&|| u64::from(apic.timer_current())));
        let busy_ticks = self.busy_ticks + (rdtsc_ordered() - entered);
        let window_ticks = end.tsc.saturating_sub(self.start.tsc);
        let uncertainty_ppm = ppm(self.start.spread + end.spread, window_ticks);
        let measured = self.apic_start.zip(apic_end).and_then(|(start, end)| {
            let counted = start.value.wrapping_sub(end.value) & u64::from(u32::MAX);
            scale::rate(counted, end.tsc.saturating_sub(start.tsc), tsc_hz)
        });
        Ok(Calibration {
            reference: self.reference,
            tsc_hz,
            apic_timer_hz: measured.map(exact_apic_rate),
            apic_timer_measured_hz: measured,
            window_ticks,
            uncertainty_ppm,
            busy_ticks,
        })
    }

    /// With a stated TSC rate, waits out the window only if the APIC timer
    /// still needs measuring.
    fn closing_stated(&self) -> (Sample, u64) {
        let features = cpu::features();
        let hz = features.stated_tsc_hz.unwrap_or(1);
        if self.apic_start.is_some() && features.stated_apic_timer_hz.is_none() {
            let wanted = scale::ticks_in(self.window_ns, hz);
            while rdtsc_ordered().saturating_sub(self.start.tsc) < wanted {
                core::hint::spin_loop();
            }
        }
        (bracket(&|| 0), hz)
    }

    /// Polls the reference until the window is over; returns the closing
    /// sample and the TSC rate.
    fn closing_sample(&self) -> Result<(Sample, u64), TimerError> {
        let reference_hz = reference_hz(self.reference);
        let wanted = scale::ticks_in(self.window_ns, reference_hz).max(2);
        let give_up =
            rdtsc_ordered().saturating_add(self.window_ns.saturating_mul(GIVE_UP_TICKS_PER_NS));
        let mut stalled = 0u32;
        let mut last = self.start.value;
        loop {
            let end = sample(self.reference)?;
            let elapsed = elapsed(self.reference, self.start.value, end.value);
            if elapsed >= wanted {
                let tsc_ticks = end.tsc.saturating_sub(self.start.tsc);
                let hz = scale::rate(tsc_ticks, elapsed, reference_hz);
                return hz.map(|hz| (end, hz)).ok_or(TimerError::ReferenceStopped);
            }
            stalled = if end.value == last { stalled + 1 } else { 0 };
            last = end.value;
            if stalled > STALLED_READS || end.tsc > give_up {
                return Err(TimerError::ReferenceStopped);
            }
        }
    }
}

fn reference_hz(reference: Reference) -> u64 {
    match reference {
        Reference::Cpuid => cpu::features().stated_tsc_hz.unwrap_or(1),
        Reference::Hpet => hpet::get().map_or(1, |hpet| hpet.frequency_hz()),
        Reference::Pit => pit::FREQUENCY_HZ,
        Reference::ApicTimer => 1_000_000_000,
    }
}

/// Ticks between two reference readings, for the counter's width and
/// direction (the PIT and the APIC timer count down).
fn elapsed(reference: Reference, start: u64, end: u64) -> u64 {
    match reference {
        Reference::Cpuid => 0,
        Reference::Hpet => end.wrapping_sub(start) & u64::from(u32::MAX),
        Reference::Pit => start.wrapping_sub(end) & u64::from(u16::MAX),
        Reference::ApicTimer => start.wrapping_sub(end) & u64::from(u32::MAX),
    }
}

/// Replaces a measured APIC timer rate by the exact one when known: CPUID's
/// crystal, or 1 GHz under QEMU/KVM if the measurement agrees within 2 %.
fn exact_apic_rate(measured: u64) -> u64 {
    let features = cpu::features();
    if let Some(stated) = features.stated_apic_timer_hz {
        return stated;
    }
    let emulated = features
        .hypervisor
        .is_some_and(|hypervisor| hypervisor.apic_timer_is_1ghz());
    if emulated && measured.abs_diff(1_000_000_000) < 20_000_000 {
        1_000_000_000
    } else {
        measured
    }
}

pub(super) fn ppm(error: u64, total: u64) -> u64 {
    error
        .saturating_mul(1_000_000)
        .checked_div(total)
        .unwrap_or(u64::MAX)
}
