//! Time: TSC calibration, the monotonic clock and the wakeup timer.
//!
//! Boot calls `begin_calibration` early and `finish_calibration` after
//! other boot work, so the calibration window overlaps that work (see
//! `calibration.rs`). From then on `monotonic_ns` counts nanoseconds since
//! kernel entry (the TSC read by the first instruction), and `set_wakeup`
//! arms a one-shot interrupt whose only effect is to end
//! `cpu::halt_until_interrupt`. With an HPET the rate is refined over a
//! growing baseline (`refine`), which `set_wakeup` also triggers when due:
//! the clock bends, never jumps. Tick arithmetic (`scale`) is pure and
//! tested on the host.

#[cfg(target_os = "none")]
pub mod calibration;
#[cfg(target_os = "none")]
mod clock;
#[cfg(target_os = "none")]
mod control;
#[cfg(target_os = "none")]
pub mod hpet;
#[cfg(target_os = "none")]
pub mod pit;
#[cfg(target_os = "none")]
mod refine;
#[cfg(target_os = "none")]
mod sample;
pub mod scale;
#[cfg(target_os = "none")]
mod wakeup;

#[cfg(target_os = "none")]
pub use calibration::{Calibration, Reference, Window};
#[cfg(target_os = "none")]
pub use clock::{monotonic_ns, ns_at_tsc};
#[cfg(target_os = "none")]
pub use control::{
    TimerError, begin_calibration, calibration, finish_calibration, set_wakeup, tsc_hz,
    wakeup_vector,
};
#[cfg(target_os = "none")]
pub use refine::refine;

/// Default calibration window.
pub const DEFAULT_WINDOW_NS: u64 = 250_000;
