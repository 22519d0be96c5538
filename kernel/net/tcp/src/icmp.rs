//! ICMP errors for TCP connections (RFC 5927, RFC 1122 4.2.3.9): hard
//! errors refuse a connection still opening, soft ones are kept to explain
//! a later timeout.

use core::net::SocketAddr;

use crate::TcpError;
use crate::arrival::close_connection;
use crate::engine::Tcp;
use crate::error::Unreachable;
use crate::sequence::Sequence;
use crate::state::State;
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
