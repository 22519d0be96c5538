//! Congestion control behind a small trait, with NewReno (RFC 5681) here
//! and CUBIC (RFC 9438) in [`crate::cubic`].
//!
//! The engine owns loss detection and recovery (fast retransmit, NewReno
//! partial ACKs, SACK pipe); a controller only sizes the window: it grows
//! it on ACKs outside recovery and cuts it on a congestion event or a
//! retransmission timeout. Windows are in bytes. [`Congestion`] is the
//! per-connection controller chosen by [`Algorithm`], dispatched by `match`
//! so a connection needs no boxed trait object.

use crate::cubic::Cubic;

/// Sizes the congestion window of one connection.
pub trait CongestionControl {
    /// The congestion window (cwnd) in bytes.
    fn window(&self) -> u32;
    /// The slow start threshold in bytes.
    fn slow_start_threshold(&self) -> u32;
    /// `acked` new bytes were acknowledged outside loss recovery.
    fn on_ack(&mut self, now_ns: u64, acked: u32, segment_size: u32, smoothed_rtt_ns: u64);
    /// Loss detected by duplicate ACKs or SACK: recovery starts.
    fn on_congestion(&mut self, now_ns: u64, in_flight: u32, segment_size: u32);
    /// Loss recovery ended with `in_flight` bytes outstanding.
    fn on_recovery_end(&mut self, in_flight: u32, segment_size: u32);
    /// The retransmission timer expired.
    fn on_timeout(&mut self, now_ns: u64, in_flight: u32, segment_size: u32);
}

/// Which congestion controller new connections use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// RFC 5681 / RFC 6582.
    NewReno,
    /// RFC 9438, Linux's default.
    #[default]
    Cubic,
}

/// The initial window of RFC 6928: min(10 MSS, max(2 MSS, 14600)).
pub fn initial_window(segment_size: u32) -> u32 {
    (10 * segment_size).min((2 * segment_size).max(14_600))
}

/// The smallest ssthresh RFC 5681 allows after a loss.
pub fn minimum_threshold(segment_size: u32) -> u32 {
    2 * segment_size
}

/// Slow start growth per ACK (RFC 3465 with L = 2 MSS); `None` when the
/// window is at or above ssthresh.
pub fn slow_start(window: u32, threshold: u32, acked: u32, segment_size: u32) -> Option<u32> {
    (window < threshold).then(|| window.saturating_add(acked.min(2 * segment_size)))
}

/// The RFC 5681 / RFC 6582 controller.
#[derive(Clone, Copy, Debug)]
pub struct NewReno {
    window: u32,
    threshold: u32,
    /// Bytes acknowledged since the last congestion avoidance step.
    acknowledged: u32,
}

impl NewReno {
    /// A controller starting with the initial window.
    pub fn new(segment_size: u32) -> Self {
        Self {
            window: initial_window(segment_size),
            threshold: u32::MAX,
            acknowledged: 0,
        }
    }
}

impl CongestionControl for NewReno {
    fn window(&self) -> u32 {
        self.window
    }

    fn slow_start_threshold(&self) -> u32 {
        self.threshold
    }

    fn on_ack(&mut self, _now_ns: u64, acked: u32, segment_size: u32, _rtt_ns: u64) {
        if let Some(window) = slow_start(self.window, self.threshold, acked, segment_size) {
            self.window = window;
            return;
        }
        self.acknowledged = self.acknowledged.saturating_add(acked);
        if self.acknowledged >= self.window {
            self.acknowledged -= self.window;
            self.window = self.window.saturating_add(segment_size);
        }
    }

    fn on_congestion(&mut self, _now_ns: u64, in_flight: u32, segment_size: u32) {
        self.threshold = (in_flight / 2).max(minimum_threshold(segment_size));
        self.window = self.threshold;
        self.acknowledged = 0;
    }

    fn on_recovery_end(&mut self, in_flight: u32, segment_size: u32) {
        // RFC 6582 3.2 step 3, option 1: no burst after recovery.
        let limit = in_flight.max(segment_size).saturating_add(segment_size);
        self.window = self.threshold.min(limit);
    }

    fn on_timeout(&mut self, _now_ns: u64, in_flight: u32, segment_size: u32) {
        self.threshold = (in_flight / 2).max(minimum_threshold(segment_size));
        self.window = segment_size;
        self.acknowledged = 0;
    }
}

/// The controller of one connection.
#[derive(Clone, Copy, Debug)]
pub enum Congestion {
    /// NewReno.
    NewReno(NewReno),
    /// CUBIC.
    Cubic(Cubic),
}

impl Congestion {
    /// A fresh controller of the chosen kind.
    pub fn new(algorithm: Algorithm, segment_size: u32) -> Self {
        match algorithm {
            Algorithm::NewReno => Self::NewReno(NewReno::new(segment_size)),
            Algorithm::Cubic => Self::Cubic(Cubic::new(segment_size)),
        }
    }

    fn controller(&mut self) -> &mut dyn CongestionControl {
        match self {
            Self::NewReno(controller) => controller,
            Self::Cubic(controller) => controller,
        }
    }

    fn controller_ref(&self) -> &dyn CongestionControl {
        match self {
            Self::NewReno(controller) => controller,
            Self::Cubic(controller) => controller,
        }
    }
}

impl CongestionControl for Congestion {
    fn window(&self) -> u32 {
        self.controller_ref().window()
    }

    fn slow_start_threshold(&self) -> u32 {
        self.controller_ref().slow_start_threshold()
    }

    fn on_ack(&mut self, now_ns: u64, acked: u32, segment_size: u32, rtt_ns: u64) {
        self.controller()
            .on_ack(now_ns, acked, segment_size, rtt_ns);
    }

    fn on_congestion(&mut self, now_ns: u64, in_flight: u32, segment_size: u32) {
        self.controller()
            .on_congestion(now_ns, in_flight, segment_size);
    }

    fn on_recovery_end(&mut self, in_flight: u32, segment_size: u32) {
        self.controller().on_recovery_end(in_flight, segment_size);
    }

    fn on_timeout(&mut self, now_ns: u64, in_flight: u32, segment_size: u32) {
        self.controller()
            .on_timeout(now_ns, in_flight, segment_size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn new_reno_slow_start_avoidance_and_loss() {
        let mut reno = NewReno::new(MSS);
        assert_eq!(reno.window(), 10 * MSS);
        reno.on_ack(0, MSS, MSS, 0);
        assert_eq!(reno.window(), 11 * MSS);
        reno.on_congestion(0, 20 * MSS, MSS);
        assert_eq!(reno.window(), 10 * MSS);
        assert_eq!(reno.slow_start_threshold(), 10 * MSS);
        for _ in 0..10 {
            reno.on_ack(0, MSS, MSS, 0);
        }
        assert_eq!(reno.window(), 11 * MSS);
        reno.on_timeout(0, 4 * MSS, MSS);
        assert_eq!(reno.window(), MSS);
        assert_eq!(reno.slow_start_threshold(), 2 * MSS);
    }

    #[test]
    fn recovery_end_avoids_bursts() {
        let mut reno = NewReno::new(MSS);
        reno.on_congestion(0, 40 * MSS, MSS);
        reno.on_recovery_end(2 * MSS, MSS);
        assert_eq!(reno.window(), 3 * MSS);
    }

    #[test]
    fn initial_window_follows_rfc_6928() {
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(536), 5360);
        assert_eq!(initial_window(8960), 17_920);
    }
}
