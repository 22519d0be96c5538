//! Segment arrival in the synchronized states and SYN-RECEIVED (RFC 9293
//! 3.10.7.4, with RFC 5961 and RFC 7323 PAWS): acceptability, RST, SYN,
//! ACK, text and FIN processing, in the RFC's order.

use crate::acknowledgment::acknowledge;
use crate::context::Context;
use crate::header::{Flags, Segment};
use crate::output::{Outgoing, transmit};
use crate::sender::{challenge, send_reset, send_syn};
use crate::state::State;
use crate::tcb::Tcb;
use crate::{TcpError, Transmit};

/// Processes one segment for a connection past SYN-SENT.
pub fn synchronized(
    tcb: &mut Tcb,
    context: &mut Context,
    segment: &Segment<'_>,
    tx: &mut dyn Transmit,
) {
    let mut segment = *segment;
    tcb.last_received_ns = context.now;
    tcb.keepalive_probes = 0;
    tcb.window_probes = 0;
    if tcb.state == State::SynReceived
        && segment.has(Flags::SYN)
        && segment.sequence == tcb.initial_receive
    {
        if !segment.has(Flags::ACK) {
            // The peer did not get our SYN-ACK.
            send_syn(tcb, context, tx);
            return;
        }
        // Simultaneous open: the SYN part was seen, keep the ACK part.
        segment.flags = Flags(segment.flags.0 & !Flags::SYN.0);
        segment.sequence = segment.sequence.add(1);
    }
    if !passes_checks(tcb, context, &segment) {
        return;
    }
    crate::ecn::arrived(tcb, context, &segment);
    if segment.has(Flags::RST) {
        reset_arrived(tcb, context, &segment, tx);
        return;
    }
    if segment.has(Flags::SYN) {
        // RFC 5961 4.2: any SYN in a synchronized state.
        challenge(tcb, context, tx);
        return;
    }
    if !segment.has(Flags::ACK) {
        return;
    }
    if tcb.state == State::SynReceived && !establish(tcb, context, &segment, tx) {
        return;
    }
    if !acknowledge(tcb, context, &segment) {
        return;
    }
    update_timestamp_recent(tcb, &segment);
    after_acknowledgment(tcb, context);
    if tcb.state != State::Closed {
        receive_text(tcb, context, &segment, tx);
    }
}

/// PAWS and the acceptability test; owes an ACK for a rejected segment.
fn passes_checks(tcb: &mut Tcb, context: &mut Context, segment: &Segment<'_>) -> bool {
    let reset = segment.has(Flags::RST);
    if paws_rejects(tcb, segment) {
        context.stats.paws_rejects += 1;
        if !reset {
            owe_out_of_window_ack(tcb, context, segment);
        }
        return false;
    }
    if acceptable(tcb, segment) {
        return true;
    }
    context.stats.unacceptable_segments += 1;
    let end = segment.sequence.add(segment.sequence_length());
    if end.before_or_at(tcb.receive.next()) && segment.sequence_length() > 0 {
        context.stats.duplicate_segments += 1;
        report_duplicate(tcb, segment);
    }
    if !reset {
        owe_out_of_window_ack(tcb, context, segment);
        if tcb.state == State::TimeWait && segment.has(Flags::FIN) {
            tcb.timers.close = Some(context.now + context.config.time_wait_ns);
        }
    }
    false
}

/// Remembers the part of `segment` below RCV.NXT for a D-SACK.
fn report_duplicate(tcb: &mut Tcb, segment: &Segment<'_>) {
    let start = segment.sequence;
    let end = start
        .add(segment.payload.len() as u32)
        .earliest(tcb.receive.next());
    if start.before(end) {
        tcb.duplicate_received = Some(crate::options::SackBlock { start, end });
    }
}

/// Linux's limit on ACKs answering pure ACKs and SYNs out of the window.
pub const OUT_OF_WINDOW_ACK_INTERVAL_NS: u64 = 500_000_000;

/// Owes an ACK for a segment we cannot use. Two ends that disagree about
/// sequence numbers would otherwise answer each other's ACKs forever, so
/// answers to segments without data are rate-limited per connection (like
/// Linux's `tcp_invalid_ratelimit`); data always gets its ACK.
pub fn owe_out_of_window_ack(tcb: &mut Tcb, context: &Context, segment: &Segment<'_>) {
    let carries_data = !segment.payload.is_empty() && !segment.has(Flags::SYN);
    let recent = tcb
        .last_out_of_window_ack_ns
        .is_some_and(|last| context.now.saturating_sub(last) < OUT_OF_WINDOW_ACK_INTERVAL_NS);
    if carries_data || !recent {
        tcb.acknowledge_now = true;
        if !carries_data {
            tcb.last_out_of_window_ack_ns = Some(context.now);
        }
    }
}

/// RFC 7323 5.3: a TSval older than TS.Recent marks an old duplicate.
/// Like Linux, a pure ACK at RCV.NXT is let through: ACKs overtaking one
/// another carry no data to protect, and dropping them loses SACK news.
fn paws_rejects(tcb: &Tcb, segment: &Segment<'_>) -> bool {
    let Some((value, _)) = segment.options.timestamp else {
        return false;
    };
    let control = Flags::SYN.with(Flags::FIN).with(Flags::RST);
    let pure_ack = segment.payload.is_empty()
        && segment.flags.0 & control.0 == 0
        && segment.sequence == tcb.receive.next();
    tcb.negotiated.timestamps
        && !segment.has(Flags::RST)
        && !pure_ack
        && (value.wrapping_sub(tcb.timestamp_recent) as i32) < 0
}

/// RFC 9293 3.10.7.4 first check; a zero window still admits the segment
/// at RCV.NXT so its ACK and RST are seen (its text is dropped later).
fn acceptable(tcb: &Tcb, segment: &Segment<'_>) -> bool {
    let next = tcb.receive.next();
    let window = tcb.receive_window();
    let length = segment.sequence_length();
    let start = segment.sequence;
    if window == 0 {
        return start == next;
    }
    if length == 0 {
        return start.within(next, window);
    }
    start.within(next, window) || start.add(length - 1).within(next, window)
}

/// RFC 5961 3.2: only an exact RST resets; an in-window one is challenged.
fn reset_arrived(
    tcb: &mut Tcb,
    context: &mut Context,
    segment: &Segment<'_>,
    tx: &mut dyn Transmit,
) {
    if segment.sequence != tcb.receive.next() {
        challenge(tcb, context, tx);
        return;
    }
    context.stats.resets_received += 1;
    let error = match tcb.state {
        State::SynReceived if tcb.role.in_syn_queue() => None,
        State::SynReceived => Some(TcpError::ConnectionRefused),
        State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
            Some(TcpError::ConnectionReset)
        }
        _ => None,
    };
    close_connection(tcb, context, error);
}

/// Ends the connection: CLOSED, no timers, the error recorded; the user's
/// socket is Finished, or Unbound again if the handshake never completed.
pub fn close_connection(tcb: &mut Tcb, context: &mut Context, error: Option<TcpError>) {
    tcb.role.connection_closed(tcb.state.is_synchronized());
    tcb.state = State::Closed;
    tcb.stop_timers();
    tcb.release_storage(&mut context.memory);
    if error.is_some() {
        tcb.error = error;
    }
    context.notify(tcb);
}

/// SYN-RECEIVED: an ACK of our SYN completes the handshake.
fn establish(
    tcb: &mut Tcb,
    context: &mut Context,
    segment: &Segment<'_>,
    tx: &mut dyn Transmit,
) -> bool {
    let ack = segment.acknowledgment;
    if !(ack.after(tcb.send_unacknowledged) && ack.before_or_at(tcb.send_maximum)) {
        let reset = Outgoing {
            sequence: ack,
            length: 0,
            flags: Flags::RST,
        };
        transmit(tcb, context, tx, reset);
        return false;
    }
    tcb.state = if tcb.fin_queued {
        State::FinWait1
    } else {
        State::Established
    };
    tcb.send_window = u32::from(segment.window) << tcb.send_scale;
    tcb.send_window_sequence = segment.sequence;
    tcb.send_window_acknowledgment = ack;
    tcb.maximum_send_window = tcb.maximum_send_window.max(tcb.send_window);
    mark_connected(tcb, context);
    true
}

/// Bookkeeping when a connection reaches ESTABLISHED.
pub fn mark_connected(tcb: &mut Tcb, context: &mut Context) {
    tcb.backoff = 0;
    tcb.rtt.handshake_completed();
    context.stats.established += 1;
    if tcb.options.keep_alive {
        tcb.timers.keepalive = Some(context.now + context.config.keepalive_idle_ns);
    }
    context.notify(tcb);
}

/// RFC 7323 4.3: TS.Recent follows the segment at the left window edge.
fn update_timestamp_recent(tcb: &mut Tcb, segment: &Segment<'_>) {
    let Some((value, _)) = segment.options.timestamp else {
        return;
    };
    let newer = (value.wrapping_sub(tcb.timestamp_recent) as i32) >= 0;
    if tcb.negotiated.timestamps
        && newer
        && segment.sequence.before_or_at(tcb.last_acknowledgment_sent)
    {
        tcb.timestamp_recent = value;
    }
}

/// State changes when our FIN is acknowledged.
fn after_acknowledgment(tcb: &mut Tcb, context: &mut Context) {
    if !tcb.fin_acknowledged() {
        return;
    }
    match tcb.state {
        State::FinWait1 => {
            tcb.state = State::FinWait2;
            if !tcb.role.is_user_held() {
                tcb.timers.close = Some(context.now + context.config.fin_wait_2_timeout_ns);
            }
            context.notify(tcb);
        }
        State::Closing => enter_time_wait(tcb, context),
        State::LastAck => close_connection(tcb, context, None),
        _ => {}
    }
}

/// TIME-WAIT for 2 MSL.
fn enter_time_wait(tcb: &mut Tcb, context: &mut Context) {
    tcb.state = State::TimeWait;
    tcb.stop_timers();
    tcb.release_storage(&mut context.memory);
    tcb.timers.close = Some(context.now + context.config.time_wait_ns);
    context.notify(tcb);
}

/// The segment text and FIN (RFC 9293 seventh and eighth checks).
fn receive_text(
    tcb: &mut Tcb,
    context: &mut Context,
    segment: &Segment<'_>,
    tx: &mut dyn Transmit,
) {
    let fin = segment.has(Flags::FIN);
    if (segment.payload.is_empty() && !fin) || !tcb.state.receives_data() {
        return;
    }
    if tcb.read_shutdown && !tcb.role.is_user_held() && !segment.payload.is_empty() {
        // RFC 9293 3.10.7.4 / RFC 2525: data for a closed socket.
        send_reset(tcb, context, tx);
        close_connection(tcb, context, None);
        return;
    }
    let had_holes = tcb.receive.has_holes();
    if segment.sequence.before(tcb.receive.next()) {
        report_duplicate(tcb, segment);
    }
    let insertion = tcb
        .receive
        .insert(segment.sequence, segment.payload, fin, &mut context.memory);
    if tcb.read_shutdown {
        tcb.receive.discard();
    }
    let size = (segment.payload.len() as u32).min(u32::from(tcb.announced_segment_size));
    tcb.receive_segment_size = tcb.receive_segment_size.max(size);
    context.stats.out_of_order_bytes += insertion.out_of_order as u64;
    if insertion.readable == 0 && insertion.out_of_order == 0 && insertion.duplicate > 0 {
        context.stats.duplicate_segments += 1;
    }
    if insertion.readable > 0 {
        context.notify(tcb);
    }
    schedule_acknowledgment(tcb, context, &insertion, had_holes);
    if insertion.fin {
        fin_arrived(tcb, context);
    }
}

/// RFC 9293 3.8.6.3 and RFC 5681 4.2: ACK every second full segment, at
/// once for anything out of order, else within the delayed ACK timeout.
fn schedule_acknowledgment(
    tcb: &mut Tcb,
    context: &Context,
    insertion: &crate::receive::Insertion,
    had_holes: bool,
) {
    tcb.unacknowledged_bytes = tcb
        .unacknowledged_bytes
        .saturating_add(insertion.readable as u32);
    let irregular = insertion.out_of_order > 0
        || insertion.duplicate > 0
        || insertion.dropped
        || had_holes
        || tcb.receive.has_holes()
        || insertion.fin;
    if irregular || tcb.unacknowledged_bytes >= 2 * tcb.receive_segment_size {
        tcb.acknowledge_now = true;
    } else if insertion.readable > 0 && tcb.timers.delayed_ack.is_none() {
        tcb.timers.delayed_ack = Some(context.now + context.config.delayed_ack_ns);
    }
}

fn fin_arrived(tcb: &mut Tcb, context: &mut Context) {
    context.notify(tcb);
    match tcb.state {
        State::SynReceived | State::Established => tcb.state = State::CloseWait,
        State::FinWait1 if tcb.fin_acknowledged() => enter_time_wait(tcb, context),
        State::FinWait1 => tcb.state = State::Closing,
        State::FinWait2 => enter_time_wait(tcb, context),
        _ => {}
    }
}
