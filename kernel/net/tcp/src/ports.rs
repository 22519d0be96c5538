//! Local ports: bind conflicts (with SO_REUSEADDR semantics) and ephemeral
//! port selection by RFC 6056 algorithm 3 (simple hash-based).
//!
//! Two sockets conflict on a port when their addresses overlap (equal, or
//! either is the wildcard). A LISTEN socket always conflicts; a TIME-WAIT
//! one unless the new socket sets ReuseAddress; any other bound socket
//! unless both set ReuseAddress. A TIME-WAIT record counts as a TIME-WAIT
//! socket.

use core::net::{Ipv4Addr, SocketAddrV4};

use crate::SocketHandle;
use crate::engine::Tcp;
use crate::state::{Role, State};
use crate::table::Endpoints;
use crate::tcb::Tcb;
use crate::time_wait::TimeWait;

fn overlaps(first: Ipv4Addr, second: Ipv4Addr) -> bool {
    first == second || first.is_unspecified() || second.is_unspecified()
}

fn conflicts(other: &Tcb, local: SocketAddrV4, reuse: bool) -> bool {
    if !other.role.holds_port()
        || other.local.port() != local.port()
        || !overlaps(*other.local.ip(), *local.ip())
    {
        return false;
    }
    match other.state {
        State::Listen => true,
        State::TimeWait => !reuse,
        _ => !(reuse && other.options.reuse_address),
    }
}

impl Tcp {
    /// True when `local` may be bound by `handle` (with `reuse`).
    pub(crate) fn port_free(&self, handle: SocketHandle, local: SocketAddrV4, reuse: bool) -> bool {
        let mut others = self.table.iter().filter(|tcb| tcb.handle != handle);
        let waiting = |record: &TimeWait| {
            let other = record.endpoints.local();
            other.port() == local.port() && overlaps(*other.ip(), *local.ip())
        };
        let time_wait = !reuse && self.table.time_wait_records().any(waiting);
        !time_wait && !others.any(|other| conflicts(other, local, reuse))
    }

    /// A listener on the same port and an overlapping address.
    pub(crate) fn listener_conflict(&self, handle: SocketHandle, local: SocketAddrV4) -> bool {
        let listening = |tcb: &&Tcb| tcb.handle != handle && tcb.state == State::Listen;
        self.table
            .iter()
            .filter(listening)
            .any(|tcb| tcb.local.port() == local.port() && overlaps(*tcb.local.ip(), *local.ip()))
    }

    /// An ephemeral port for binding `address` with no peer known.
    pub(crate) fn ephemeral_for_bind(
        &mut self,
        handle: SocketHandle,
        address: Ipv4Addr,
    ) -> Option<u16> {
        let unspecified = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
        let offset = self.context.port_offset(address, unspecified);
        self.search_ports(offset, |tcp, port| {
            tcp.port_free(handle, SocketAddrV4::new(address, port), false)
        })
    }

    /// An ephemeral port for connecting from `address` to `remote`: unique
    /// 4-tuple, no clash with a bound-only socket or a listener.
    pub(crate) fn ephemeral_for_connect(
        &mut self,
        handle: SocketHandle,
        address: Ipv4Addr,
        remote: SocketAddrV4,
    ) -> Option<u16> {
        let offset = self.context.port_offset(address, remote);
        self.search_ports(offset, |tcp, port| {
            let local = SocketAddrV4::new(address, port);
            let taken = tcp.table.find(&Endpoints::new(local, remote)).is_some();
            let clash = |tcb: &&Tcb| {
                tcb.handle != handle
                    && matches!(tcb.role, Role::Bound | Role::Listening(_))
                    && tcb.local.port() == port
                    && overlaps(*tcb.local.ip(), address)
            };
            !taken && !tcp.table.iter().any(|tcb| clash(&tcb))
        })
    }

    /// RFC 6056 3.3.3: try `first + (offset + next_ephemeral + k) % count`.
    fn search_ports(&mut self, offset: u32, usable: impl Fn(&Self, u16) -> bool) -> Option<u16> {
        let first = u32::from(self.context.config.ephemeral_first);
        let count = u32::from(self.context.config.ephemeral_last) - first + 1;
        for attempt in 0..count {
            let start = offset.wrapping_add(self.context.ephemeral_counter);
            let port = first + start.wrapping_add(attempt) % count;
            let Ok(port) = u16::try_from(port) else {
                continue;
            };
            if usable(self, port) {
                self.context.ephemeral_counter =
                    self.context.ephemeral_counter.wrapping_add(attempt + 1);
                return Some(port);
            }
        }
        None
    }
}
