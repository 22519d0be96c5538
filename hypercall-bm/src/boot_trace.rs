//! The boot trace on request: `boot.trace` on the command line prints the
//! platform's boot-phase marks (`platform::boot::trace`) at each idle.
//!
//! Marks are taken whether or not the trace was asked for (a TSC read and a
//! store each); only the printing is optional, and it happens when the
//! machine goes idle, after the ready line, so it delays nothing it
//! measures.

use core::sync::atomic::{AtomicBool, Ordering};

use platform::boot::trace;
use platform::{println, timer};

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Whether the calibration line was printed.
static CALIBRATION_SHOWN: AtomicBool = AtomicBool::new(false);

/// Reads the request from the command line (once, at start).
pub(crate) fn configure(command_line: &str) {
    REQUESTED.store(trace::requested(command_line), Ordering::Relaxed);
}

/// Records that `phase` ended now.
pub(crate) fn mark(phase: &'static str) {
    trace::mark(phase);
}

/// Prints new marks if the trace was asked for (called when idling).
pub(crate) fn print_if_requested() {
    if !REQUESTED.load(Ordering::Relaxed) {
        return;
    }
    trace::print_new();
    if let Some(calibration) = timer::calibration()
        && !CALIBRATION_SHOWN.swap(true, Ordering::Relaxed)
    {
        let hz = calibration.tsc_hz;
        println!(
            "boot trace: TSC {hz} Hz against {:?}, window {} us, ±{} ppm",
            calibration.reference,
            timer::scale::ns_in(calibration.window_ticks, hz) / 1000,
            calibration.uncertainty_ppm
        );
    }
}
