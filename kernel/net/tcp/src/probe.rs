//! The tail loss probe (RFC 8985 7): when the sender falls silent with
//! data in flight, it sends one segment after about two round trips (new
//! data if it may, else the last segment again) so that the ACK it draws
//! lets RACK find a tail loss without waiting for the RTO.
//!
//! At most one probe is outstanding. If a retransmitted probe turns out
//! to have repaired a loss (its ACK does not echo an older TSval and no
//! D-SACK reports it), the window is cut as for any loss (RFC 8985 7.4).

use crate::Transmit;
use crate::acknowledgment::Feedback;
use crate::congestion::CongestionControl;
use crate::context::Context;
use crate::sender::{Pass, output_pass, retransmit};
use crate::sequence::Sequence;
use crate::state::Recovery;
use crate::tcb::Tcb;

const MILLISECOND: u64 = 1_000_000;

/// RFC 8985 WCDelAckT: the worst-case delayed ACK of a single segment.
const WORST_CASE_DELAYED_ACK_NS: u64 = 200 * MILLISECOND;

/// Slack on a flight of several segments, as Linux adds.
const MINIMUM_SLACK_NS: u64 = 2 * MILLISECOND;

/// The PTO before any RTT sample.
const INITIAL_PROBE_TIMEOUT_NS: u64 = 1_000 * MILLISECOND;

/// A probe in flight (RFC 8985 TLP.end_seq and TLP.is_retrans).
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    /// SND.NXT after the probe was sent.
    end: Sequence,
    /// The probe was a retransmission.
    retransmission: bool,
    /// When it was sent.
    sent_ns: u64,
}

fn eligible(tcb: &Tcb) -> bool {
    tcb.negotiated.sack
        && tcb.recovery.is_open()
        && tcb.flight.lost_count() == 0
        && tcb.outstanding() > 0
        && tcb.send_window > 0
}

/// RFC 8985 7.2: PTO = 2 SRTT, plus the delayed ACK time for a flight of
/// one segment.
fn timeout(tcb: &Tcb) -> u64 {
    let Some(smoothed) = tcb.rtt.smoothed() else {
        return INITIAL_PROBE_TIMEOUT_NS;
    };
    let slack = if tcb.flight.pipe() <= tcb.segment_size {
        WORST_CASE_DELAYED_ACK_NS
    } else {
        MINIMUM_SLACK_NS
    };
    smoothed.saturating_mul(2).saturating_add(slack)
}

/// Arms the PTO if a probe may be sent and none is pending; never later
/// than the retransmission timer.
pub fn arm(tcb: &mut Tcb, context: &Context) {
    if !eligible(tcb) {
        tcb.timers.probe = None;
        return;
    }
    if tcb.timers.probe.is_some() {
        return;
    }
    let mut at = context.now.saturating_add(timeout(tcb));
    if let Some(retransmit) = tcb.timers.retransmit {
        at = at.min(retransmit);
    }
    tcb.timers.probe = Some(at);
}

/// The PTO fired: send the probe and restart the retransmission timer.
pub fn fire(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    if !eligible(tcb) || !tcb.state.is_synchronized() {
        return;
    }
    context.stats.tail_loss_probes += 1;
    let before = tcb.send_next;
    tcb.recovery.probe_sent(Probe {
        end: before,
        retransmission: false,
        sent_ns: context.now,
    });
    output_pass(tcb, context, tx, Pass::Probe);
    let retransmission = tcb.send_next == before;
    if retransmission && let Some(last) = tcb.flight.len().checked_sub(1) {
        retransmit(tcb, context, tx, last);
    }
    tcb.recovery.probe_sent(Probe {
        end: tcb.send_next,
        retransmission,
        sent_ns: context.now,
    });
    tcb.timers.retransmit = Some(context.now + tcb.retransmission_timeout());
}

/// RFC 8985 7.4: an ACK at or past the probe ends the episode; a
/// retransmitted probe that repaired a loss counts as a congestion event.
pub fn acknowledged(tcb: &mut Tcb, context: &mut Context, feedback: &Feedback) {
    let Recovery::Probe(probe) = tcb.recovery else {
        return;
    };
    if probe.retransmission && feedback.duplicate_report {
        // The probe arrived as a duplicate: nothing was lost.
        tcb.recovery.probe_ended();
        return;
    }
    if tcb.send_unacknowledged.before(probe.end) {
        return;
    }
    tcb.recovery.probe_ended();
    if probe.retransmission && !feedback.echoes_before(probe.sent_ns) {
        context.stats.tail_loss_repairs += 1;
        let window = tcb.congestion.window();
        tcb.congestion
            .on_congestion(context.now, window, tcb.segment_size);
    }
}
