//! Deciding what a connection sends: new data under the peer's window, the
//! congestion window, Nagle and sender-side SWS avoidance; retransmissions
//! of the flight records marked lost (SACK and RACK, after a timeout, or
//! NewReno's first segment); SYNs, resets and probes. Also arms the
//! retransmission, tail loss probe and persist timers.
//!
//! [`output`] is called at the end of every event that may allow sending
//! (user send, ACK arrival, timer); it sends until nothing more is allowed
//! and then sends a pure ACK if one is still owed.

use crate::address::zone_of;
use crate::congestion::CongestionControl;
use crate::context::Context;
use crate::flight::Mark;
use crate::forward::{self, Step};
use crate::header::Flags;
use crate::output::{Outgoing, transmit, transmit_marked};
use crate::sequence::Sequence;
use crate::state::{Recovery, State};
use crate::tcb::Tcb;
use crate::{Offload, Transmit};

/// Segments one call may send at most: a guard, far above any window.
const BURST_LIMIT: usize = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Flight record `index` again (lost, fast retransmit, partial ACK or
    /// probe).
    Retransmit(usize),
    /// New data from SND.NXT on.
    Next,
}

/// What one output pass may do beyond the usual rules, for its first
/// segment only: the persist timer and the tail loss probe each want one
/// segment out. (These were `force_send` and `probing`, flags set around
/// one call; they are arguments of the pass now.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The usual rules.
    Normal,
    /// Persist with a window too small for sender SWS avoidance: the first
    /// segment ignores SWS avoidance.
    Forced,
    /// A tail loss probe: the first segment ignores SWS avoidance and may
    /// exceed the congestion window by one segment. (The probe is sent
    /// only with nothing marked lost, so that first segment is new data.)
    Probe,
}

/// Sends what is allowed now, then any owed ACK; re-arms timers.
pub fn output(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    output_pass(tcb, context, tx, Pass::Normal);
}

/// [`output`] with the first segment's allowance `pass`.
pub fn output_pass(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit, pass: Pass) {
    let sending = matches!(
        tcb.state,
        State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck
    );
    if sending {
        tcb.offload = tx
            .route(tcb.remote.ip(), zone_of(tcb.remote))
            .map_or(Offload::NONE, |route| route.offload);
        match forward::step(tcb) {
            // F-RTO step 1: the first segment again, nothing else yet.
            Some(Step::Retransmitted) => send_segments(tcb, context, tx, (pass, Scope::First)),
            // Step 2b: new data, no retransmission; if none can go, the
            // repair goes on as after any timeout.
            Some(Step::SendNew) => {
                send_segments(tcb, context, tx, (pass, Scope::New));
                if !forward::new_data_sent(tcb) {
                    send_segments(tcb, context, tx, (pass, Scope::All));
                }
            }
            _ => send_segments(tcb, context, tx, (pass, Scope::All)),
        }
        arm_timers(tcb, context);
    }
    let acknowledging = tcb.state.is_synchronized() || tcb.state == State::SynReceived;
    if tcb.acknowledge_now && acknowledging {
        transmit(tcb, context, tx, Outgoing::acknowledgment(tcb));
    }
}

/// What an output pass may send: F-RTO narrows it (`forward.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Whatever the rules allow.
    All,
    /// The first segment, if lost: nothing else.
    First,
    /// Up to two new segments: no retransmission.
    New,
}

/// Sends what the rules allow within `scope`, the first segment with
/// `pass`'s allowance.
fn send_segments(
    tcb: &mut Tcb,
    context: &mut Context,
    tx: &mut dyn Transmit,
    (mut pass, scope): (Pass, Scope),
) {
    let limit = match scope {
        Scope::All => BURST_LIMIT,
        Scope::First => 1,
        Scope::New => forward::NEW_SEGMENTS,
    };
    for _ in 0..limit {
        let Some((outgoing, kind)) = next_segment(tcb, context, pass, scope) else {
            break;
        };
        let records = match kind {
            Kind::Next => outgoing.length.div_ceil(tcb.segment_size.max(1)).max(1),
            Kind::Retransmit(_) => 0,
        };
        if !tcb.flight.make_room(records as usize, &mut context.memory) {
            // No memory for its flight record: new data waits (the
            // persist timer comes back for it).
            break;
        }
        send(tcb, context, tx, outgoing, kind);
        pass = Pass::Normal;
    }
}

/// RFC 6675 NextSeg: a lost segment first (the first one at once on fast
/// retransmit), then new data; within `scope`.
fn next_segment(
    tcb: &mut Tcb,
    context: &mut Context,
    pass: Pass,
    scope: Scope,
) -> Option<(Outgoing, Kind)> {
    if tcb.recovery.retransmit_pending() {
        let index = if tcb.negotiated.sack {
            tcb.flight.first_lost().unwrap_or(0)
        } else {
            0
        };
        crate::path_mtu::before_retransmission(tcb, context, index);
        match record_segment(tcb, index) {
            Some(outgoing) => return Some((outgoing, Kind::Retransmit(index))),
            None => tcb.recovery.retransmission_sent(),
        }
    }
    if scope != Scope::New
        && congestion_room(tcb, pass) > 0
        && let Some(index) = tcb.flight.first_lost()
        && (scope == Scope::All || index == 0)
    {
        crate::path_mtu::before_retransmission(tcb, context, index);
        if let Some(outgoing) = record_segment(tcb, index)
            && fits(tcb, pass, outgoing.length)
        {
            return Some((outgoing, Kind::Retransmit(index)));
        }
    }
    if scope == Scope::First {
        return None;
    }
    new_data(tcb, pass).map(|outgoing| (outgoing, Kind::Next))
}

/// A retransmission of `length` bytes may go: with PRR only when the
/// allowance holds it whole, else when there is any room (RFC 6675 counts
/// whole segments). New data needs no such test: a segment cut short by
/// the room is held back by sender SWS avoidance.
fn fits(tcb: &Tcb, pass: Pass, length: u32) -> bool {
    let proportional = tcb.negotiated.sack && matches!(tcb.recovery, Recovery::Fast(_));
    !proportional || congestion_room(tcb, pass) >= length.max(1)
}

/// Bytes in flight: RFC 6675 `pipe` (SACKed and lost bytes left out).
pub fn in_flight(tcb: &Tcb) -> u32 {
    tcb.flight.pipe()
}

fn congestion_room(tcb: &Tcb, pass: Pass) -> u32 {
    let (allowance, fast) = match &tcb.recovery {
        // RFC 6937: what the last ACK allows (see `fits`).
        Recovery::Fast(fast) if tcb.negotiated.sack => return fast.prr.allowance,
        Recovery::Fast(fast) => (fast.inflation, true),
        _ => (limited_transmit(tcb), false),
    };
    let probe = if pass == Pass::Probe {
        tcb.segment_size
    } else {
        0
    };
    let window = tcb
        .congestion
        .window()
        .saturating_add(allowance)
        .saturating_add(probe);
    let room = window.saturating_sub(in_flight(tcb));
    if fast && room > 0 {
        // RFC 6675 counts whole segments: a partial one still sends.
        return room.max(tcb.segment_size);
    }
    room
}

/// RFC 3042: without SACK, the first two duplicate ACKs each let one new
/// segment out beyond the congestion window, so the receiver can send the
/// third. With SACK the pipe already shrinks by what was SACKed.
fn limited_transmit(tcb: &Tcb) -> u32 {
    if tcb.negotiated.sack {
        return 0;
    }
    tcb.duplicate_acks.min(2) * tcb.segment_size
}

/// The segment that retransmits flight record `index`, unless SACKed. A
/// record longer than a segment (the path MTU fell and memory refused
/// splitting it) goes out in part: its head, the rest after the ACK.
fn record_segment(tcb: &Tcb, index: usize) -> Option<Outgoing> {
    let sent = tcb.flight.get(index)?;
    if sent.mark == Mark::Sacked {
        return None;
    }
    let with_fin = tcb.fin_sent() && sent.end == tcb.send_buffer.end().add(1);
    let data = sent.length().saturating_sub(u32::from(with_fin));
    let length = data.min(tcb.segment_size);
    let with_fin = with_fin && length == data;
    let flags = if with_fin { Flags::FIN } else { Flags::ACK };
    Some(Outgoing {
        sequence: sent.start,
        length,
        flags,
    })
}

/// Retransmits flight record `index` now (a tail loss probe).
pub fn retransmit(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit, index: usize) {
    crate::path_mtu::before_retransmission(tcb, context, index);
    if let Some(outgoing) = record_segment(tcb, index) {
        send(tcb, context, tx, outgoing, Kind::Retransmit(index));
    }
}

fn new_data(tcb: &Tcb, pass: Pass) -> Option<Outgoing> {
    let next = tcb.send_next;
    let data_end = tcb.send_buffer.end();
    let available = data_end.saturating_since(next);
    let fin_pending = tcb.fin_queued && next.before_or_at(data_end);
    let window_edge = tcb.send_unacknowledged.add(tcb.send_window);
    let window_room = window_edge.saturating_since(next);
    let congestion = congestion_room(tcb, pass);
    let room = available.min(window_room).min(congestion);
    // A path MTU probe is one whole larger segment, or none.
    let probe = crate::path_mtu::probe_length(tcb).filter(|&probe| room >= probe);
    let length = match probe {
        Some(probe) => probe,
        None => whole_segments(tcb, room.min(burst_limit(tcb))),
    };
    let fin = fin_pending
        && length == available
        && length <= tcb.segment_size
        && window_room > length
        && congestion > 0;
    if length == 0 && !fin {
        return None;
    }
    let small = length < tcb.segment_size && !fin && pass == Pass::Normal;
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

/// The most new data one segment handed to the IP layer may carry: one
/// segment, or a burst of whole segments the device cuts (TSO) where the
/// route offers it. Not while a CWR is due: it belongs on one segment.
fn burst_limit(tcb: &Tcb) -> u32 {
    let limit = tcb.offload.segment_limit;
    let cwr_due = tcb.negotiated.ecn && tcb.ecn.reduced;
    let searching = tcb.path_mtu.is_searching();
    if limit <= tcb.segment_size || cwr_due || searching || !tcb.offload.checksum {
        return tcb.segment_size;
    }
    limit
}

/// `length` cut to whole segments when it is more than one: a burst is
/// whole segments, and never carries the FIN.
fn whole_segments(tcb: &Tcb, length: u32) -> u32 {
    match length > tcb.segment_size {
        true => length - length % tcb.segment_size,
        false => length,
    }
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
    if let Recovery::Fast(fast) = &mut tcb.recovery {
        fast.prr.spent(outgoing.length + fin);
    }
    if kind == Kind::Next && outgoing.length > 0 {
        let (ecn, flags) = crate::ecn::new_data(tcb, outgoing.flags);
        transmit_marked(tcb, context, tx, Outgoing { flags, ..outgoing }, ecn);
    } else {
        transmit(tcb, context, tx, outgoing);
    }
    match kind {
        Kind::Retransmit(index) => {
            context.stats.retransmitted_segments += 1;
            tcb.recovery.retransmission_sent();
            tcb.flight.retransmitted(index, context.now);
            // Karn's rule: no sample from a segment sent twice.
            let covered = |(timed, _): (Sequence, u64)| {
                timed.after(outgoing.sequence) && timed.before_or_at(end)
            };
            if tcb.timed.is_some_and(covered) {
                tcb.timed = None;
            }
        }
        Kind::Next => {
            tcb.timers.probe = None;
            if crate::path_mtu::sent(tcb, context, (outgoing.sequence, end)) {
                tcb.flight.push(outgoing.sequence, end, context.now);
            } else {
                push_records(tcb, outgoing.sequence, end, context.now);
            }
            tcb.send_next = end;
            if tcb.timed.is_none() {
                tcb.timed = Some((end, context.now));
            }
            tcb.send_maximum = end;
        }
    }
}

/// Records `[start, end)` in the flight, one record per segment of a burst
/// the device cuts, so loss recovery sees the segments the peer sees.
fn push_records(tcb: &mut Tcb, start: Sequence, end: Sequence, now: u64) {
    let size = tcb.segment_size.max(1);
    let mut from = start;
    while end.saturating_since(from) > size {
        let to = from.add(size);
        tcb.flight.push(from, to, now);
        from = to;
    }
    tcb.flight.push(from, end, now);
}

/// RFC 6298 5.1 and 5.2 for the retransmission timer; the persist timer
/// runs while data waits and nothing is in flight.
fn arm_timers(tcb: &mut Tcb, context: &Context) {
    if tcb.outstanding() > 0 {
        if tcb.timers.retransmit.is_none() {
            tcb.timers.retransmit = Some(context.now + tcb.retransmission_timeout());
        }
        tcb.timers.persist = None;
        crate::probe::arm(tcb, context);
        return;
    }
    tcb.timers.retransmit = None;
    tcb.timers.probe = None;
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
    let answer = tcb.state == State::SynReceived;
    if !first {
        context.stats.retransmitted_segments += 1;
        // RFC 3168 6.1.1.1: ask for ECN no more, in case a middlebox
        // dropped the SYN for it.
        tcb.negotiated.ecn &= answer;
    }
    let outgoing = Outgoing {
        sequence: tcb.initial_send,
        length: 0,
        flags: Flags::SYN.with(crate::ecn::setup_flags(tcb, answer)),
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

/// After the user read data: tells the peer of the opened window when it
/// matters (RFC 9293 3.8.6.2.2: once it grew by min(buffer / 2, 2 MSS)).
/// An ACK already owed (delayed, or with SACK blocks for a hole) goes at
/// once. Otherwise only when the window the peer may still fill is at
/// most half the buffer (or of the largest window the scale can say) and
/// the new one at least doubles it, as Linux's `tcp_cleanup_rbuf` does:
/// before that, the ACKs of what the peer sends carry the window. Bulk
/// receivers read in pieces far smaller than their window, and an update
/// per read was a frame and a device notification per read. A zero
/// window always reopens.
pub fn window_update(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    if !tcb.state.receives_data() {
        return;
    }
    let largest = u32::from(u16::MAX) << tcb.receive_scale;
    let limit = (tcb.receive.limit() as u32).min(largest);
    let current = tcb.receive_window();
    let owed = tcb.timers.delayed_ack.is_some() || tcb.receive.has_holes();
    let available = (tcb.receive.window() as u32).min(limit);
    let threshold = (limit / 2).min(2 * tcb.segment_size).max(1);
    let grown = available >= current.saturating_add(threshold);
    let peer_may_stall =
        current.saturating_mul(2) <= limit && available >= current.saturating_mul(2);
    if grown && (owed || peer_may_stall) {
        transmit(tcb, context, tx, Outgoing::acknowledgment(tcb));
    }
}
