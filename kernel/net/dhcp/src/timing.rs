//! Retransmission timing: RFC 2131 §4.1 backoff and §4.4.5 retry spacing.
//!
//! All times are monotonic nanoseconds; every sum saturates so a lease or
//! a clock near `u64::MAX` cannot overflow.

use crate::random::SECOND_NS;

/// The first DISCOVER/REQUEST retransmission waits this long (RFC 2131 §4.1).
pub const BACKOFF_FIRST_NS: u64 = 4 * SECOND_NS;
/// The backoff doubles up to this cap.
pub const BACKOFF_CAP_NS: u64 = 64 * SECOND_NS;
/// RENEWING and REBINDING never retry sooner than this (RFC 2131 §4.4.5).
pub const RENEW_RETRY_MINIMUM_NS: u64 = 60 * SECOND_NS;

/// The wait after the `attempt`-th transmission (1-based): 4, 8, 16, 32,
/// then 64 s for ever, shifted by `jitter_ns` (at most a second either way).
pub fn backoff_ns(attempt: u32, jitter_ns: i64) -> u64 {
    let doublings = attempt.saturating_sub(1).min(4);
    let base = (BACKOFF_FIRST_NS << doublings).min(BACKOFF_CAP_NS);
    base.saturating_add_signed(jitter_ns)
}

/// When to retry a renewal sent at `now_ns`: half the time left until
/// `deadline_ns` (T2 or expiry), but at least a minute.
pub fn renew_retry_at(now_ns: u64, deadline_ns: u64) -> u64 {
    let half_remaining = deadline_ns.saturating_sub(now_ns) / 2;
    now_ns.saturating_add(half_remaining.max(RENEW_RETRY_MINIMUM_NS))
}

/// `seconds` as nanoseconds; a `u32` of seconds always fits in a `u64`.
pub fn seconds_ns(seconds: u32) -> u64 {
    u64::from(seconds) * SECOND_NS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_four_seconds_and_caps_at_sixty_four() {
        let waits: [u64; 7] = core::array::from_fn(|index| backoff_ns(index as u32 + 1, 0));
        let seconds = waits.map(|wait| wait / SECOND_NS);
        assert_eq!(seconds, [4, 8, 16, 32, 64, 64, 64]);
        assert_eq!(backoff_ns(u32::MAX, 0), BACKOFF_CAP_NS);
    }

    #[test]
    fn jitter_shifts_the_backoff_both_ways() {
        assert_eq!(backoff_ns(1, -(SECOND_NS as i64)), 3 * SECOND_NS);
        assert_eq!(backoff_ns(2, SECOND_NS as i64), 9 * SECOND_NS);
    }

    #[test]
    fn renew_retry_is_half_the_remaining_time_but_at_least_a_minute() {
        let now = 1_000 * SECOND_NS;
        assert_eq!(
            renew_retry_at(now, now + 1_000 * SECOND_NS),
            now + 500 * SECOND_NS
        );
        assert_eq!(
            renew_retry_at(now, now + 100 * SECOND_NS),
            now + 60 * SECOND_NS
        );
        assert_eq!(renew_retry_at(now, now / 2), now + 60 * SECOND_NS);
        assert_eq!(renew_retry_at(u64::MAX - 1, u64::MAX), u64::MAX);
    }
}
