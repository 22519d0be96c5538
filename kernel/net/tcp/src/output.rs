//! Building and sending segments: the one place that writes headers,
//! options, the advertised window and the checksum.
//!
//! Every segment a connection sends goes through [`transmit`], which also
//! does the bookkeeping every ACK-bearing segment implies (Last.ACK.sent,
//! the delayed ACK is satisfied, the advertised right edge moves).
//! [`reply_reset`] answers a segment that has no connection.

use core::net::SocketAddr;

use wire::Checksum;

use crate::address::Path;
use crate::context::Context;
use crate::ecn::Ecn;
use crate::header::{Flags, HEADER_LENGTH, HeaderFields, Segment};
use crate::options::{MAXIMUM_SACK_BLOCKS, Options, SackBlock};
use crate::sequence::Sequence;
use crate::tcb::Tcb;
use crate::{Shape, Transmit};

/// IP protocol number of TCP.
pub const PROTOCOL: u8 = 6;

/// One segment to send from a connection.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing {
    /// First sequence number.
    pub sequence: Sequence,
    /// Payload bytes, copied from the send buffer at `sequence`.
    pub length: u32,
    /// Control bits; ACK is added in every state past SYN-SENT.
    pub flags: Flags,
}

impl Outgoing {
    /// A pure ACK at SND.NXT.
    pub fn acknowledgment(tcb: &Tcb) -> Self {
        Self {
            sequence: tcb.send_next,
            length: 0,
            flags: Flags::ACK,
        }
    }
}

/// Sends one segment of `tcb`; returns false when the IP layer refused it.
pub fn transmit(
    tcb: &mut Tcb,
    context: &mut Context,
    tx: &mut dyn Transmit,
    outgoing: Outgoing,
) -> bool {
    transmit_marked(tcb, context, tx, outgoing, Ecn::NotCapable)
}

/// [`transmit`] with the IP header's ECN field (ECT(0) on new data).
pub fn transmit_marked(
    tcb: &mut Tcb,
    context: &mut Context,
    tx: &mut dyn Transmit,
    outgoing: Outgoing,
    ecn: Ecn,
) -> bool {
    let mut flags = outgoing.flags;
    let synchronizing = flags.contains(Flags::SYN);
    let bare_syn = synchronizing && tcb.state == crate::state::State::SynSent;
    if !(bare_syn || flags.contains(Flags::RST)) {
        flags = crate::ecn::acknowledgment_flags(tcb, flags.with(Flags::ACK));
    }
    let options = segment_options(tcb, context, synchronizing, outgoing.length);
    let window = if flags.contains(Flags::RST) {
        0
    } else {
        advertise_window(tcb, synchronizing)
    };
    let acknowledgment = if flags.contains(Flags::ACK) {
        tcb.receive.next()
    } else {
        Sequence(0)
    };
    let header = HeaderFields {
        source_port: tcb.local.port(),
        destination_port: tcb.remote.port(),
        sequence: outgoing.sequence,
        acknowledgment,
        flags,
        window,
    };
    let path = Path::between(tcb.local, tcb.remote);
    let payload = outgoing.length as usize;
    let shape = shape(tcb, outgoing.length);
    let send_buffer = &tcb.send_buffer;
    let mut fill = |out: &mut [u8]| {
        let options_length = options.written_length();
        if out.len() < HEADER_LENGTH + options_length {
            return;
        }
        header.write(out, options_length);
        let (_, rest) = out.split_at_mut(HEADER_LENGTH);
        let (options_area, data) = rest.split_at_mut(options_length);
        options.write(options_area);
        send_buffer.copy_out(outgoing.sequence, data);
        if shape.partial_checksum {
            start_checksum(out, path);
        } else {
            finish_checksum(out, path);
        }
    };
    let length = HEADER_LENGTH + options.written_length() + payload;
    let sent = match (ecn, shape) {
        (Ecn::NotCapable, Shape::PLAIN) => tx.send(path, length, &mut fill),
        (ecn, Shape::PLAIN) => tx.send_marked(path, ecn, length, &mut fill),
        shaped => tx.send_shaped(path, shaped, length, &mut fill),
    };
    let sent = sent.is_ok();
    count(context, sent, flags);
    if flags.contains(Flags::ACK) {
        tcb.last_acknowledgment_sent = acknowledgment;
        tcb.duplicate_received = None;
        tcb.unacknowledged_bytes = 0;
        tcb.acknowledge_now = false;
        tcb.timers.delayed_ack = None;
    }
    sent
}

fn count(context: &mut Context, sent: bool, flags: Flags) {
    context.stats.segments_sent += 1;
    if !sent {
        context.stats.transmit_errors += 1;
    }
    if flags.contains(Flags::RST) {
        context.stats.resets_sent += 1;
    }
}

/// How a segment of `payload` bytes goes to the device: its checksum
/// partial where the device completes it, cut by the device when it is
/// longer than one segment (the sender makes such bursts only where the
/// route offers segmentation, `sender.rs`).
fn shape(tcb: &Tcb, payload: u32) -> Shape {
    let segment_size = if payload > tcb.segment_size {
        u16::try_from(tcb.segment_size).unwrap_or(u16::MAX)
    } else {
        0
    };
    Shape {
        partial_checksum: tcb.offload.checksum || segment_size > 0,
        segment_size,
    }
}

/// Writes the folded pseudo-header sum (of the path's family) over the
/// whole segment's length into the checksum field, for the device to
/// complete (a partial checksum, see [`Shape`]).
pub fn start_checksum(segment: &mut [u8], path: Path) {
    let Ok(length) = u16::try_from(segment.len()) else {
        return;
    };
    let (source, destination) = (path.source, path.destination);
    let sum = Checksum::new()
        .add_pseudo_header(source, destination, PROTOCOL, u32::from(length))
        .fold();
    segment[16..18].copy_from_slice(&sum.to_be_bytes());
}

/// Writes the checksum over the pseudo-header of the path's family and
/// the whole segment.
fn finish_checksum(segment: &mut [u8], path: Path) {
    let Ok(length) = u16::try_from(segment.len()) else {
        return;
    };
    let (source, destination) = (path.source, path.destination);
    let sum = Checksum::new()
        .add_pseudo_header(source, destination, PROTOCOL, u32::from(length))
        .add(segment)
        .finish();
    segment[16..18].copy_from_slice(&sum.to_be_bytes());
}

fn segment_options(tcb: &Tcb, context: &Context, synchronizing: bool, payload: u32) -> Options {
    let mut options = Options::default();
    if tcb.negotiated.timestamps {
        options.timestamp = Some((tcb.timestamp_value(context.now), tcb.timestamp_recent));
    }
    if synchronizing {
        options.maximum_segment_size = Some(tcb.announced_segment_size);
        options.sack_permitted = tcb.negotiated.sack;
        options.window_scale = tcb.negotiated.window_scaling.then_some(tcb.receive_scale);
        return options;
    }
    let report = tcb.duplicate_received.filter(|_| tcb.negotiated.sack);
    if tcb.negotiated.sack && (tcb.receive.has_holes() || report.is_some()) {
        let room_blocks = if tcb.negotiated.timestamps {
            3
        } else {
            MAXIMUM_SACK_BLOCKS
        };
        let spare = tcb.segment_size.saturating_sub(payload) as usize;
        let limit = if payload == 0 {
            room_blocks
        } else {
            room_blocks.min(spare.saturating_sub(4) / 8)
        };
        let mut blocks = [SackBlock::default(); MAXIMUM_SACK_BLOCKS];
        options.sack_count = sack_blocks(tcb, report, &mut blocks, limit);
        options.sack_blocks = blocks;
    }
    options
}

/// The SACK blocks to send: a D-SACK first (RFC 2883) if a duplicate
/// arrived since the last ACK, then the receiver's blocks.
fn sack_blocks(
    tcb: &Tcb,
    report: Option<SackBlock>,
    blocks: &mut [SackBlock; MAXIMUM_SACK_BLOCKS],
    limit: usize,
) -> usize {
    let Some(report) = report.filter(|_| limit > 0) else {
        return tcb.receive.sack_blocks(blocks, limit);
    };
    let mut rest = [SackBlock::default(); MAXIMUM_SACK_BLOCKS];
    let count = tcb.receive.sack_blocks(&mut rest, limit - 1);
    blocks[0] = report;
    blocks[1..=count].copy_from_slice(&rest[..count]);
    count + 1
}

/// The window field to send, moving the advertised right edge only to the
/// right and, against the silly window syndrome, only by at least
/// min(buffer / 2, MSS) at a time (RFC 9293 3.8.6.2.2).
fn advertise_window(tcb: &mut Tcb, synchronizing: bool) -> u16 {
    let available = tcb.receive.window() as u32;
    if synchronizing {
        let window = available.min(u32::from(u16::MAX));
        tcb.receive_advertised = tcb.receive.next().add(window);
        return window as u16;
    }
    let current = tcb.receive_window();
    let step = ((tcb.receive.limit() / 2) as u32)
        .min(tcb.segment_size)
        .max(1);
    let window = if available >= current.saturating_add(step) {
        available
    } else {
        current
    };
    let scale = u32::from(tcb.receive_scale);
    let mut field = (window >> scale).min(u32::from(u16::MAX));
    let rounded_up = (window.div_ceil(1 << scale)).min(u32::from(u16::MAX));
    if rounded_up << scale <= available {
        field = rounded_up;
    }
    let edge = tcb.receive.next().add(field << scale);
    tcb.receive_advertised = tcb.receive_advertised.latest(edge);
    field as u16
}

/// Answers a segment that reached no connection (RFC 9293 3.10.7.1):
/// never a reset for a reset.
pub fn reply_reset(
    context: &mut Context,
    tx: &mut dyn Transmit,
    (local, remote): (SocketAddr, SocketAddr),
    segment: &Segment<'_>,
) {
    if segment.has(Flags::RST) {
        return;
    }
    let (sequence, acknowledgment, flags) = if segment.has(Flags::ACK) {
        (segment.acknowledgment, Sequence(0), Flags::RST)
    } else {
        let end = segment.sequence.add(segment.sequence_length());
        (Sequence(0), end, Flags::RST.with(Flags::ACK))
    };
    let header = HeaderFields {
        source_port: segment.destination_port,
        destination_port: segment.source_port,
        sequence,
        acknowledgment,
        flags,
        window: 0,
    };
    send_control(context, tx, (local, remote), header, &Options::default());
}

/// Sends a segment without payload that belongs to no socket: a reset
/// for a stray segment, a TIME-WAIT record's ACK, a SYN cookie's SYN-ACK.
pub fn send_control(
    context: &mut Context,
    tx: &mut dyn Transmit,
    (local, remote): (SocketAddr, SocketAddr),
    header: HeaderFields,
    options: &Options,
) {
    let options_length = options.written_length();
    let path = Path::between(local, remote);
    let mut fill = |out: &mut [u8]| {
        if out.len() >= HEADER_LENGTH + options_length {
            header.write(out, options_length);
            options.write(&mut out[HEADER_LENGTH..]);
            finish_checksum(out, path);
        }
    };
    let length = HEADER_LENGTH + options_length;
    let sent = tx.send(path, length, &mut fill).is_ok();
    count(context, sent, header.flags);
}
