//! Clock hypercalls: monotonic time since the instance began, wall time.
//!
//! The monotonic clock is `Instant` relative to the moment
//! [`crate::Posix::new`] ran, so each hosted kernel starts at 0 like a
//! freshly booted machine. Condvar deadlines are read against the same
//! origin ([`MonotonicClock`] is `Copy` and handed to each condvar).
//! `clock_sleep_until` is the host's one legitimate sleep.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hypercall::Clock;

use crate::Posix;

/// Nanoseconds since a fixed origin.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock that reads 0 now.
    pub(crate) fn start() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    /// Nanoseconds since the origin (saturating after 584 years).
    pub(crate) fn now_ns(self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// How long until the clock reads `deadline_ns`; `None` once it does.
    pub(crate) fn remaining(self, deadline_ns: u64) -> Option<Duration> {
        let now = self.now_ns();
        (now < deadline_ns).then(|| Duration::from_nanos(deadline_ns - now))
    }

    /// Sleeps until the clock reads at least `deadline_ns`. `sleep` may
    /// return early (signals), so this loops.
    pub(crate) fn sleep_until(self, deadline_ns: u64) {
        while let Some(remaining) = self.remaining(deadline_ns) {
            std::thread::sleep(remaining);
        }
    }
}

/// Nanoseconds since 1970 by the host's real-time clock; 0 if the host
/// clock is set before 1970, saturating far in the future.
fn wall_ns() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}

impl Clock for Posix {
    fn clock_monotonic_ns(&self) -> u64 {
        self.clock.now_ns()
    }

    fn clock_wall_ns(&self) -> u64 {
        wall_ns()
    }

    fn clock_sleep_until(&self, deadline_ns: u64) {
        self.clock.sleep_until(deadline_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PosixConfig;

    #[test]
    fn monotonic_starts_near_zero_and_never_goes_back() {
        let posix = Posix::new(PosixConfig::default());
        let first = posix.clock_monotonic_ns();
        assert!(first < 5_000_000_000, "a fresh instance reads {first} ns");
        let mut previous = first;
        for _ in 0..1000 {
            let now = posix.clock_monotonic_ns();
            assert!(now >= previous);
            previous = now;
        }
    }

    #[test]
    fn sleep_until_reaches_the_deadline() {
        let posix = Posix::new(PosixConfig::default());
        let deadline = posix.clock_monotonic_ns() + 20_000_000;
        posix.clock_sleep_until(deadline);
        assert!(posix.clock_monotonic_ns() >= deadline);
        let before = Instant::now();
        posix.clock_sleep_until(0);
        assert!(
            before.elapsed() < Duration::from_secs(1),
            "a past deadline returns at once"
        );
    }

    #[test]
    fn wall_clock_is_after_2024() {
        const JANUARY_2024_NS: u64 = 1_704_067_200 * 1_000_000_000;
        let posix = Posix::new(PosixConfig::default());
        assert!(posix.clock_wall_ns() > JANUARY_2024_NS);
    }

    #[test]
    fn remaining_is_none_at_and_after_the_deadline() {
        let clock = MonotonicClock::start();
        assert_eq!(clock.remaining(0), None);
        let far = clock.remaining(u64::MAX).expect("far future");
        assert!(far > Duration::from_secs(100 * 365 * 24 * 3600));
    }
}
