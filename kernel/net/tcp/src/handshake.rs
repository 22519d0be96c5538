//! Opening connections: the SYN-SENT state (RFC 9293 3.10.7.3), setting up
//! a child from a listener's SYN, and negotiating the SYN options (MSS,
//! window scale, SACK-permitted, timestamps).

use core::net::{IpAddr, SocketAddr};

use crate::acknowledgment::take_rtt_sample;
use crate::address::{default_segment_size, headers, path_mtu};
use crate::arrival::{close_connection, mark_connected};
use crate::congestion::Congestion;
use crate::context::Context;
use crate::ecn;
use crate::header::{Flags, Segment};
use crate::options::MAXIMUM_WINDOW_SCALE;
use crate::output::{Outgoing, transmit};
use crate::sender::send_syn;
use crate::state::{Negotiated, State};
use crate::tcb::Tcb;
use crate::{TcpError, Transmit};

/// The smallest peer MSS honoured; smaller values are raised to it, so a
/// hostile SYN cannot make us send one-byte segments.
const MINIMUM_SEGMENT_SIZE: u16 = 64;

/// Bytes of the timestamp option as sent on every segment.
const TIMESTAMP_OVERHEAD: u32 = 12;

/// The window shift that lets `buffer` bytes be advertised.
pub fn window_scale_for(buffer: usize) -> u8 {
    let mut shift = 0;
    while (buffer >> shift) > usize::from(u16::MAX) && shift < MAXIMUM_WINDOW_SCALE {
        shift += 1;
    }
    shift
}

/// The MSS we announce to `peer` over a path of `mtu` bytes (for IPv6
/// at least 1220: its links carry 1280).
pub fn announced_segment_size(peer: IpAddr, mtu: u16) -> u16 {
    let mtu = path_mtu(peer, mtu);
    mtu.saturating_sub(headers(peer)).max(MINIMUM_SEGMENT_SIZE)
}

/// Prepares `tcb` for a SYN to a peer over a path of `mtu` bytes: what to
/// offer, our MSS, ISS.
pub fn prepare_open(tcb: &mut Tcb, context: &Context, mtu: u16) {
    let config = &context.config;
    tcb.negotiated = Negotiated::offered(config);
    tcb.receive_scale = if tcb.negotiated.window_scaling {
        window_scale_for(tcb.options.receive_buffer.max(config.receive_buffer))
    } else {
        0
    };
    tcb.announced_segment_size = announced_segment_size(tcb.remote.ip(), mtu);
    tcb.timestamp_offset = context.timestamp_offset(tcb.local, tcb.remote);
    tcb.start_sending(context.initial_sequence(tcb.local, tcb.remote));
    tcb.last_received_ns = context.now;
}

/// Sets up a listener's child from the SYN it received, in SYN-RECEIVED.
pub fn accept_syn(
    child: &mut Tcb,
    context: &Context,
    segment: &Segment<'_>,
    (local, remote): (SocketAddr, SocketAddr),
    mtu: u16,
) {
    child.local = local;
    child.remote = remote;
    child.state = State::SynReceived;
    prepare_open(child, context, mtu);
    child.start_receiving(segment.sequence);
    negotiate(child, context, segment);
    child.negotiated.ecn = context.config.ecn.accepts() && ecn::setup_requested(segment);
    child.send_window = u32::from(segment.window);
    child.send_window_sequence = segment.sequence;
    child.maximum_send_window = child.send_window;
}

/// Applies the peer's SYN options to what we offered.
fn negotiate(tcb: &mut Tcb, context: &Context, segment: &Segment<'_>) {
    let options = &segment.options;
    let agreed = tcb.negotiated.agree(options);
    if agreed.window_scaling {
        tcb.send_scale = options.window_scale.unwrap_or(0);
    } else {
        tcb.send_scale = 0;
        tcb.receive_scale = 0;
    }
    if let Some((value, _)) = options.timestamp {
        tcb.timestamp_recent = value;
    }
    let assumed = default_segment_size(tcb.remote.ip());
    let peer = options.maximum_segment_size.unwrap_or(assumed);
    let size = peer.clamp(MINIMUM_SEGMENT_SIZE, tcb.announced_segment_size);
    let overhead = if agreed.timestamps {
        TIMESTAMP_OVERHEAD
    } else {
        0
    };
    tcb.segment_size = u32::from(size) - overhead;
    tcb.receive_segment_size = tcb.segment_size;
    tcb.congestion = Congestion::new(context.config.congestion, tcb.segment_size);
}

/// A segment for a connection in SYN-SENT.
pub fn syn_sent(
    tcb: &mut Tcb,
    context: &mut Context,
    segment: &Segment<'_>,
    tx: &mut dyn Transmit,
) {
    let has_ack = segment.has(Flags::ACK);
    let ack = segment.acknowledgment;
    if has_ack && (ack.before_or_at(tcb.initial_send) || ack.after(tcb.send_maximum)) {
        if !segment.has(Flags::RST) {
            transmit(
                tcb,
                context,
                tx,
                Outgoing {
                    sequence: ack,
                    length: 0,
                    flags: Flags::RST,
                },
            );
        }
        return;
    }
    if segment.has(Flags::RST) {
        if has_ack {
            context.stats.resets_received += 1;
            close_connection(tcb, context, Some(TcpError::ConnectionRefused));
        }
        return;
    }
    if !segment.has(Flags::SYN) {
        return;
    }
    tcb.last_received_ns = context.now;
    tcb.start_receiving(segment.sequence);
    negotiate(tcb, context, segment);
    tcb.negotiated.ecn &= if has_ack {
        ecn::setup_answered(segment)
    } else {
        ecn::setup_requested(segment)
    };
    // RFC 7323 2.2: the window of a SYN is never scaled.
    tcb.send_window = u32::from(segment.window);
    tcb.send_window_sequence = segment.sequence;
    tcb.send_window_acknowledgment = ack;
    tcb.maximum_send_window = tcb.send_window;
    if has_ack {
        tcb.send_unacknowledged = ack;
        take_rtt_sample(tcb, context, ack);
        tcb.timers.retransmit = None;
        tcb.state = if tcb.fin_queued {
            State::FinWait1
        } else {
            State::Established
        };
        mark_connected(tcb, context);
        tcb.acknowledge_now = true;
    } else {
        // Simultaneous open (RFC 9293 3.5, figure 8).
        tcb.state = State::SynReceived;
        tcb.timed = None;
        send_syn(tcb, context, tx);
    }
}
