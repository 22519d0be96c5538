//! Tick ↔ nanosecond arithmetic for the TSC clock and the timers (pure).
//!
//! A [`Scale`] maps a TSC value to nanoseconds as `ns_base + (tsc -
//! tsc_base) × multiplier / 2^32`; values before `tsc_base` extrapolate
//! backwards. Rebasing at TSC `t` with a new rate keeps `ns(t)` unchanged,
//! so a better frequency estimate bends the clock without a jump.

const NANOS_PER_SECOND: u128 = 1_000_000_000;
const FRACTION_BITS: u32 = 32;

/// A linear map from TSC ticks to nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// The TSC value where the line is anchored.
    pub tsc_base: u64,
    /// Nanoseconds at `tsc_base`.
    pub ns_base: u64,
    /// Nanoseconds per tick, in units of 2^-32 ns.
    pub multiplier: u64,
}

impl Scale {
    /// The scale of a `tsc_hz` counter reading 0 ns at `tsc_base`.
    /// `tsc_hz` must be at least 1 (0 is treated as 1).
    pub fn new(tsc_base: u64, tsc_hz: u64) -> Self {
        Self {
            tsc_base,
            ns_base: 0,
            multiplier: multiplier_for(tsc_hz),
        }
    }

    /// Nanoseconds at `tsc` (saturating at 0 and `u64::MAX`).
    pub fn ns_at(&self, tsc: u64) -> u64 {
        if tsc >= self.tsc_base {
            let elapsed = scaled(tsc - self.tsc_base, self.multiplier);
            self.ns_base.saturating_add(elapsed)
        } else {
            let before = scaled(self.tsc_base - tsc, self.multiplier);
            self.ns_base.saturating_sub(before)
        }
    }

    /// The same clock from `tsc` on, running at `tsc_hz` instead.
    pub fn rebased(&self, tsc: u64, tsc_hz: u64) -> Self {
        Self {
            tsc_base: tsc,
            ns_base: self.ns_at(tsc),
            multiplier: multiplier_for(tsc_hz),
        }
    }

    /// The TSC frequency this scale implies, in Hz (rounded).
    pub fn frequency_hz(&self) -> u64 {
        let hz = (NANOS_PER_SECOND << FRACTION_BITS) / u128::from(self.multiplier.max(1));
        u64::try_from(hz).unwrap_or(u64::MAX)
    }
}

fn multiplier_for(tsc_hz: u64) -> u64 {
    let multiplier = (NANOS_PER_SECOND << FRACTION_BITS) / u128::from(tsc_hz.max(1));
    u64::try_from(multiplier).unwrap_or(u64::MAX)
}

fn scaled(ticks: u64, multiplier: u64) -> u64 {
    let ns = (u128::from(ticks) * u128::from(multiplier)) >> FRACTION_BITS;
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// Ticks of a `hz` clock in `ns` nanoseconds, rounded up (so a timer
/// armed with it never fires early), saturating at `u64::MAX`.
pub fn ticks_in(ns: u64, hz: u64) -> u64 {
    let ticks = (u128::from(ns) * u128::from(hz)).div_ceil(NANOS_PER_SECOND);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Nanoseconds in `ticks` of a `hz` clock, rounded down (0 for `hz` 0).
pub fn ns_in(ticks: u64, hz: u64) -> u64 {
    if hz == 0 {
        return 0;
    }
    let ns = u128::from(ticks) * NANOS_PER_SECOND / u128::from(hz);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// The rate of a counter that advanced `ticks` while a `reference_hz`
/// reference advanced `reference_ticks` (`None` if the reference did not
/// move).
pub fn rate(ticks: u64, reference_ticks: u64, reference_hz: u64) -> Option<u64> {
    if reference_ticks == 0 {
        return None;
    }
    let hz = u128::from(ticks) * u128::from(reference_hz) / u128::from(reference_ticks);
    u64::try_from(hz).ok()
}

/// The deadline to arm a one-shot wakeup timer for, now armed for
/// `armed`: `wanted`, unless the armed one comes as early or earlier (it
/// then fires early at worst, and callers re-check their deadlines), and
/// nothing to stop one (it is left to fire).
pub fn deadline_to_arm(armed: Option<u64>, wanted: Option<u64>) -> Option<u64> {
    wanted.filter(|&wanted| armed.is_none_or(|armed| wanted < armed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_is_armed_only_for_an_earlier_deadline() {
        assert_eq!(deadline_to_arm(None, Some(500)), Some(500), "nothing armed");
        assert_eq!(
            deadline_to_arm(Some(1_000), Some(500)),
            Some(500),
            "earlier"
        );
        assert_eq!(
            deadline_to_arm(Some(1_000), Some(1_000)),
            None,
            "armed for it"
        );
        assert_eq!(
            deadline_to_arm(Some(1_000), Some(2_000)),
            None,
            "fires early"
        );
        assert_eq!(deadline_to_arm(Some(1_000), None), None, "left to fire");
        assert_eq!(deadline_to_arm(None, None), None);
    }

    #[test]
    fn one_second_of_ticks_is_one_second() {
        for hz in [1_193_182, 100_000_000, 2_399_987_654, 3_000_000_000] {
            let scale = Scale::new(1000, hz);
            let ns = scale.ns_at(1000 + hz);
            assert!(ns.abs_diff(1_000_000_000) <= 1, "{hz} Hz gave {ns} ns");
            assert!(scale.frequency_hz().abs_diff(hz) <= hz / 1_000_000_000 + 1);
        }
    }

    #[test]
    fn no_overflow_after_a_century_at_5_ghz() {
        let hz = 5_000_000_000u64;
        let ticks = hz * 3600 * 24 * 365 * 100;
        let ns = Scale::new(0, hz).ns_at(ticks);
        let expected = 3600u64 * 24 * 365 * 100 * 1_000_000_000;
        assert!(ns.abs_diff(expected) < expected / 1_000_000_000);
    }

    #[test]
    fn before_base_extrapolates_and_saturates() {
        let scale = Scale {
            tsc_base: 1000,
            ns_base: 500,
            multiplier: 1 << 32,
        };
        assert_eq!(scale.ns_at(900), 400);
        assert_eq!(scale.ns_at(0), 0);
    }

    #[test]
    fn rebasing_keeps_time_continuous_and_changes_the_slope() {
        let slow = Scale::new(0, 1_000_000_000);
        let rebased = slow.rebased(5_000_000_000, 2_000_000_000);
        assert_eq!(rebased.ns_at(5_000_000_000), slow.ns_at(5_000_000_000));
        assert_eq!(rebased.ns_at(7_000_000_000), 6_000_000_000);
        assert!(rebased.ns_at(5_000_000_001) >= slow.ns_at(5_000_000_000));
    }

    #[test]
    fn ticks_round_up_and_ns_round_down() {
        assert_eq!(ticks_in(1, 1_193_182), 1);
        assert_eq!(ticks_in(1_000_000, 1_000_000_000), 1_000_000);
        assert_eq!(ticks_in(838, 1_193_182), 1);
        assert_eq!(ticks_in(0, 1_193_182), 0);
        assert_eq!(ns_in(1, 1_193_182), 838);
        assert_eq!(ns_in(5, 0), 0);
        assert_eq!(ticks_in(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn rate_from_a_reference() {
        assert_eq!(rate(3_000_000, 1_193, 1_193_182), Some(3_000_457_669));
        assert_eq!(rate(3_000_000, 0, 1_193_182), None);
        assert_eq!(rate(1_000, 100, 100_000_000), Some(1_000_000_000));
    }
}
