//! The ACK field of an arriving segment (RFC 9293 fifth check, RFC 5961
//! 5.2): cumulative and selective acknowledgment, duplicate ACKs, RTT
//! samples, the end of loss recovery, and the send window update.
//!
//! What the ACK delivered feeds RACK ([`crate::rack`]); [`crate::loss`]
//! then decides what is lost and whether recovery starts. Without SACK,
//! loss is found by three duplicate ACKs and repaired NewReno style
//! (RFC 5681, RFC 6582).

use crate::congestion::CongestionControl;
use crate::context::Context;
use crate::forward::Delivery;
use crate::header::{Flags, Segment};
use crate::loss;
use crate::options::SackBlock;
use crate::rack::DUPLICATE_THRESHOLD;
use crate::sender::in_flight;
use crate::sequence::Sequence;
use crate::state::Recovery;
use crate::tcb::Tcb;

/// What one ACK tells the sender beyond SEG.ACK.
#[derive(Clone, Copy, Debug)]
pub struct Feedback {
    /// TSecr, when timestamps are in use.
    pub echo: Option<u32>,
    /// Our TSval clock's offset (to turn send times into TSvals).
    pub offset: u32,
    /// The ACK carries a D-SACK (RFC 2883).
    pub duplicate_report: bool,
}

impl Feedback {
    /// The ACK was triggered by an earlier transmission than the last one
    /// sent at `sent_ns` (TSecr older than that one's TSval).
    pub fn echoes_before(&self, sent_ns: u64) -> bool {
        let value = ((sent_ns / 1_000_000) as u32).wrapping_add(self.offset);
        self.echo.is_some_and(|echo| timestamp_before(echo, value))
    }
}

/// Processes SEG.ACK; false when the segment is to be dropped (the
/// caller owes nothing more than what was scheduled here).
pub fn acknowledge(tcb: &mut Tcb, context: &mut Context, segment: &Segment<'_>) -> bool {
    let ack = segment.acknowledgment;
    if ack.after(tcb.send_maximum) || ack.before(oldest_acceptable(tcb)) {
        // RFC 5961 5.2: too new or too old to be real; ACK and drop.
        crate::arrival::owe_out_of_window_ack(tcb, context, segment);
        return false;
    }
    let feedback = Feedback {
        echo: segment
            .options
            .timestamp
            .filter(|_| tcb.negotiated.timestamps)
            .map(|(_, echo)| echo),
        offset: tcb.timestamp_offset,
        duplicate_report: tcb.negotiated.sack && is_duplicate_report(segment.options.sack(), tcb),
    };
    let window = u32::from(segment.window) << tcb.send_scale;
    let before = (tcb.send_unacknowledged, tcb.flight.sacked_bytes());
    let mut delivery = Delivery::watching(tcb);
    let mut delivered = false;
    let advanced = ack.after(tcb.send_unacknowledged);
    if advanced {
        delivered = new_acknowledgment(tcb, context, ack, (&feedback, &mut delivery));
    } else if ack == tcb.send_unacknowledged && is_duplicate(tcb, segment, window) {
        duplicate_acknowledgment(tcb, context);
    }
    if tcb.negotiated.sack {
        delivered |= selective(tcb, context, segment.options.sack(), &mut delivery);
        loss::after_acknowledgment(tcb, context, &feedback, delivered);
        proportional_reduction(tcb, before);
    }
    crate::forward::acknowledged(tcb, context, &delivery, advanced);
    crate::path_mtu::acknowledged(tcb, context);
    update_window(tcb, segment);
    crate::ecn::echoed(tcb, context, segment);
    true
}

fn oldest_acceptable(tcb: &Tcb) -> Sequence {
    tcb.send_unacknowledged
        .subtract(tcb.maximum_send_window.max(tcb.segment_size))
}

/// RFC 2883: the first block lies below SEG.ACK or inside the second,
/// and it reports one of our retransmissions (not a copy the network
/// made of a segment sent once).
fn is_duplicate_report(blocks: &[SackBlock], tcb: &Tcb) -> bool {
    let Some(first) = blocks.first() else {
        return false;
    };
    let below = first.end.before_or_at(tcb.send_unacknowledged);
    let inside = blocks.get(1).is_some_and(|second| {
        first.start.after_or_at(second.start) && first.end.before_or_at(second.end)
    });
    (below || inside) && tcb.flight.retransmitted_recently(first)
}

/// RFC 5681 2: an ACK that says nothing new while data is outstanding.
fn is_duplicate(tcb: &Tcb, segment: &Segment<'_>, window: u32) -> bool {
    segment.payload.is_empty()
        && !segment.has(Flags::SYN)
        && !segment.has(Flags::FIN)
        && window == tcb.send_window
        && tcb.outstanding() > 0
}

/// `first` is an older TSval than `second` (RFC 7323 modular order).
pub fn timestamp_before(first: u32, second: u32) -> bool {
    (first.wrapping_sub(second) as i32) < 0
}

/// SEG.ACK moved SND.UNA; returns true (new data was delivered).
fn new_acknowledgment(
    tcb: &mut Tcb,
    context: &mut Context,
    ack: Sequence,
    (feedback, delivery): (&Feedback, &mut Delivery),
) -> bool {
    let acked = tcb.send_buffer.acknowledge(ack) as u32;
    tcb.send_unacknowledged = ack;
    tcb.send_next = tcb.send_next.latest(ack);
    let (rack, now) = (&mut tcb.rack, context.now);
    let mut flight = core::mem::take(&mut tcb.flight);
    flight.acknowledge(ack, |sent| {
        if delivery.note(sent) {
            rack.delivered(sent, now);
        }
    });
    tcb.flight = flight;
    take_rtt_sample(tcb, context, ack);
    tcb.backoff = 0;
    loss::on_progress(tcb, context, feedback);
    progress_recovery(tcb, context, ack, acked, feedback);
    tcb.timers.retransmit = if tcb.outstanding() == 0 {
        None
    } else {
        Some(context.now + tcb.retransmission_timeout())
    };
    tcb.timers.probe = None;
    if acked > 0 {
        context.notify(tcb);
    }
    true
}

/// Ends or advances fast recovery, or grows the window outside it.
fn progress_recovery(
    tcb: &mut Tcb,
    context: &mut Context,
    ack: Sequence,
    acked: u32,
    feedback: &Feedback,
) {
    let segment_size = tcb.segment_size;
    match &mut tcb.recovery {
        Recovery::Fast(fast) if ack.after_or_at(fast.point) => {
            let undo = fast.undo;
            tcb.recovery.repaired();
            tcb.duplicate_acks = 0;
            tcb.rack.recovery_ended();
            if !loss::undo_recovery(tcb, context, feedback, undo) {
                // With SACK, PRR brought the flight down to ssthresh (RFC
                // 6937): the window is set to it. Without, RFC 6582's
                // guard against a burst decides.
                let flight = if tcb.negotiated.sack {
                    tcb.congestion.slow_start_threshold()
                } else {
                    in_flight(tcb)
                };
                tcb.congestion.on_recovery_end(flight, segment_size);
            }
        }
        Recovery::Fast(fast) => {
            // RFC 6582 3.2 step 5: a partial ACK.
            if !tcb.negotiated.sack {
                fast.inflation = fast
                    .inflation
                    .saturating_sub(acked)
                    .saturating_add(segment_size);
                fast.retransmit_now = true;
            }
        }
        Recovery::Open | Recovery::Probe(_) | Recovery::Timeout { .. } => {
            tcb.duplicate_acks = 0;
            let rtt = tcb.rtt.smoothed().unwrap_or(0);
            tcb.congestion.on_ack(context.now, acked, segment_size, rtt);
        }
    }
}

/// RFC 6937: what this ACK delivered (SND.UNA's advance and the change in
/// SACKed bytes since `before`) sets what fast recovery may send next.
fn proportional_reduction(tcb: &mut Tcb, (una, sacked): (Sequence, u32)) {
    let advanced = tcb.send_unacknowledged.since(una);
    let delivered = advanced
        .saturating_add(tcb.flight.sacked_bytes())
        .saturating_sub(sacked);
    let pipe = in_flight(tcb);
    let threshold = tcb.congestion.slow_start_threshold();
    if let Recovery::Fast(fast) = &mut tcb.recovery {
        fast.prr
            .acknowledged(delivered, pipe, threshold, tcb.segment_size);
    }
}

/// The SACK blocks of one ACK; true when they SACKed new records.
fn selective(
    tcb: &mut Tcb,
    context: &Context,
    blocks: &[SackBlock],
    delivery: &mut Delivery,
) -> bool {
    let (una, maximum) = (tcb.send_unacknowledged, tcb.send_maximum);
    let (rack, now) = (&mut tcb.rack, context.now);
    let mut flight = core::mem::take(&mut tcb.flight);
    let mut newly = 0;
    for block in blocks {
        let valid = block.start.before(block.end)
            && block.start.after_or_at(una)
            && block.end.before_or_at(maximum);
        if valid {
            newly += flight.sack(block, |sent| {
                if delivery.note(sent) {
                    rack.delivered(sent, now);
                }
            });
        }
    }
    tcb.flight = flight;
    newly > 0
}

/// Karn's rule holds because `timed` is cleared whenever the timed segment
/// may have been retransmitted.
pub fn take_rtt_sample(tcb: &mut Tcb, context: &Context, ack: Sequence) {
    if let Some((end, sent)) = tcb.timed
        && ack.after_or_at(end)
    {
        tcb.rtt.sample(context.now.saturating_sub(sent));
        tcb.timed = None;
    }
}

fn duplicate_acknowledgment(tcb: &mut Tcb, context: &mut Context) {
    tcb.duplicate_acks += 1;
    if let Recovery::Fast(fast) = &mut tcb.recovery {
        if !tcb.negotiated.sack {
            fast.inflation = fast.inflation.saturating_add(tcb.segment_size);
        }
        return;
    }
    let may_recover = tcb.send_unacknowledged.after(tcb.recover) && !tcb.negotiated.sack;
    if tcb.duplicate_acks >= DUPLICATE_THRESHOLD && may_recover {
        loss::enter_recovery(tcb, context);
    }
}

/// RFC 9293 SND.WL1/SND.WL2 rule.
fn update_window(tcb: &mut Tcb, segment: &Segment<'_>) {
    let newer = tcb.send_window_sequence.before(segment.sequence)
        || (tcb.send_window_sequence == segment.sequence
            && tcb
                .send_window_acknowledgment
                .before_or_at(segment.acknowledgment));
    if !newer {
        return;
    }
    tcb.send_window = u32::from(segment.window) << tcb.send_scale;
    tcb.send_window_sequence = segment.sequence;
    tcb.send_window_acknowledgment = segment.acknowledgment;
    tcb.maximum_send_window = tcb.maximum_send_window.max(tcb.send_window);
}
