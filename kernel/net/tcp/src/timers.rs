//! What happens when a connection's timers expire: retransmission (with
//! backoff and giving up), persist probes, delayed ACKs, keepalive, and the
//! end of TIME-WAIT, FIN-WAIT-2 of a closed socket, or linger.

use crate::address::zone_of;
use crate::arrival::close_connection;
use crate::congestion::CongestionControl;
use crate::context::Context;
use crate::output::{Outgoing, transmit};
use crate::sender::{Pass, output, output_pass, send_probe, send_reset, send_syn};
use crate::state::State;
use crate::tcb::Tcb;
use crate::{TcpError, Transmit};

/// A socket's timers; `None` is disarmed, `Some(t)` fires at `t` ns.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timers {
    /// Retransmission (also SYN and SYN-ACK retransmission).
    pub retransmit: Option<u64>,
    /// RACK's reordering timer: re-check segments not yet overdue.
    pub reorder: Option<u64>,
    /// The tail loss probe timeout (PTO).
    pub probe: Option<u64>,
    /// Zero-window probe (persist).
    pub persist: Option<u64>,
    /// Delayed ACK.
    pub delayed_ack: Option<u64>,
    /// Keepalive.
    pub keepalive: Option<u64>,
    /// TIME-WAIT end, FIN-WAIT-2 timeout of a closed socket, or linger end.
    pub close: Option<u64>,
}

impl Timers {
    /// The earliest armed deadline.
    pub fn earliest(&self) -> Option<u64> {
        [
            self.retransmit,
            self.reorder,
            self.probe,
            self.persist,
            self.delayed_ack,
            self.keepalive,
            self.close,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

fn due(deadline: &mut Option<u64>, now: u64) -> bool {
    let expired = deadline.is_some_and(|at| at <= now);
    if expired {
        *deadline = None;
    }
    expired
}

/// Runs every expired timer of `tcb`.
pub fn fire(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    let now = context.now;
    if due(&mut tcb.timers.probe, now) {
        crate::probe::fire(tcb, context, tx);
    }
    if due(&mut tcb.timers.reorder, now) {
        crate::loss::reorder_timeout(tcb, context, tx);
    }
    if due(&mut tcb.timers.retransmit, now) {
        retransmission_timeout(tcb, context, tx);
    }
    if due(&mut tcb.timers.persist, now) && tcb.state != State::Closed {
        persist_timeout(tcb, context, tx);
    }
    if due(&mut tcb.timers.delayed_ack, now) && tcb.state.is_synchronized() {
        context.stats.delayed_acks += 1;
        transmit(tcb, context, tx, Outgoing::acknowledgment(tcb));
    }
    if due(&mut tcb.timers.keepalive, now) && tcb.state != State::Closed {
        keepalive_timeout(tcb, context, tx);
    }
    if due(&mut tcb.timers.close, now) {
        close_timeout(tcb, context, tx);
    }
}

fn retransmission_timeout(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    context.stats.timeouts += 1;
    let opening = matches!(tcb.state, State::SynSent | State::SynReceived);
    let limit = if opening {
        context.config.maximum_syn_retransmissions
    } else {
        context.config.maximum_retransmissions
    };
    let peer_alive = tcb.send_window == 0
        && context.now.saturating_sub(tcb.last_received_ns) < tcb.retransmission_timeout();
    if tcb.backoff >= limit && !peer_alive {
        context.stats.connection_timeouts += 1;
        let silent_child = tcb.role.in_syn_queue() && tcb.state == State::SynReceived;
        let error = (!silent_child).then_some(tcb.soft_error.unwrap_or(TcpError::TimedOut));
        close_connection(tcb, context, error);
        return;
    }
    if !peer_alive {
        tcb.backoff += 1;
    }
    tcb.timed = None;
    if opening {
        tcb.rtt.handshake_timeout();
        send_syn(tcb, context, tx);
        return;
    }
    enter_timeout_recovery(tcb, context);
    let route = tx.route(tcb.remote.ip(), zone_of(tcb.remote));
    crate::path_mtu::timed_out(tcb, context, route.map(|route| route.mtu));
    if tcb.send_window == 0 {
        // The peer closed its window under data in flight: probe it.
        send_probe(tcb, context, tx);
    }
    output(tcb, context, tx);
    if tcb.timers.retransmit.is_none() && tcb.outstanding() > 0 {
        tcb.timers.retransmit = Some(context.now + tcb.retransmission_timeout());
    }
}

/// RFC 6298 5.4 to 5.6 and RFC 5681 3.1: collapse the window and mark
/// everything unacknowledged lost. The first timeout in a row keeps what
/// was SACKed; a second one forgets it, in case the receiver reneged.
fn enter_timeout_recovery(tcb: &mut Tcb, context: &mut Context) {
    let undo = crate::loss::timeout_undo(tcb, context);
    let flight = tcb.outstanding();
    tcb.congestion
        .on_timeout(context.now, flight, tcb.segment_size);
    tcb.recovery.time_out(undo);
    tcb.duplicate_acks = 0;
    tcb.recover = tcb.send_maximum;
    tcb.timers.probe = None;
    tcb.timers.reorder = None;
    tcb.flight.mark_all_lost(tcb.backoff <= 1);
}

fn persist_timeout(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    if tcb.outstanding() > 0 {
        return;
    }
    let edge = tcb.send_unacknowledged.add(tcb.send_window);
    if edge.after(tcb.send_next) {
        // A window too small for sender SWS avoidance: send anyway.
        output_pass(tcb, context, tx, Pass::Forced);
        return;
    }
    if tcb.window_probes >= context.config.maximum_retransmissions {
        context.stats.connection_timeouts += 1;
        close_connection(tcb, context, Some(TcpError::TimedOut));
        return;
    }
    context.stats.window_probes += 1;
    tcb.window_probes += 1;
    send_probe(tcb, context, tx);
    tcb.backoff = tcb.backoff.saturating_add(1);
    tcb.timers.persist = Some(context.now + tcb.retransmission_timeout());
}

fn keepalive_timeout(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    let config = context.config;
    let probing_state = matches!(tcb.state, State::Established | State::CloseWait);
    if !tcb.options.keep_alive || !probing_state {
        return;
    }
    let busy = tcb.outstanding() > 0 || tcb.send_buffer.end().after(tcb.send_next);
    let idle_since = tcb.last_received_ns;
    if busy
        || (tcb.keepalive_probes == 0
            && context.now < idle_since.saturating_add(config.keepalive_idle_ns))
    {
        let from = if busy { context.now } else { idle_since };
        tcb.timers.keepalive = Some(from.saturating_add(config.keepalive_idle_ns));
        return;
    }
    if tcb.keepalive_probes >= config.keepalive_count {
        context.stats.connection_timeouts += 1;
        send_reset(tcb, context, tx);
        close_connection(tcb, context, Some(TcpError::TimedOut));
        return;
    }
    context.stats.keepalive_probes += 1;
    tcb.keepalive_probes += 1;
    send_probe(tcb, context, tx);
    tcb.timers.keepalive = Some(context.now + config.keepalive_interval_ns);
}

fn close_timeout(tcb: &mut Tcb, context: &mut Context, tx: &mut dyn Transmit) {
    match tcb.state {
        State::TimeWait => close_connection(tcb, context, None),
        State::Closed | State::Listen => {}
        _ if !tcb.role.is_user_held() => {
            // FIN-WAIT-2 timeout, or the linger time of a closed socket.
            if tcb.state != State::SynSent {
                send_reset(tcb, context, tx);
            }
            close_connection(tcb, context, None);
        }
        _ => {}
    }
}
