//! Every IPv6 timer in one place: the stack's timer runs them all and
//! asks for the earliest.
//!
//! Per interface: DAD probes, router solicitations, a router's
//! advertisements, MLD reports and the addresses' lifetimes (preferred, then valid). Beside the interfaces:
//! the neighbor cache's NUD timers, reassembly timeouts, and the
//! lifetimes of routers, prefixes, redirects and DNS servers. Every due
//! timer either fires and moves on or goes, so no deadline stays in the
//! past.

use alloc::vec::Vec;

use super::address::AddressState;
use super::neighbor::Timing;
use super::slaac::finite;
use crate::interface::{Interface, InterfaceIndex};
use crate::ipv4::IpLayer;

/// The NUD timing of `interface`.
fn timing_of(interface: &Interface) -> Timing {
    Timing {
        reachable_ns: interface.ipv6.reachable_ns,
        retransmit_ns: interface.ipv6.retransmit_ns,
    }
}

impl IpLayer {
    /// The NUD timing of `index` (RFC 4861's defaults if it is gone).
    pub(crate) fn nud_timing(&self, index: InterfaceIndex) -> Timing {
        self.interface(index).map_or(
            Timing {
                reachable_ns: 30_000_000_000,
                retransmit_ns: 1_000_000_000,
            },
            timing_of,
        )
    }

    /// Runs every IPv6 timer due now.
    pub(crate) fn ipv6_timers(&mut self) {
        let now = self.now_ns;
        let mut probes = Vec::new();
        let interfaces = &self.interfaces;
        let timing = |index: InterfaceIndex| {
            interfaces.get(usize::from(index.0)).map_or(
                Timing {
                    reachable_ns: 0,
                    retransmit_ns: 1_000_000_000,
                },
                timing_of,
            )
        };
        self.v6.neighbors.on_timer(now, timing, &mut probes);
        for probe in probes {
            self.send_solicitation(probe.interface, probe.target, probe.unicast);
        }
        self.v6.reassembly.on_timer(now);
        let running: Vec<InterfaceIndex> = self
            .interfaces
            .iter()
            .filter(|i| i.ipv6.enabled)
            .map(|i| i.index)
            .collect();
        for index in running {
            self.dad_timers(index);
            self.router_solicitation_timer(index);
            self.advertisement_timer(index);
            self.mld_timers(index);
            self.lifetimes(index);
        }
        self.v6.routes.expire(now);
        self.v6.dns.expire(now);
    }

    /// Deprecates and removes the addresses of `index` whose lifetimes
    /// ended.
    fn lifetimes(&mut self, index: InterfaceIndex) {
        let now = self.now_ns;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let mut ended = Vec::new();
        for entry in interface.ipv6.addresses.iter_mut() {
            if entry.valid_until_ns <= now {
                ended.push(entry.address);
            } else if entry.state == AddressState::Preferred && entry.preferred_until_ns <= now {
                entry.state = AddressState::Deprecated;
            }
        }
        for address in ended {
            log::info!("{address} reached the end of its valid lifetime");
            self.remove_address6(index, address);
        }
    }

    /// The earliest IPv6 timer.
    pub(crate) fn ipv6_next_deadline(&self) -> Option<u64> {
        let interfaces = self
            .interfaces
            .iter()
            .filter(|i| i.ipv6.enabled)
            .filter_map(interface_deadline);
        [
            self.v6.neighbors.next_deadline(),
            self.v6.reassembly.next_deadline(),
            self.v6.routes.next_deadline(),
            self.v6.dns.next_deadline(),
            interfaces.min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

fn interface_deadline(interface: &Interface) -> Option<u64> {
    let ipv6 = &interface.ipv6;
    let addresses = ipv6.addresses.iter().filter_map(|entry| match entry.state {
        AddressState::Tentative { next_ns, .. } => Some(next_ns),
        AddressState::Preferred => finite(entry.preferred_until_ns.min(entry.valid_until_ns)),
        AddressState::Deprecated | AddressState::Duplicate => finite(entry.valid_until_ns),
    });
    let advertising = ipv6.advertising.next_ns;
    [
        ipv6.solicitations.1,
        ipv6.mld_change_ns,
        ipv6.mld_answer_ns,
        advertising,
    ]
    .into_iter()
    .flatten()
    .chain(addresses)
    .min()
}
