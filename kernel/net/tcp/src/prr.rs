//! Proportional Rate Reduction (RFC 6937): how much fast recovery may
//! send on each ACK, so the window comes down to ssthresh smoothly instead
//! of falling silent for half a round trip and then sending in a burst.
//!
//! While more than ssthresh is in flight the sender sends in proportion
//! to what the ACKs say was delivered (`ssthresh / RecoverFS` of it);
//! once the flight is below ssthresh, the slow start reduction bound
//! (PRR-SSRB) lets it catch up by at most one segment more than was
//! delivered. What an ACK allows is computed once, when the ACK has been
//! taken in, and used up by the output pass that follows, a segment only
//! when it fits whole. Like a sender counting segments, the sums round
//! up to whole segments: a part of one lets one go; the fast
//! retransmission that opens recovery goes out whatever it says, and is
//! counted. At the end of recovery the flight is about ssthresh, and the
//! window is set to it.
//!
//! Fast recovery with SACK only: without SACK the engine repairs as RFC
//! 6582 says (window inflation), which PRR's delivery count would need
//! estimated from duplicate ACKs.

/// PRR's variables for one fast recovery, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prr {
    /// RecoverFS: SND.NXT - SND.UNA when recovery began.
    pub recover_flight: u32,
    /// prr_delivered: bytes the receiver got since recovery began.
    pub delivered: u32,
    /// prr_out: bytes sent since recovery began.
    pub sent: u32,
    /// What the last ACK allows still to be sent (`sndcnt`).
    pub allowance: u32,
    /// Every ACK's `sndcnt`, added up: with the fast retransmission, the
    /// most the recovery may have sent (the invariant check holds it).
    pub granted: u32,
}

impl Prr {
    /// A recovery that begins with `flight` bytes outstanding.
    pub const fn new(flight: u32) -> Self {
        Self {
            recover_flight: flight,
            delivered: 0,
            sent: 0,
            allowance: 0,
            granted: 0,
        }
    }

    /// The proportional part: ceil(delivered * ssthresh / RecoverFS), in
    /// whole segments.
    fn proportional(&self, threshold: u32, segment_size: u32) -> u64 {
        let product = u64::from(self.delivered) * u64::from(threshold);
        let bytes = product.div_ceil(u64::from(self.recover_flight.max(1)));
        whole_segments(bytes, segment_size)
    }

    /// RFC 6937 3: an ACK reported `delivered` bytes with `pipe` bytes
    /// still in flight; sets what may be sent before the next one.
    pub fn acknowledged(&mut self, delivered: u32, pipe: u32, threshold: u32, segment_size: u32) {
        self.delivered = self.delivered.saturating_add(delivered);
        let sent = u64::from(self.sent);
        let allowance = if pipe > threshold {
            self.proportional(threshold, segment_size)
                .saturating_sub(sent)
        } else {
            let owed = u64::from(self.delivered).saturating_sub(sent);
            let limit = owed.max(u64::from(delivered)) + u64::from(segment_size);
            whole_segments(u64::from(threshold - pipe), segment_size).min(limit)
        };
        self.allowance = allowance.min(u64::from(u32::MAX)) as u32;
        self.granted = self.granted.saturating_add(self.allowance);
    }

    /// `bytes` were sent during recovery.
    pub fn spent(&mut self, bytes: u32) {
        self.sent = self.sent.saturating_add(bytes);
        self.allowance = self.allowance.saturating_sub(bytes);
    }
}

/// `bytes` rounded up to whole segments, as a sender counting segments
/// (Linux does) rounds: a part of a segment lets one go.
fn whole_segments(bytes: u64, segment_size: u32) -> u64 {
    let size = u64::from(segment_size.max(1));
    bytes.div_ceil(size) * size
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn above_ssthresh_the_sender_keeps_the_proportion() {
        // 20 segments out, ssthresh 14 (CUBIC's 0.7): 7 sent per 10 back,
        // the first two at once (0.7 rounds up to a segment).
        let mut prr = Prr::new(20 * MSS);
        let mut sent = 0;
        for acknowledged in 1..=10 {
            prr.acknowledged(MSS, 20 * MSS - acknowledged * MSS + sent, 14 * MSS, MSS);
            let now = prr.allowance;
            prr.spent(now);
            sent += now;
        }
        assert_eq!(sent, 7 * MSS);
        assert_eq!(prr.sent, 7 * MSS);
    }

    #[test]
    fn below_ssthresh_it_catches_up_a_segment_at_a_time() {
        let mut prr = Prr::new(20 * MSS);
        // A big ACK (two segments) with pipe far below ssthresh.
        prr.acknowledged(2 * MSS, 4 * MSS, 14 * MSS, MSS);
        assert_eq!(prr.allowance, 3 * MSS, "delivered plus one segment");
        prr.spent(3 * MSS);
        // Pipe near ssthresh: only the room that is left, a segment.
        prr.acknowledged(MSS, 13 * MSS + 500, 14 * MSS, MSS);
        assert_eq!(prr.allowance, MSS);
        assert_eq!(prr.granted, 4 * MSS);
    }
}
