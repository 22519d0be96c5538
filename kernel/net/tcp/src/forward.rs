//! F-RTO (RFC 5682): telling a spurious retransmission timeout from a
//! real one without timestamps, from what the ACKs after it acknowledge.
//! (With timestamps, Eifel in `loss.rs` does it from the echoed TSval.)
//!
//! After a timeout the sender retransmits only the first segment. If the
//! first ACK after it moves SND.UNA (but not past everything sent before
//! the timeout), the sender sends up to two new segments instead of more
//! retransmissions, and the next ACK decides. The timeout was spurious if
//! an ACK acknowledges a segment that was sent before it and never
//! retransmitted: the originals were delivered, only late. With SACK that
//! may show on the first ACK already (RFC 5682 3.1, as Linux does);
//! without, only a second ACK that moves SND.UNA again says so (RFC 5682
//! 2). A duplicate ACK, an ACK for everything, or one that only SACKs the
//! new segments means the loss was real: recovery goes on as after any
//! timeout. A spurious timeout gets the window back that it cut, and the
//! segments it marked lost are in flight again.
//!
//! F-RTO starts only on a first timeout, from open (or probing): not
//! during a repair, and not when timestamps are in use.

use crate::context::Context;
use crate::flight::Sent;
use crate::loss::{Evidence, Undo};
use crate::sequence::Sequence;
use crate::state::Recovery;
use crate::tcb::Tcb;

/// Where F-RTO stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The first segment was retransmitted: waiting for the first ACK.
    Retransmitted,
    /// That ACK moved SND.UNA: the output pass that follows it sends up
    /// to two new segments, no retransmission (never left after a call).
    SendNew,
    /// New data was sent: the next ACK decides.
    NewSent,
}

/// F-RTO's state, kept as the evidence of a timeout's undo snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forward {
    /// SND.MAX at the timeout (RFC 5682's `recover`).
    pub high: Sequence,
    /// Where it stands.
    pub step: Step,
}

/// New segments F-RTO sends instead of retransmissions.
pub const NEW_SEGMENTS: usize = 2;

/// What one ACK delivered that F-RTO cares about.
#[derive(Clone, Copy, Debug, Default)]
pub struct Delivery {
    /// SND.MAX at the timeout, while F-RTO runs.
    high: Option<Sequence>,
    /// A segment sent before the timeout and never retransmitted was
    /// acknowledged (cumulatively or selectively) by this ACK.
    pub original: bool,
}

impl Delivery {
    /// Watches an ACK of `tcb` (nothing to watch unless F-RTO runs).
    pub fn watching(tcb: &Tcb) -> Self {
        Self {
            high: forward(tcb).map(|forward| forward.high),
            original: false,
        }
    }

    /// `sent` was newly delivered; false when RACK must not hear of it: a
    /// retransmission while F-RTO runs is as likely the original's ACK
    /// (without timestamps nothing tells), and taken for the copy's it
    /// would make RACK mark the whole flight lost after a delay spike.
    pub fn note(&mut self, sent: &Sent) -> bool {
        let before = self.high.is_some_and(|high| sent.end.before_or_at(high));
        self.original |= before && !sent.retransmitted;
        self.high.is_none() || !sent.retransmitted
    }
}

/// F-RTO's state, if it runs (checked on every ACK and output pass: the
/// common case, no timeout repair, is one comparison).
#[inline]
fn forward(tcb: &Tcb) -> Option<Forward> {
    match &tcb.recovery {
        Recovery::Timeout {
            undo:
                Some(Undo {
                    evidence: Evidence::Forward(forward),
                    ..
                }),
        } => Some(*forward),
        _ => None,
    }
}

fn set_step(tcb: &mut Tcb, step: Step) {
    if let Some(Undo {
        evidence: Evidence::Forward(forward),
        ..
    }) = tcb.recovery.undo_mut()
    {
        forward.step = step;
    }
}

/// The evidence a timeout's snapshot starts with when F-RTO applies:
/// no timestamps, and `fresh` (no repair was under way).
pub fn start(tcb: &Tcb, fresh: bool) -> Option<Undo> {
    let applies = fresh && !tcb.negotiated.timestamps && tcb.outstanding() > 0;
    applies.then_some(Undo {
        congestion: tcb.congestion,
        evidence: Evidence::Forward(Forward {
            high: tcb.send_maximum,
            step: Step::Retransmitted,
        }),
    })
}

/// Unsent data the peer's window lets out: a full segment of it, or all
/// there is (a smaller piece would wait for sender SWS avoidance).
fn new_data_ready(tcb: &Tcb) -> bool {
    let edge = tcb.send_unacknowledged.add(tcb.send_window);
    let room = edge.saturating_since(tcb.send_next);
    let unsent = tcb.send_buffer.end().saturating_since(tcb.send_next);
    unsent > 0 && room >= unsent.min(tcb.segment_size)
}

/// Steps 2 and 3 for an ACK whose SND.UNA moved (`advanced`) or not.
pub fn acknowledged(tcb: &mut Tcb, context: &mut Context, delivery: &Delivery, advanced: bool) {
    let Some(forward) = forward(tcb) else {
        return;
    };
    let sack = tcb.negotiated.sack;
    let spurious = match forward.step {
        Step::Retransmitted => sack && delivery.original,
        Step::NewSent => delivery.original || (!sack && advanced),
        Step::SendNew => false,
    };
    if spurious {
        undo(tcb, context);
    } else if forward.step == Step::Retransmitted && advanced && new_data_ready(tcb) {
        set_step(tcb, Step::SendNew);
    } else {
        end(tcb);
    }
}

/// Where F-RTO stands, if it runs: the output pass sends only the first
/// segment while [`Step::Retransmitted`], only new data on
/// [`Step::SendNew`].
pub fn step(tcb: &Tcb) -> Option<Step> {
    forward(tcb).map(|forward| forward.step)
}

/// After that pass: true if new data went out (step 3 waits); else F-RTO
/// ends and the caller repairs as usual.
pub fn new_data_sent(tcb: &mut Tcb) -> bool {
    let Some(forward) = forward(tcb) else {
        return false;
    };
    let sent = tcb.send_maximum.after(forward.high);
    if sent {
        set_step(tcb, Step::NewSent);
    } else {
        end(tcb);
    }
    sent
}

/// The loss was real: recovery goes on without F-RTO (or its snapshot).
fn end(tcb: &mut Tcb) {
    tcb.recovery.take_undo();
}

/// The timeout was spurious: its cut and its loss marks are undone.
fn undo(tcb: &mut Tcb, context: &mut Context) {
    let Some(undo) = tcb.recovery.take_undo() else {
        return;
    };
    context.stats.spurious_timeouts += 1;
    context.stats.spurious_timeouts_forward += 1;
    tcb.congestion = undo.congestion;
    tcb.flight.unmark_lost();
    if matches!(tcb.recovery, Recovery::Timeout { .. }) {
        tcb.recovery.repaired();
    }
    tcb.rack
        .spurious_round(tcb.send_unacknowledged, tcb.send_next);
}
