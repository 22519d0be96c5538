//! RACK (RFC 8985 6): time-based loss detection. A segment is lost when
//! one sent after it was delivered and a reordering window has passed
//! since it was sent.
//!
//! [`Rack`] follows the most recently sent segment that was delivered
//! (cumulatively or by SACK), the RTT it saw, the highest delivered
//! sequence number (to spot reordering) and the adaptive reordering window:
//! zero until reordering is seen, then a multiple of min RTT / 4 that
//! grows per round with a D-SACK (or a recovery found spurious) and falls
//! back after 16 recoveries without one.

use crate::flight::{Flight, Mark, Sent};
use crate::sequence::Sequence;

/// RFC 6675 DupThresh, used by RACK's window choice.
pub const DUPLICATE_THRESHOLD: u32 = 3;

/// Recoveries without D-SACK before the window multiplier resets.
const PERSIST_ROUNDS: u32 = 16;

/// RACK state of one connection (RFC 8985 5.2's variables).
#[derive(Clone, Copy, Debug)]
pub struct Rack {
    /// RACK.xmit_ts: send time of the latest-sent delivered segment.
    sent_ns: u64,
    /// Its transmission order (in place of RACK.end_seq, which cannot
    /// order a retransmission after new data sent at the same time);
    /// `None` before any delivery.
    order: Option<u64>,
    /// RACK.rtt: the RTT that segment saw.
    rtt_ns: u64,
    /// RACK.min_RTT (`u64::MAX` before a sample).
    minimum_rtt_ns: u64,
    /// RACK.fack: the highest delivered sequence number.
    forward: Option<Sequence>,
    /// RACK.reordering_seen.
    pub reordering_seen: bool,
    /// RACK.reo_wnd_mult.
    multiplier: u32,
    /// RACK.reo_wnd_persist.
    persist: u32,
    /// RACK.dsack_round: no growth until SND.UNA passes it.
    round: Option<Sequence>,
}

impl Default for Rack {
    fn default() -> Self {
        Self {
            sent_ns: 0,
            order: None,
            rtt_ns: 0,
            minimum_rtt_ns: u64::MAX,
            forward: None,
            reordering_seen: false,
            multiplier: 1,
            persist: PERSIST_ROUNDS,
            round: None,
        }
    }
}

/// RACK_sent_after: `first` was sent after `second` (time, then order).
fn sent_after(first: (u64, u64), second: (u64, u64)) -> bool {
    first > second
}

impl Rack {
    /// RFC 8985 6.2 steps 1 to 3 for one newly delivered segment. A
    /// retransmitted one delivered sooner than min RTT after its last
    /// transmission was an earlier copy and updates nothing but FACK.
    /// (TSecr cannot tell: for SACKed data the receiver echoes the TSval of
    /// the segment at its left window edge, RFC 7323 4.3.)
    pub fn delivered(&mut self, sent: &Sent, now: u64) {
        self.detect_reordering(sent);
        let rtt = now.saturating_sub(sent.sent_ns);
        if sent.retransmitted && rtt < self.minimum_rtt_ns {
            return;
        }
        if !sent.retransmitted {
            self.minimum_rtt_ns = self.minimum_rtt_ns.min(rtt);
        }
        let newer = self
            .order
            .is_none_or(|order| sent_after((sent.sent_ns, sent.order), (self.sent_ns, order)));
        if newer {
            self.rtt_ns = rtt;
            self.sent_ns = sent.sent_ns;
            self.order = Some(sent.order);
        }
    }

    fn detect_reordering(&mut self, sent: &Sent) {
        match self.forward {
            Some(forward) if sent.end.before(forward) => {
                self.reordering_seen |= !sent.retransmitted;
            }
            _ => self.forward = Some(sent.end),
        }
    }

    /// A D-SACK arrived (or a recovery proved spurious): widen the window
    /// once per round trip (ending at `next`, SND.NXT).
    pub fn spurious_round(&mut self, unacknowledged: Sequence, next: Sequence) {
        if self
            .round
            .is_some_and(|round| unacknowledged.after_or_at(round))
        {
            self.round = None;
        }
        if self.round.is_none() {
            self.round = Some(next);
            self.multiplier = self.multiplier.saturating_add(1);
            self.persist = PERSIST_ROUNDS;
        }
        self.reordering_seen = true;
    }

    /// A fast or RTO recovery ended.
    pub fn recovery_ended(&mut self) {
        self.persist = self.persist.saturating_sub(1);
        if self.persist == 0 {
            self.multiplier = 1;
            self.persist = PERSIST_ROUNDS;
        }
    }

    /// RACK.reo_wnd (RFC 8985 6.2 step 4).
    pub fn reordering_window(&self, recovering: bool, sacked_segments: u32, srtt: u64) -> u64 {
        if !self.reordering_seen && (recovering || sacked_segments >= DUPLICATE_THRESHOLD) {
            return 0;
        }
        if self.minimum_rtt_ns == u64::MAX {
            return 0;
        }
        let window = u64::from(self.multiplier).saturating_mul(self.minimum_rtt_ns / 4);
        window.min(srtt)
    }

    /// RFC 8985 6.2 step 5: marks lost what was sent before the latest
    /// delivered segment more than RTT + `window` ago. Returns how many were
    /// marked and, when some may still be, the time left until they are.
    pub fn detect_losses(
        &self,
        flight: &mut Flight,
        now: u64,
        window: u64,
    ) -> (usize, Option<u64>) {
        let Some(rack_order) = self.order else {
            return (0, None);
        };
        let (mut marked, mut wait) = (0, None::<u64>);
        let mut index = 0;
        while let Some(sent) = flight.get(index).copied() {
            index += 1;
            if !sent_after((self.sent_ns, rack_order), (sent.sent_ns, sent.order)) {
                if sent.retransmitted {
                    continue;
                }
                // Later records were all sent later still.
                break;
            }
            if sent.mark != Mark::InFlight {
                continue;
            }
            let deadline = sent
                .sent_ns
                .saturating_add(self.rtt_ns)
                .saturating_add(window);
            if deadline <= now {
                marked += usize::from(flight.mark_lost(index - 1));
            } else {
                let left = deadline - now;
                wait = Some(wait.map_or(left, |wait| wait.max(left)));
            }
        }
        (marked, wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn flight_of(times: &[u64]) -> Flight {
        let mut flight = Flight::default();
        for (index, time) in times.iter().enumerate() {
            let start = Sequence(index as u32 * 100);
            flight.push(start, start.add(100), *time);
        }
        flight
    }

    #[test]
    fn older_segments_are_lost_once_the_window_passed() {
        let mut flight = flight_of(&[0, 0, MS]);
        let mut rack = Rack::default();
        let last = *flight.get(2).unwrap();
        rack.delivered(&last, 11 * MS);
        // Nothing reordered yet: a zero window after three SACKed segments,
        // else min RTT / 4.
        assert_eq!(rack.reordering_window(false, 3, 50 * MS), 0);
        let window = rack.reordering_window(false, 1, 50 * MS);
        assert_eq!(window, 10 * MS / 4);
        // Sent at 0 with an RTT of 10 ms: due at 10 ms + window.
        assert_eq!(
            rack.detect_losses(&mut flight, 11 * MS, window),
            (0, Some(window - MS))
        );
        let (marked, wait) = rack.detect_losses(&mut flight, 10 * MS + window, window);
        assert_eq!((marked, wait), (2, None));
        assert_eq!(flight.lost_count(), 2);
    }

    #[test]
    fn reordering_and_duplicate_reports_widen_the_window() {
        let flight = flight_of(&[0, 0]);
        let mut rack = Rack::default();
        rack.delivered(flight.get(1).unwrap(), 8 * MS);
        rack.delivered(flight.get(0).unwrap(), 9 * MS);
        assert!(rack.reordering_seen);
        assert_eq!(rack.reordering_window(true, 5, 40 * MS), 2 * MS);
        rack.spurious_round(Sequence(0), Sequence(200));
        rack.spurious_round(Sequence(100), Sequence(300));
        assert_eq!(rack.reordering_window(true, 5, 40 * MS), 4 * MS);
        rack.spurious_round(Sequence(200), Sequence(300));
        assert_eq!(
            rack.reordering_window(true, 5, 5 * MS),
            5 * MS,
            "SRTT bounds it"
        );
        for _ in 0..PERSIST_ROUNDS {
            rack.recovery_ended();
        }
        assert_eq!(rack.reordering_window(true, 5, 40 * MS), 2 * MS);
    }
}
