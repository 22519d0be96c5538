//! Loss recovery decisions: RACK marking after an ACK or when the
//! reordering timer fires, entering fast recovery (RFC 6675, RFC 6582),
//! and undoing a window reduction that timestamps prove spurious (Eifel
//! detection, RFC 3522, with the RFC 4015 response; without timestamps
//! F-RTO in `forward.rs` judges timeouts).
//!
//! Undo works because our TSval clock and the receiver's TS.Recent rule
//! (RFC 7323 4.3) make TSecr the TSval of the segment that last advanced
//! RCV.NXT: an ACK echoing a TSval older than the first retransmission
//! was caused by an original, so that retransmission was not needed.

use crate::Transmit;
use crate::acknowledgment::{Feedback, timestamp_before};
use crate::congestion::{Congestion, CongestionControl};
use crate::context::Context;
use crate::forward::Forward;
use crate::prr::Prr;
use crate::sender::output;
use crate::state::{FastRecovery, Recovery};
use crate::tcb::Tcb;

/// What to restore if a reduction proves spurious; kept by the repair it
/// belongs to (`Recovery::Fast` or `Recovery::Timeout`).
#[derive(Clone, Copy, Debug)]
pub struct Undo {
    /// The controller before the reduction.
    pub congestion: Congestion,
    /// What will tell.
    pub evidence: Evidence,
}

/// How a reduction is found spurious.
#[derive(Clone, Copy, Debug)]
pub enum Evidence {
    /// Eifel: an ACK echoing a TSval older than this one, that of the
    /// first retransmission (timestamps only).
    Echo(u32),
    /// F-RTO after a timeout without timestamps (`forward.rs`).
    Forward(Forward),
}

/// After the ACK and SACK fields of a segment were taken in (SACK only).
pub fn after_acknowledgment(
    tcb: &mut Tcb,
    context: &mut Context,
    feedback: &Feedback,
    delivered: bool,
) {
    if feedback.duplicate_report {
        context.stats.duplicate_sacks_received += 1;
        tcb.rack
            .spurious_round(tcb.send_unacknowledged, tcb.send_next);
    }
    crate::probe::acknowledged(tcb, context, feedback);
    if delivered {
        detect(tcb, context);
    }
}

/// RACK loss detection; starts recovery when something is lost.
pub fn detect(tcb: &mut Tcb, context: &mut Context) {
    let recovering = tcb.recovery.is_repairing();
    let sacked_segments = tcb.flight.sacked_bytes() / tcb.segment_size.max(1);
    let srtt = tcb.rtt.smoothed().unwrap_or(u64::MAX);
    let window = tcb
        .rack
        .reordering_window(recovering, sacked_segments, srtt);
    let (marked, wait) = tcb.rack.detect_losses(&mut tcb.flight, context.now, window);
    context.stats.rack_losses += marked as u64;
    tcb.timers.reorder = wait.map(|wait| context.now.saturating_add(wait));
    let may_recover = !recovering && tcb.send_unacknowledged.after(tcb.recover);
    if tcb.flight.lost_count() > 0 && may_recover {
        // A lost path MTU probe alone is no congestion signal.
        if crate::path_mtu::probe_lost_alone(tcb, context) {
            return;
        }
        enter_recovery(tcb, context);
    }
}

/// The RACK reordering timer fired: mark what is now overdue and repair.
pub fn reorder_timeout(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    if !tcb.state.is_synchronized() {
        return;
    }
    detect(tcb, context);
    output(tcb, context, tx);
}

/// Fast recovery: cut the window, retransmit the first lost segment.
pub fn enter_recovery(tcb: &mut Tcb, context: &mut Context) {
    context.stats.fast_retransmits += 1;
    let undo = snapshot(tcb, context);
    let flight = tcb.outstanding();
    tcb.congestion
        .on_congestion(context.now, flight, tcb.segment_size);
    let inflation = if tcb.negotiated.sack {
        0
    } else {
        3 * tcb.segment_size
    };
    tcb.recovery.enter_fast(FastRecovery {
        point: tcb.send_maximum,
        inflation,
        retransmit_now: true,
        undo,
        prr: Prr::new(flight),
    });
    tcb.recover = tcb.send_maximum;
    tcb.timed = None;
    tcb.timers.probe = None;
}

/// The controller before a reduction, to undo it (timestamps only).
fn snapshot(tcb: &Tcb, context: &Context) -> Option<Undo> {
    tcb.negotiated.timestamps.then(|| Undo {
        congestion: tcb.congestion,
        evidence: Evidence::Echo(tcb.timestamp_value(context.now)),
    })
}

/// The snapshot a timeout's repair keeps: a repair in progress keeps its
/// older snapshot and stamp (timestamps); without timestamps, a first
/// timeout from open starts F-RTO.
pub fn timeout_undo(tcb: &mut Tcb, context: &Context) -> Option<Undo> {
    let fresh = !tcb.recovery.is_repairing();
    let kept = tcb.recovery.take_undo();
    let kept = kept.filter(|undo| matches!(undo.evidence, Evidence::Echo(_)));
    kept.or_else(|| snapshot(tcb, context))
        .or_else(|| crate::forward::start(tcb, fresh))
}

fn echoes_before(feedback: &Feedback, undo: &Undo) -> bool {
    let Evidence::Echo(stamp) = undo.evidence else {
        return false;
    };
    feedback
        .echo
        .is_some_and(|echo| timestamp_before(echo, stamp))
}

/// An ACK advanced SND.UNA: Eifel's check after a timeout (F-RTO's comes
/// once the SACK blocks are in), and the end of RTO recovery.
pub fn on_progress(tcb: &mut Tcb, context: &mut Context, feedback: &Feedback) {
    if !matches!(tcb.recovery, Recovery::Timeout { .. }) {
        return;
    }
    let eifel = matches!(
        tcb.recovery.undo(),
        Some(Undo {
            evidence: Evidence::Echo(_),
            ..
        })
    );
    if eifel
        && let Some(undo) = tcb.recovery.take_undo()
        && echoes_before(feedback, &undo)
    {
        // The original arrived: the timeout was spurious.
        context.stats.spurious_timeouts += 1;
        tcb.congestion = undo.congestion;
        tcb.flight.unmark_lost();
        tcb.recovery.repaired();
        tcb.rack
            .spurious_round(tcb.send_unacknowledged, tcb.send_next);
        return;
    }
    if tcb.send_unacknowledged.after_or_at(tcb.recover) {
        tcb.recovery.repaired();
        tcb.rack.recovery_ended();
    }
}

/// Fast recovery ended: restores the window from its snapshot `undo`
/// when no retransmission of the episode was needed. True when it did.
pub fn undo_recovery(
    tcb: &mut Tcb,
    context: &mut Context,
    feedback: &Feedback,
    undo: Option<Undo>,
) -> bool {
    let Some(undo) = undo else {
        return false;
    };
    if !echoes_before(feedback, &undo) {
        return false;
    }
    context.stats.spurious_recoveries += 1;
    tcb.congestion = undo.congestion;
    tcb.rack
        .spurious_round(tcb.send_unacknowledged, tcb.send_next);
    true
}
