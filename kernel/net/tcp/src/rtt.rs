//! The retransmission timer's estimator (RFC 6298): SRTT, RTTVAR and RTO.
//!
//! Samples come from one timed segment at a time, never from a segment
//! that was retransmitted (Karn's rule, enforced by the caller). The RTO is
//! 1 s until the first sample, then SRTT + max(G, 4 * RTTVAR), clamped to
//! the configured bounds; backoff doubles it per consecutive timeout. If
//! the SYN or SYN-ACK timed out, the RTO starts data transfer at 3 s until
//! the first sample (RFC 6298 5.7).

/// Clock granularity G of the formula: the engine keeps nanoseconds, but a
/// millisecond keeps the variance term from collapsing on a quiet LAN.
const GRANULARITY_NS: u64 = 1_000_000;

/// RFC 6298 5.7: the RTO after a handshake that needed a retransmission.
const FALLBACK_NS: u64 = 3_000_000_000;

/// RFC 6298 state of one connection.
#[derive(Clone, Copy, Debug)]
pub struct RttEstimator {
    smoothed: Option<u64>,
    variance: u64,
    timeout: u64,
    minimum: u64,
    maximum: u64,
    /// The SYN (or SYN-ACK) timed out at least once.
    handshake_timed_out: bool,
}

impl RttEstimator {
    /// An estimator with no sample yet and the given bounds.
    pub fn new(initial_ns: u64, minimum_ns: u64, maximum_ns: u64) -> Self {
        Self {
            smoothed: None,
            variance: 0,
            timeout: initial_ns.clamp(minimum_ns, maximum_ns),
            minimum: minimum_ns,
            maximum: maximum_ns,
            handshake_timed_out: false,
        }
    }

    /// Adds one round-trip measurement.
    pub fn sample(&mut self, rtt_ns: u64) {
        let (smoothed, variance) = match self.smoothed {
            None => (rtt_ns, rtt_ns / 2),
            Some(smoothed) => {
                let error = smoothed.abs_diff(rtt_ns);
                let variance = self.variance - self.variance / 4 + error / 4;
                (smoothed - smoothed / 8 + rtt_ns / 8, variance)
            }
        };
        self.smoothed = Some(smoothed);
        self.variance = variance;
        let timeout = smoothed.saturating_add(GRANULARITY_NS.max(variance.saturating_mul(4)));
        self.timeout = timeout.clamp(self.minimum, self.maximum);
    }

    /// The SYN or SYN-ACK timed out.
    pub const fn handshake_timeout(&mut self) {
        self.handshake_timed_out = true;
    }

    /// The handshake completed: without a sample, and after a handshake
    /// timeout, data transfer starts with a 3 s RTO (RFC 6298 5.7).
    pub fn handshake_completed(&mut self) {
        if self.handshake_timed_out && self.smoothed.is_none() {
            self.timeout = self.timeout.max(FALLBACK_NS).min(self.maximum);
        }
    }

    /// SRTT, when there has been a sample.
    pub const fn smoothed(&self) -> Option<u64> {
        self.smoothed
    }

    /// The RTO after `backoff` consecutive timeouts.
    pub fn timeout(&self, backoff: u32) -> u64 {
        let factor = 1u64 << backoff.min(16);
        self.timeout.saturating_mul(factor).min(self.maximum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn first_sample_then_smoothing() {
        let mut estimator = RttEstimator::new(1000 * MS, 200 * MS, 60_000 * MS);
        assert_eq!(estimator.timeout(0), 1000 * MS);
        estimator.sample(100 * MS);
        // 100 + 4 * 50.
        assert_eq!(estimator.timeout(0), 300 * MS);
        estimator.sample(100 * MS);
        assert_eq!(estimator.smoothed(), Some(100 * MS));
        // RTTVAR 37.5 -> RTO 250.
        assert_eq!(estimator.timeout(0), 250 * MS);
    }

    #[test]
    fn bounds_and_backoff() {
        let mut estimator = RttEstimator::new(1000 * MS, 200 * MS, 60_000 * MS);
        estimator.sample(MS / 10);
        assert_eq!(estimator.timeout(0), 200 * MS);
        assert_eq!(estimator.timeout(3), 1600 * MS);
        assert_eq!(estimator.timeout(40), 60_000 * MS);
    }

    #[test]
    fn a_handshake_timeout_falls_back_to_three_seconds() {
        let mut estimator = RttEstimator::new(1000 * MS, 200 * MS, 60_000 * MS);
        estimator.handshake_completed();
        assert_eq!(estimator.timeout(0), 1000 * MS);
        estimator.handshake_timeout();
        estimator.handshake_completed();
        assert_eq!(estimator.timeout(0), 3000 * MS);
        estimator.sample(100 * MS);
        assert_eq!(estimator.timeout(0), 300 * MS);
    }
}
