//! Calibration hand-off, clock start and the wakeup timer entry points.

use core::fmt;

use spin::Once;

use super::{Calibration, Window, calibration as window, clock, refine, scale, wakeup};
use crate::interrupts::{InterruptError, Vector};

/// Why the timer could not be set up or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerError {
    /// No reference to calibrate against (no CPUID statement, HPET, PIT,
    /// or APIC timer of known rate).
    NoReference,
    /// The reference stopped advancing during calibration.
    ReferenceStopped,
    /// The clock has not been calibrated yet.
    NotCalibrated,
    /// No timer can raise the wakeup interrupt.
    NoWakeupDevice,
    /// Installing the wakeup interrupt failed.
    Interrupt(InterruptError),
}

impl fmt::Display for TimerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoReference => f.write_str("no calibration reference (CPUID, HPET, PIT, APIC)"),
            Self::ReferenceStopped => f.write_str("calibration reference stopped advancing"),
            Self::NotCalibrated => f.write_str("timer not calibrated"),
            Self::NoWakeupDevice => f.write_str("no timer can raise the wakeup interrupt"),
            Self::Interrupt(error) => write!(f, "wakeup interrupt: {error}"),
        }
    }
}

impl core::error::Error for TimerError {}

static CALIBRATION: Once<Calibration> = Once::new();

/// Starts calibrating against the best reference, over `window_ns`.
///
/// # Errors
/// [`TimerError::NoReference`].
pub fn begin_calibration(window_ns: u64) -> Result<Window, TimerError> {
    window::begin(window_ns)
}

/// Completes `window`, starts the monotonic clock at `entry_tsc` (0 ns)
/// and sets up the wakeup timer. Runs once: later calls return the first
/// calibration. Interrupts must have been initialised.
///
/// # Errors
/// [`TimerError::ReferenceStopped`], or a wakeup-timer error (the clock
/// then works, the wakeup timer does not).
pub fn finish_calibration(window: Window, entry_tsc: u64) -> Result<Calibration, TimerError> {
    if let Some(done) = CALIBRATION.get() {
        return Ok(*done);
    }
    let result = window.finish()?;
    clock::set_scale(scale::Scale::new(entry_tsc, result.tsc_hz));
    refine::anchor(result.tsc_hz, result.uncertainty_ppm);
    let calibration = *CALIBRATION.call_once(|| result);
    wakeup::setup(calibration.apic_timer_hz)?;
    Ok(calibration)
}

/// The boot calibration, once finished.
pub fn calibration() -> Option<Calibration> {
    CALIBRATION.get().copied()
}

/// The TSC rate the clock uses now (after refinements).
pub fn tsc_hz() -> Option<u64> {
    CALIBRATION.get().map(|_| clock::scale().frequency_hz())
}

/// Arms the wakeup interrupt for monotonic time `deadline_ns` (at once if
/// it has passed), or disarms it (`None`). It may fire early (counter
/// range) and ends any `hlt`; callers re-check their deadline.
///
/// # Errors
/// [`TimerError::NotCalibrated`] before [`finish_calibration`].
pub fn set_wakeup(deadline_ns: Option<u64>) -> Result<(), TimerError> {
    refine::refine_if_due();
    wakeup::set(deadline_ns)
}

/// The wakeup interrupt's vector (for its delivery count), once set up.
pub fn wakeup_vector() -> Option<Vector> {
    wakeup::vector()
}
