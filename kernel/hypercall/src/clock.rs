//! Clock hypercalls: monotonic and wall-clock time, and sleeping.
//!
//! Time crosses the interface as `u64` nanoseconds. The monotonic clock is
//! the kernel's only time base for timers and deadlines.

/// Clock hypercalls.
pub trait Clock {
    /// Nanoseconds since an arbitrary origin fixed at host start (boot on
    /// bare metal). Never goes backwards, never blocks.
    fn clock_monotonic_ns(&self) -> u64;

    /// Nanoseconds since 1970-01-01 00:00 UTC, as well as the host knows
    /// (the real-time clock on bare metal). May jump. Never blocks.
    fn clock_wall_ns(&self) -> u64;

    /// Sleeps until the monotonic clock reads at least `deadline_ns`;
    /// returns at once if it already does. *May block.*
    fn clock_sleep_until(&self, deadline_ns: u64);
}
