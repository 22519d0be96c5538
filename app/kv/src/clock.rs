//! Time as the caller reads it, and memcached's rules for expiry times.
//!
//! The store reads no clock of its own: every operation is handed a
//! [`Clock`] with two readings. The monotonic one orders expiry (it never
//! jumps); the time of day only converts absolute expiry times, the unix
//! timestamps a client may send in place of a number of seconds.

/// Two clock readings taken by the caller for one operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Nanoseconds on a clock that never goes back (since boot, say).
    pub monotonic_nanoseconds: u64,
    /// Nanoseconds since 1970-01-01 UTC: the time of day.
    pub unix_nanoseconds: u64,
}

impl Clock {
    /// A clock reading from its two parts.
    pub const fn new(monotonic_nanoseconds: u64, unix_nanoseconds: u64) -> Clock {
        Clock {
            monotonic_nanoseconds,
            unix_nanoseconds,
        }
    }

    /// This reading moved `seconds` later on both clocks (tests, benches).
    pub const fn plus_seconds(self, seconds: u64) -> Clock {
        let nanoseconds = seconds.saturating_mul(NANOSECONDS_PER_SECOND);
        Clock {
            monotonic_nanoseconds: self.monotonic_nanoseconds.saturating_add(nanoseconds),
            unix_nanoseconds: self.unix_nanoseconds.saturating_add(nanoseconds),
        }
    }

    /// Whole seconds since 1970, as `stats` reports `time`.
    pub const fn unix_seconds(self) -> u64 {
        self.unix_nanoseconds / NANOSECONDS_PER_SECOND
    }
}

const NANOSECONDS_PER_SECOND: u64 = 1_000_000_000;

/// memcached's `REALTIME_MAXDELTA`: an exptime above 30 days is a unix time.
pub const RELATIVE_EXPTIME_LIMIT: i64 = 30 * 24 * 60 * 60;

/// The monotonic instant at which an item stops being visible.
///
/// Invariant: an item is expired at `now` iff `deadline <= now`; `NEVER`
/// is `u64::MAX`, which no clock reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deadline(u64);

impl Deadline {
    pub(crate) const NEVER: Deadline = Deadline(u64::MAX);
    const PASSED: Deadline = Deadline(0);

    /// memcached's `realtime(EXPTIME_TO_POSITIVE_TIME(exptime))`: zero never
    /// expires, a negative time has expired already, up to 30 days is
    /// relative to now, beyond that an absolute unix time in seconds.
    pub(crate) fn from_exptime(exptime: i64, now: Clock) -> Deadline {
        let seconds = exptime.unsigned_abs();
        let nanoseconds = seconds.saturating_mul(NANOSECONDS_PER_SECOND);
        match exptime {
            0 => Deadline::NEVER,
            ..0 => Deadline::PASSED,
            1..=RELATIVE_EXPTIME_LIMIT => now.after(nanoseconds),
            _ => match nanoseconds.checked_sub(now.unix_nanoseconds) {
                None | Some(0) => Deadline::PASSED,
                Some(remaining) => now.after(remaining),
            },
        }
    }

    /// Whether the instant has come at `now`.
    pub(crate) fn has_passed(self, now: Clock) -> bool {
        self.0 <= now.monotonic_nanoseconds
    }
}

impl Clock {
    fn after(self, nanoseconds: u64) -> Deadline {
        Deadline(self.monotonic_nanoseconds.saturating_add(nanoseconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Clock = Clock::new(5_000_000_000, 1_700_000_000_000_000_000);

    #[test]
    fn zero_never_expires_and_negative_has_expired() {
        assert_eq!(Deadline::from_exptime(0, NOW), Deadline::NEVER);
        assert!(!Deadline::NEVER.has_passed(NOW.plus_seconds(1 << 30)));
        assert!(Deadline::from_exptime(-1, NOW).has_passed(NOW));
        assert!(Deadline::from_exptime(i64::MIN, NOW).has_passed(NOW));
    }

    #[test]
    fn relative_up_to_thirty_days() {
        let deadline = Deadline::from_exptime(10, NOW);
        assert!(!deadline.has_passed(NOW.plus_seconds(9)));
        assert!(deadline.has_passed(NOW.plus_seconds(10)));
        let month = Deadline::from_exptime(RELATIVE_EXPTIME_LIMIT, NOW);
        assert!(!month.has_passed(NOW.plus_seconds(2_591_999)));
    }

    #[test]
    fn absolute_beyond_thirty_days() {
        let in_a_minute = (NOW.unix_seconds() + 60) as i64;
        let deadline = Deadline::from_exptime(in_a_minute, NOW);
        assert!(!deadline.has_passed(NOW.plus_seconds(59)));
        assert!(deadline.has_passed(NOW.plus_seconds(60)));
        let past = RELATIVE_EXPTIME_LIMIT + 1;
        assert!(Deadline::from_exptime(past, NOW).has_passed(NOW));
    }
}
