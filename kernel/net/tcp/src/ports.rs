//! Local ports: bind conflicts (with SO_REUSEADDR semantics) and ephemeral
//! port selection by RFC 6056 algorithm 3 (simple hash-based).
//!
//! Two sockets conflict on a port when their addresses overlap (equal, or
//! either is the wildcard of the other's family; the IPv6 wildcard covers
//! IPv4 too unless IPV6_V6ONLY, as Linux has it). A LISTEN socket always conflicts; a TIME-WAIT
//! one unless the new socket sets ReuseAddress; any other bound socket
//! unless both set ReuseAddress. A TIME-WAIT record counts as a TIME-WAIT
//! socket.

use core::net::{IpAddr, SocketAddr};

use crate::SocketHandle;
use crate::address::{Binding, scoped, unspecified_like, zone_of};
use crate::engine::Tcp;
use crate::state::{Role, State};
use crate::table::Endpoints;
use crate::tcb::Tcb;

fn conflicts(other: &Tcb, binding: Binding, port: u16, reuse: bool) -> bool {
    if !other.role.holds_port() || other.local.port() != port || !other.binding().overlaps(&binding)
    {
        return false;
    }
    match other.state {
        State::Listen => true,
        State::TimeWait => !reuse,
        _ => !(reuse && other.options.reuse_address),
    }
}

/// A TIME-WAIT record's binding: its address exactly.
fn waiting(local: SocketAddr) -> Binding {
    Binding {
        address: local.ip(),
        v6_only: false,
    }
}

impl Tcp {
    /// True when `binding` at `port` may be bound by `handle` (with
    /// `reuse`).
    pub(crate) fn port_free(
        &self,
        handle: SocketHandle,
        binding: Binding,
        port: u16,
        reuse: bool,
    ) -> bool {
        let mut others = self.table.iter().filter(|tcb| tcb.handle != handle);
        let clash = |local: SocketAddr| local.port() == port && waiting(local).overlaps(&binding);
        let time_wait = !reuse && self.table.time_wait_locals().any(clash);
        !time_wait && !others.any(|other| conflicts(other, binding, port, reuse))
    }

    /// A listener on the same port and an overlapping address.
    pub(crate) fn listener_conflict(
        &self,
        handle: SocketHandle,
        binding: Binding,
        port: u16,
    ) -> bool {
        let listening = |tcb: &&Tcb| tcb.handle != handle && tcb.state == State::Listen;
        self.table
            .iter()
            .filter(listening)
            .any(|tcb| tcb.local.port() == port && tcb.binding().overlaps(&binding))
    }

    /// An ephemeral port for binding `binding` with no peer known.
    pub(crate) fn ephemeral_for_bind(
        &mut self,
        handle: SocketHandle,
        binding: Binding,
    ) -> Option<u16> {
        let nobody = scoped(unspecified_like(binding.address), 0, 0);
        let offset = self.context.port_offset(binding.address, nobody);
        self.search_ports(offset, |tcp, port| {
            tcp.port_free(handle, binding, port, false)
        })
    }

    /// An ephemeral port for connecting from `address` to `remote`: unique
    /// 4-tuple, no clash with a bound-only socket or a listener.
    pub(crate) fn ephemeral_for_connect(
        &mut self,
        handle: SocketHandle,
        address: IpAddr,
        remote: SocketAddr,
    ) -> Option<u16> {
        let offset = self.context.port_offset(address, remote);
        let zone = zone_of(remote);
        let ours = waiting(scoped(address, 0, 0));
        self.search_ports(offset, |tcp, port| {
            let local = scoped(address, port, zone);
            let taken = tcp.table.find(&Endpoints::new(local, remote)).is_some();
            let clash = |tcb: &&Tcb| {
                tcb.handle != handle
                    && matches!(tcb.role, Role::Bound | Role::Listening(_))
                    && tcb.local.port() == port
                    && tcb.binding().overlaps(&ours)
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
