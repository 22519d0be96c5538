//! ICMP errors for TCP connections (RFC 5927, RFC 1122 4.2.3.9): hard
//! errors refuse a connection still opening, soft ones are kept to explain
//! a later timeout; a Packet Too Big makes the connection's new segments
//! fit the path (RFC 8201 5.2).

use core::net::SocketAddr;

use crate::TcpError;
use crate::address::{headers, path_mtu};
use crate::arrival::close_connection;
use crate::engine::Tcp;
use crate::error::Unreachable;
use crate::sequence::Sequence;
use crate::state::{Recovery, State};

/// The smallest segment a hint may leave (as for a peer's MSS).
const MINIMUM_SEGMENT: u32 = 64;
use crate::table::Endpoints;

impl Tcp {
    /// ICMP destination unreachable for a segment we sent from `local` to
    /// `remote` with sequence number `sequence` (from the quoted header).
    /// A hard error (port or protocol unreachable) aborts a connection in
    /// SYN-SENT with `ConnectionRefused`; anything else is a soft error,
    /// reported only if the connection later times out (RFC 5927, 1122).
    pub fn icmp_unreachable(
        &mut self,
        now_ns: u64,
        local: SocketAddr,
        remote: SocketAddr,
        sequence: u32,
        kind: Unreachable,
    ) {
        self.indexed(|tcp| tcp.unreachable(now_ns, (local, remote), sequence, kind));
    }

    /// ICMPv6 Packet Too Big saying `mtu` for a segment we sent from
    /// `local` to `remote` with `sequence`: from the next new data on, the
    /// connection's segments fit a path of `mtu` bytes (never below IPv6's
    /// 1280). Segments already in flight keep their size: the IP layer
    /// fragments them (RFC 8201 allows the source to). A quote whose
    /// sequence number is not in flight is ignored (RFC 5927), and so is
    /// a hint during fast recovery, whose accounting counts in the old
    /// size; the retransmissions the loss brings fit either way.
    pub fn packet_too_big(
        &mut self,
        now_ns: u64,
        local: SocketAddr,
        remote: SocketAddr,
        sequence: u32,
        mtu: u32,
    ) {
        self.indexed(|tcp| tcp.shrink_segments(now_ns, (local, remote), sequence, mtu));
    }

    fn shrink_segments(
        &mut self,
        now_ns: u64,
        (local, remote): (SocketAddr, SocketAddr),
        sequence: u32,
        mtu: u32,
    ) {
        self.context.now = now_ns;
        let Some(index) = self.table.find_connection(&Endpoints::new(local, remote)) else {
            return;
        };
        let Some(tcb) = self.table.at(index) else {
            return;
        };
        let sequence = Sequence(sequence);
        let in_flight =
            sequence.after_or_at(tcb.send_unacknowledged) && sequence.before(tcb.send_maximum);
        if !in_flight || matches!(tcb.recovery, Recovery::Fast(_)) {
            return;
        }
        let mtu = path_mtu(remote.ip(), u16::try_from(mtu).unwrap_or(u16::MAX));
        let options = if tcb.negotiated.timestamps { 12 } else { 0 };
        let size = u32::from(mtu.saturating_sub(headers(remote.ip()))).saturating_sub(options);
        if size < tcb.segment_size {
            tcb.segment_size = size.max(MINIMUM_SEGMENT);
            self.context.stats.path_mtu_decreases += 1;
        }
    }

    fn unreachable(
        &mut self,
        now_ns: u64,
        (local, remote): (SocketAddr, SocketAddr),
        sequence: u32,
        kind: Unreachable,
    ) {
        self.context.now = now_ns;
        let Some(index) = self.table.find_connection(&Endpoints::new(local, remote)) else {
            return;
        };
        let Some(tcb) = self.table.at(index) else {
            return;
        };
        let sequence = Sequence(sequence);
        let in_flight =
            sequence.after_or_at(tcb.send_unacknowledged) && sequence.before(tcb.send_maximum);
        if !in_flight {
            return;
        }
        self.context.stats.icmp_errors += 1;
        let hard = matches!(kind, Unreachable::Port | Unreachable::Protocol);
        if tcb.state == State::SynSent && hard {
            close_connection(tcb, &mut self.context, Some(TcpError::ConnectionRefused));
            self.settle(index);
        } else {
            tcb.soft_error = Some(TcpError::HostUnreachable);
        }
    }
}
