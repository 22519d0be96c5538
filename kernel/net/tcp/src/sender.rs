//! Deciding what a connection sends: new data under the peer's window, the
//! congestion window, Nagle and sender-side SWS avoidance; retransmissions
//! in loss recovery (NewReno and SACK); SYNs, resets and probes. Also arms
//! the retransmission and persist timers.
//!
//! [`output`] is called at the end of every event that may allow sending
//! (user send, ACK arrival, timer); it sends until nothing more is allowed
//! and then sends a pure ACK if one is still owed.

use crate::Transmit;
use crate::config::State;
use crate::congestion::CongestionControl;
use crate::context::Context;
use crate::header::Flags;
use crate::output::{Outgoing, transmit};
use crate::tcb::Tcb;

/// Segments one call may send at most: a guard, far above any window.
const BURST_LIMIT: usize = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The segment at SND.UNA, by fast retransmit or a partial ACK.
    First,
    /// A SACK hole in recovery.
    Hole,
    /// From SND.NXT on (after a timeout, partly a retransmission).
    Next,
}

/// Sends what is allowed now, then any owed ACK; re-arms timers.
pub fn output(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    let sending = matches!(
        tcb.state,
        State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck
    );
    if sending {
        for _ in 0..BURST_LIMIT {
            let Some((outgoing, kind)) = next_segment(tcb) else {
                break;
            };
            send(tcb, context, tx, outgoing, kind);
        }
        arm_timers(tcb, context);
    }
    let acknowledging = tcb.state.is_synchronized() || tcb.state == State::SynReceived;
    if tcb.acknowledge_now && acknowledging {
        transmit(tcb, context, tx, Outgoing::acknowledgment(tcb));
    }
}

fn next_segment(tcb: &mut Tcb) -> Option<(Outgoing, Kind)> {
    if tcb.retransmit_first {
        match first_segment(tcb) {
            Some(outgoing) => return Some((outgoing, Kind::First)),
            None => tcb.retransmit_first = false,
        }
    }
    if tcb.sack
        && tcb.recovery.is_some()
        && let Some(outgoing) = sack_hole(tcb)
    {
        return Some((outgoing, Kind::Hole));
    }
    new_data(tcb).map(|outgoing| (outgoing, Kind::Next))
}

/// Bytes in flight: RFC 6675 pipe in SACK recovery, else SND.NXT - SND.UNA.
pub fn in_flight(tcb: &Tcb) -> u32 {
    match tcb.recovery {
        Some(recovery) if tcb.sack => tcb.scoreboard.pipe(
            tcb.send_unacknowledged,
            tcb.send_next,
            recovery.retransmitted,
            tcb.segment_size,
        ),
        _ => tcb.send_next.since(tcb.send_unacknowledged),
    }
}

fn congestion_room(tcb: &Tcb) -> u32 {
    let inflation = tcb
        .recovery
        .map_or_else(|| limited_transmit(tcb), |recovery| recovery.inflation);
    let window = tcb.congestion.window().saturating_add(inflation);
    window.saturating_sub(in_flight(tcb))
}

/// RFC 3042: the first two duplicate ACKs each let one new segment out
/// beyond the congestion window, so the receiver can send the third.
fn limited_transmit(tcb: &Tcb) -> u32 {
    tcb.duplicate_acks.min(2) * tcb.segment_size
}

fn first_segment(tcb: &Tcb) -> Option<Outgoing> {
    let start = tcb.send_unacknowledged;
    let data_end = tcb.send_buffer.end();
    let length = data_end.saturating_since(start).min(tcb.segment_size);
    let with_fin = tcb.fin_sent() && start.add(length) == data_end;
    if length == 0 && !with_fin {
        return None;
    }
    let flags = if with_fin { Flags::FIN } else { Flags::ACK };
    Some(Outgoing {
        sequence: start,
        length,
        flags,
    })
}

fn sack_hole(tcb: &Tcb) -> Option<Outgoing> {
    let recovery = tcb.recovery?;
    if congestion_room(tcb) == 0 {
        return None;
    }
    let from = recovery.retransmitted.latest(tcb.send_unacknowledged);
    let (start, end) = tcb.scoreboard.next_hole(from)?;
    if !tcb.scoreboard.is_lost(start, tcb.segment_size) {
        return None;
    }
    let data_end = tcb.send_buffer.end();
    let length = end
        .earliest(data_end)
        .saturating_since(start)
        .min(tcb.segment_size);
    (length > 0).then_some(Outgoing {
        sequence: start,
        length,
        flags: Flags::ACK,
    })
}

fn new_data(tcb: &Tcb) -> Option<Outgoing> {
    let next = tcb.send_next;
    let data_end = tcb.send_buffer.end();
    let available = data_end.saturating_since(next);
    let fin_pending = tcb.fin_queued && next.before_or_at(data_end);
    let window_edge = tcb.send_unacknowledged.add(tcb.send_window);
    let window_room = window_edge.saturating_since(next);
    let congestion = congestion_room(tcb);
    let length = available
        .min(tcb.segment_size)
        .min(window_room)
        .min(congestion);
    let fin = fin_pending && length == available && window_room > length && congestion > 0;
    if length == 0 && !fin {
        return None;
    }
    let retransmission = next.before(tcb.send_maximum);
    let small = length < tcb.segment_size && !fin && !retransmission && !tcb.force_send;
    if small && !small_segment_allowed(tcb, length, available) {
        return None;
    }
    let mut flags = Flags::ACK;
    if length == available && length > 0 {
        flags = flags.with(Flags::PSH);
    }
    if fin {
        flags = flags.with(Flags::FIN);
    }
    Some(Outgoing {
        sequence: next,
        length,
        flags,
    })
}

/// Nagle (RFC 896) and sender SWS avoidance (RFC 9293 3.8.6.2.1).
fn small_segment_allowed(tcb: &Tcb, length: u32, available: u32) -> bool {
    if length == 0 {
        return false;
    }
    let everything = length == available;
    let nagle = tcb.options.no_delay || tcb.outstanding() == 0;
    (everything && nagle) || length >= tcb.maximum_send_window / 2
}

fn send(
    tcb: &mut Tcb,
    context: &mut Context,
    tx: &mut dyn Transmit,
    outgoing: Outgoing,
    kind: Kind,
) {
    let fin = u32::from(outgoing.flags.contains(Flags::FIN));
    let end = outgoing.sequence.add(outgoing.length + fin);
    let retransmission = outgoing.sequence.before(tcb.send_maximum);
    if retransmission {
        context.stats.retransmitted_segments += 1;
    }
    transmit(tcb, context, tx, outgoing);
    tcb.force_send = false;
    match kind {
        Kind::First | Kind::Hole => {
            tcb.retransmit_first &= kind != Kind::First;
            if let Some(recovery) = tcb.recovery.as_mut() {
                recovery.retransmitted = recovery.retransmitted.latest(end);
            }
        }
        Kind::Next => {
            tcb.send_next = end;
            if end.after(tcb.send_maximum) {
                if tcb.timed.is_none() && !retransmission {
                    tcb.timed = Some((end, context.now));
                }
                tcb.send_maximum = end;
            }
        }
    }
}

/// RFC 6298 5.1 and 5.2 for the retransmission timer; the persist timer
/// runs while data waits and nothing is in flight.
fn arm_timers(tcb: &mut Tcb, context: &Context) {
    if tcb.outstanding() > 0 {
        if tcb.timers.retransmit.is_none() {
            tcb.timers.retransmit = Some(context.now + tcb.retransmission_timeout());
        }
        tcb.timers.persist = None;
        return;
    }
    tcb.timers.retransmit = None;
    let waiting = tcb.send_buffer.end().after(tcb.send_next) || (tcb.fin_queued && !tcb.fin_sent());
    if !waiting {
        tcb.timers.persist = None;
    } else if tcb.timers.persist.is_none() {
        tcb.timers.persist = Some(context.now + tcb.retransmission_timeout());
    }
}

/// Sends (or resends) our SYN, or SYN-ACK in SYN-RECEIVED, and arms the
/// retransmission timer.
pub fn send_syn(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    let first = tcb.send_maximum == tcb.initial_send;
    if !first {
        context.stats.retransmitted_segments += 1;
    }
    let outgoing = Outgoing {
        sequence: tcb.initial_send,
        length: 0,
        flags: Flags::SYN,
    };
    transmit(tcb, context, tx, outgoing);
    let end = tcb.initial_send.add(1);
    tcb.send_next = end;
    tcb.send_maximum = end;
    if first {
        tcb.timed = Some((end, context.now));
    }
    tcb.timers.retransmit = Some(context.now + tcb.retransmission_timeout());
}

/// Sends a reset from a connection (abort, RFC 2525 data after close).
pub fn send_reset(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    let outgoing = Outgoing {
        sequence: tcb.send_maximum,
        length: 0,
        flags: Flags::RST.with(Flags::ACK),
    };
    transmit(tcb, context, tx, outgoing);
}

/// Sends an ACK at SND.UNA - 1: a keepalive or zero-window probe the peer
/// must answer with an ACK.
pub fn send_probe(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    let sequence = tcb.send_unacknowledged.subtract(1);
    transmit(
        tcb,
        context,
        tx,
        Outgoing {
            sequence,
            length: 0,
            flags: Flags::ACK,
        },
    );
}

/// Sends a challenge ACK if the rate limit allows (RFC 5961).
pub fn challenge(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    if context.allow_challenge() {
        transmit(tcb, context, tx, Outgoing::acknowledgment(tcb));
    }
}

/// After the user read data: tells the peer when the window opened by at
/// least min(buffer / 2, 2 MSS) (RFC 9293 3.8.6.2.2).
pub fn window_update(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    if !tcb.state.receives_data() {
        return;
    }
    let available = tcb.receive.window() as u32;
    let current = tcb.receive_window();
    let threshold = ((tcb.receive.limit() / 2) as u32)
        .min(2 * tcb.segment_size)
        .max(1);
    if available >= current.saturating_add(threshold) {
        transmit(tcb, context, tx, Outgoing::acknowledgment(tcb));
    }
}
