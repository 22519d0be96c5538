//! CUBIC congestion control (RFC 9438) in integer arithmetic.
//!
//! Time is in milliseconds and windows in bytes inside the formulas:
//! W_cubic(t) = C (t - K)^3 + W_max with C = 0.4 segments/s^3, computed as
//! `4 * d^3 * mss / 10^10` bytes for `d` in milliseconds, and
//! K = cbrt((W_max - cwnd) / C) from an integer cube root. The multiplicative
//! decrease is beta = 0.7, with fast convergence, and the Reno-friendly
//! estimate W_est grows by alpha = 3 (1 - beta) / (1 + beta) = 9/17 segments
//! per window acknowledged.

use crate::congestion::{CongestionControl, initial_window, minimum_threshold, slow_start};

const NANOSECONDS_PER_MILLISECOND: u64 = 1_000_000;

/// CUBIC state of one connection.
#[derive(Clone, Copy, Debug)]
pub struct Cubic {
    window: u32,
    threshold: u32,
    /// W_max in bytes.
    maximum: u32,
    /// K in milliseconds.
    period_ms: u64,
    /// When the current congestion avoidance epoch began.
    epoch_start_ns: Option<u64>,
    /// W_est in bytes.
    estimate: u32,
    /// Fractional growth carried between ACKs (bytes times window).
    carry: u64,
    /// Fractional W_est growth carried between ACKs.
    estimate_carry: u64,
}

impl Cubic {
    /// A controller starting with the initial window.
    pub fn new(segment_size: u32) -> Self {
        Self {
            window: initial_window(segment_size),
            threshold: u32::MAX,
            maximum: 0,
            period_ms: 0,
            epoch_start_ns: None,
            estimate: 0,
            carry: 0,
            estimate_carry: 0,
        }
    }

    fn start_epoch(&mut self, now_ns: u64, segment_size: u32) {
        self.epoch_start_ns = Some(now_ns);
        self.carry = 0;
        self.estimate_carry = 0;
        self.estimate = self.window;
        if self.window < self.maximum {
            let deficit = u128::from(self.maximum - self.window);
            // (W_max - cwnd) / (0.4 * mss) seconds^3, in milliseconds^3.
            let cubed = deficit * 10_000_000_000 / (4 * u128::from(segment_size.max(1)));
            self.period_ms = cube_root(cubed);
        } else {
            self.period_ms = 0;
            self.maximum = self.window;
        }
    }

    /// W_cubic at `elapsed_ms` into the epoch, in bytes.
    fn cubic_window(&self, elapsed_ms: u64, segment_size: u32) -> u64 {
        // Past 2^30 ms (12 days) in one epoch the window is at its cap
        // anyway; the bound keeps the cube inside i128.
        let offset = i128::from(elapsed_ms.min(1 << 30)) - i128::from(self.period_ms);
        let growth = 4 * offset * offset * offset * i128::from(segment_size) / 10_000_000_000;
        let window = i128::from(self.maximum) + growth;
        window.clamp(0, i128::from(u32::MAX / 2)) as u64
    }

    fn avoid_congestion(&mut self, now_ns: u64, acked: u32, segment_size: u32, rtt_ns: u64) {
        if self.epoch_start_ns.is_none() {
            self.start_epoch(now_ns, segment_size);
        }
        let start = self.epoch_start_ns.unwrap_or(now_ns);
        let elapsed_ms = now_ns.saturating_sub(start) / NANOSECONDS_PER_MILLISECOND;
        let rtt_ms = rtt_ns / NANOSECONDS_PER_MILLISECOND;
        let window = u64::from(self.window.max(1));
        self.grow_estimate(acked, segment_size, window);
        let now_window = self.cubic_window(elapsed_ms, segment_size);
        if now_window < u64::from(self.estimate) {
            self.window = self.window.max(self.estimate);
            return;
        }
        let target = self
            .cubic_window(elapsed_ms + rtt_ms, segment_size)
            .clamp(window, window + window / 2);
        self.carry += (target - window) * u64::from(acked);
        let growth = self.carry / window;
        self.carry %= window;
        self.window = self.window.saturating_add(growth as u32);
    }

    fn grow_estimate(&mut self, acked: u32, segment_size: u32, window: u64) {
        self.estimate_carry += 9 * u64::from(segment_size) * u64::from(acked);
        let step = 17 * window;
        let growth = self.estimate_carry / step;
        self.estimate_carry %= step;
        self.estimate = self.estimate.saturating_add(growth as u32);
    }

    fn reduce(&mut self, segment_size: u32) {
        self.epoch_start_ns = None;
        // Fast convergence: a flow that lost before regaining W_max yields.
        self.maximum = if self.window < self.maximum {
            (u64::from(self.window) * 17 / 20) as u32
        } else {
            self.window
        };
        let reduced = (u64::from(self.window) * 7 / 10) as u32;
        self.threshold = reduced.max(minimum_threshold(segment_size));
    }
}

impl CongestionControl for Cubic {
    fn window(&self) -> u32 {
        self.window
    }

    fn slow_start_threshold(&self) -> u32 {
        self.threshold
    }

    fn on_ack(&mut self, now_ns: u64, acked: u32, segment_size: u32, rtt_ns: u64) {
        match slow_start(self.window, self.threshold, acked, segment_size) {
            Some(window) => self.window = window,
            None => self.avoid_congestion(now_ns, acked, segment_size, rtt_ns),
        }
    }

    fn on_congestion(&mut self, _now_ns: u64, _in_flight: u32, segment_size: u32) {
        self.reduce(segment_size);
        self.window = self.threshold;
    }

    fn on_recovery_end(&mut self, _in_flight: u32, _segment_size: u32) {
        self.window = self.threshold;
    }

    fn on_timeout(&mut self, _now_ns: u64, _in_flight: u32, segment_size: u32) {
        self.reduce(segment_size);
        self.window = segment_size;
    }
}

/// The largest `x` with `x^3 <= value`.
pub fn cube_root(value: u128) -> u64 {
    // 2^42 cubed still fits in u128.
    let (mut low, mut high) = (0u64, 1u64 << 42);
    while low < high {
        let middle = low + (high - low).div_ceil(2);
        let cube = u128::from(middle).pow(3);
        if cube <= value {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    low
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;
    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn cube_roots() {
        assert_eq!(cube_root(0), 0);
        assert_eq!(cube_root(26), 2);
        assert_eq!(cube_root(27), 3);
        assert_eq!(cube_root(1_000_000_000_000), 10_000);
        assert_eq!(cube_root(u128::from(u64::MAX)), 2_642_245);
    }

    #[test]
    fn loss_cuts_to_seventy_percent_and_regrows_to_the_plateau() {
        let mut cubic = Cubic::new(MSS);
        cubic.window = 100 * MSS;
        cubic.on_congestion(0, 100 * MSS, MSS);
        assert_eq!(cubic.window(), 70 * MSS);
        assert_eq!(cubic.maximum, 100 * MSS);
        // K = cbrt(30 / 0.4) = 4.217 s.
        let mut now = 0;
        cubic.on_ack(now, MSS, MSS, 0);
        assert_eq!(cubic.period_ms, 4217);
        // One window acknowledged per 100 ms round trip.
        while now < 4 * SECOND {
            now += SECOND / 10;
            cubic.on_ack(now, cubic.window(), MSS, SECOND / 10);
        }
        let plateau = cubic.window();
        assert!(plateau > 95 * MSS && plateau <= 100 * MSS, "{plateau}");
        while now < 8 * SECOND {
            now += SECOND / 10;
            cubic.on_ack(now, cubic.window(), MSS, SECOND / 10);
        }
        assert!(cubic.window() > 105 * MSS, "probing above W_max");
    }

    #[test]
    fn fast_convergence_and_timeout() {
        let mut cubic = Cubic::new(MSS);
        cubic.window = 100 * MSS;
        cubic.on_congestion(0, 0, MSS);
        cubic.on_congestion(0, 0, MSS);
        // 70 < W_max 100: W_max = 70 * 0.85.
        assert_eq!(cubic.maximum, 59_500);
        cubic.on_timeout(0, 0, MSS);
        assert_eq!(cubic.window(), MSS);
        // 100 -> 70 -> 49 segments, then 70 % of 49.
        assert_eq!(cubic.slow_start_threshold(), 34_300);
    }
}
