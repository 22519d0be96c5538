//! ICMP errors for TCP connections (RFC 5927, RFC 1122 4.2.3.9): hard
//! errors refuse a connection still opening, soft ones are kept to explain
//! a later timeout; "fragmentation needed" and ICMPv6 Packet Too Big lower
//! the path MTU (RFC 1191, RFC 8201, `path_mtu.rs`). Each must quote a
//! segment in flight: a sequence number in [SND.UNA, SND.MAX) of a live
//! connection, else it is ignored.

use core::net::SocketAddr;

use crate::arrival::close_connection;
use crate::engine::Tcp;
use crate::error::Unreachable;
use crate::path_mtu::lower;
use crate::sender::output;
use crate::sequence::Sequence;
use crate::state::State;
use crate::table::Endpoints;
use crate::tcb::Tcb;
use crate::{TcpError, Transmit};

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

    /// ICMP "fragmentation needed" (type 3 code 4, RFC 1191) or ICMPv6
    /// Packet Too Big (RFC 8201) for a segment we sent from `local` to
    /// `remote` with sequence number `sequence`: the next hop takes
    /// packets of at most `mtu` bytes. If the segment is in flight on a
    /// synchronized connection and `mtu` is plausible for the family (at
    /// least 552 for IPv4; IPv6 reads anything below 1280 as 1280) and
    /// smaller than the connection's, its segments shrink and what no
    /// longer fits is sent again at once. True when it did (the caller's
    /// path MTU cache may learn `mtu`).
    pub fn icmp_too_big(
        &mut self,
        now_ns: u64,
        local: SocketAddr,
        remote: SocketAddr,
        sequence: u32,
        mtu: u32,
        tx: &mut dyn Transmit,
    ) -> bool {
        self.indexed(|tcp| tcp.too_big(now_ns, (local, remote), (sequence, mtu), tx))
    }

    fn too_big(
        &mut self,
        now_ns: u64,
        (local, remote): (SocketAddr, SocketAddr),
        (sequence, mtu): (u32, u32),
        tx: &mut dyn Transmit,
    ) -> bool {
        self.context.now = now_ns;
        let found = self.table.find_connection(&Endpoints::new(local, remote));
        let tcb = found.and_then(|index| self.table.at(index));
        let lowered = tcb.is_some_and(|tcb| {
            let in_flight = in_flight(tcb, Sequence(sequence));
            in_flight && tcb.state.is_synchronized() && lower(tcb, &mut self.context, mtu)
        });
        if !lowered {
            self.context.stats.path_mtu_ignored += 1;
            return false;
        }
        self.context.stats.path_mtu_lowered += 1;
        if let Some(index) = found
            && let Some(tcb) = self.table.at(index)
        {
            output(tcb, &mut self.context, tx);
            self.settle(index);
        }
        true
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
        if !in_flight(tcb, Sequence(sequence)) {
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

/// `sequence` lies in [SND.UNA, SND.MAX): a segment still in flight.
fn in_flight(tcb: &Tcb, sequence: Sequence) -> bool {
    sequence.after_or_at(tcb.send_unacknowledged) && sequence.before(tcb.send_maximum)
}
