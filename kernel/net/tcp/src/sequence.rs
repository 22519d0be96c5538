//! TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 3.4).
//!
//! Two sequence numbers are ordered by the sign of their wrapping
//! difference, so the order only means something for values less than
//! 2^31 apart, which the window rules guarantee for every pair the engine
//! compares. There is deliberately no `PartialOrd`: the order is not
//! transitive over the whole space, so every comparison is spelled out.

use core::fmt;

/// A sequence (or acknowledgment) number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sequence(pub u32);

impl Sequence {
    /// `self + count`, wrapping.
    pub const fn add(self, count: u32) -> Self {
        Self(self.0.wrapping_add(count))
    }

    /// `self - count`, wrapping.
    pub const fn subtract(self, count: u32) -> Self {
        Self(self.0.wrapping_sub(count))
    }

    /// The wrapping distance from `earlier` up to `self`.
    pub const fn since(self, earlier: Self) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// The signed distance from `other` to `self`.
    const fn difference(self, other: Self) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self` comes strictly before `other`.
    pub const fn before(self, other: Self) -> bool {
        self.difference(other) < 0
    }

    /// `self` comes before `other` or equals it.
    pub const fn before_or_at(self, other: Self) -> bool {
        self.difference(other) <= 0
    }

    /// `self` comes strictly after `other`.
    pub const fn after(self, other: Self) -> bool {
        self.difference(other) > 0
    }

    /// `self` comes after `other` or equals it.
    pub const fn after_or_at(self, other: Self) -> bool {
        self.difference(other) >= 0
    }

    /// The later of two sequence numbers.
    pub const fn latest(self, other: Self) -> Self {
        if self.after(other) { self } else { other }
    }

    /// The earlier of two sequence numbers.
    pub const fn earliest(self, other: Self) -> Self {
        if self.before(other) { self } else { other }
    }

    /// `start <= self < start + length`.
    pub const fn within(self, start: Self, length: u32) -> bool {
        self.since(start) < length
    }

    /// The distance from `earlier` to `self`, or 0 when `self` is not later.
    pub const fn saturating_since(self, earlier: Self) -> u32 {
        if self.after(earlier) {
            self.since(earlier)
        } else {
            0
        }
    }
}

impl fmt::Debug for Sequence {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Sequence({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_wrap_around_zero() {
        let high = Sequence(u32::MAX - 10);
        let low = high.add(20);
        assert_eq!(low, Sequence(9));
        assert!(high.before(low));
        assert!(low.after(high));
        assert!(high.before_or_at(high));
        assert!(!high.after(high));
        assert_eq!(low.since(high), 20);
        assert_eq!(low.latest(high), low);
        assert_eq!(low.earliest(high), high);
    }

    #[test]
    fn within_and_saturating_distance() {
        let start = Sequence(u32::MAX - 1);
        assert!(start.within(start, 1));
        assert!(start.add(3).within(start, 4));
        assert!(!start.add(4).within(start, 4));
        assert!(!start.subtract(1).within(start, 4));
        assert_eq!(start.subtract(5).saturating_since(start), 0);
        assert_eq!(start.add(5).saturating_since(start), 5);
    }

    #[test]
    fn half_space_apart_flips_order() {
        let zero = Sequence(0);
        assert!(zero.before(Sequence(0x7fff_ffff)));
        assert!(zero.after(Sequence(0x8000_0001)));
    }
}
