//! The NUD state machine's transitions (RFC 4861 7.2.3, 7.2.5, 7.3.3
//! and Appendix C), one method per event.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use wire::MacAddress;

use super::{
    Advertised, DELAY_FIRST_PROBE_NS, Entry, Key, MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT,
    NeighborCache, PENDING_LIMIT, PENDING_TOTAL, Probe, STALE_NS, State, Timing,
};
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;

impl NeighborCache {
    /// The MAC to send to `target` now, if known. Sending to a `Stale`
    /// (or lapsed `Reachable`) neighbor starts `Delay` (RFC 4861 7.3.3).
    pub fn resolve(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        target: Ipv6Addr,
    ) -> Option<MacAddress> {
        let entry = self.entries.get_mut(&(interface, target))?;
        match entry.state {
            State::Incomplete { .. } => None,
            State::Reachable(mac) if entry.deadline_ns > now_ns => Some(mac),
            State::Reachable(mac) | State::Stale(mac) => {
                entry.state = State::Delay(mac);
                entry.deadline_ns = now_ns.saturating_add(DELAY_FIRST_PROBE_NS);
                Some(mac)
            }
            State::Delay(mac) | State::Probe(mac, _) => Some(mac),
        }
    }

    /// Keeps `packet` until `target` resolves (after [`Self::resolve`]
    /// found no MAC). True when a new entry was made and its first
    /// solicitation must go now; the packet is dropped (and counted) when
    /// the bounds or the memory say so.
    pub fn hold(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        target: Ipv6Addr,
        packet: PacketBuffer,
        timing: Timing,
    ) -> bool {
        let key = (interface, target);
        if let Some(Entry {
            state: State::Incomplete { pending, .. },
            ..
        }) = self.entries.get_mut(&key)
        {
            if pending.len() >= PENDING_LIMIT || self.pending >= PENDING_TOTAL {
                pending.pop_front();
                self.stats.dropped_unresolved += 1;
                self.pending -= 1;
            }
            pending.push_back(packet);
            self.pending += 1;
            return false;
        }
        if self.entries.contains_key(&key) || self.pending >= PENDING_TOTAL || !self.admit(&key) {
            self.stats.dropped_unresolved += 1;
            return false;
        }
        let mut pending = VecDeque::new();
        pending.push_back(packet);
        self.pending += 1;
        let entry = Entry {
            state: State::Incomplete { pending, probes: 1 },
            deadline_ns: now_ns.saturating_add(timing.retransmit_ns),
            router: false,
        };
        self.entries.insert(key, entry);
        true
    }

    /// A solicitation or router message from `source` carried its MAC
    /// (RFC 4861 7.2.3, 6.3.4): a new entry is `Stale`, a changed address
    /// makes the entry `Stale`. Returns the packets that waited for it.
    /// `router` is set from router advertisements.
    pub fn learn(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        source: Ipv6Addr,
        mac: MacAddress,
        router: bool,
    ) -> VecDeque<PacketBuffer> {
        let key = (interface, source);
        if !self.admit(&key) {
            return VecDeque::new();
        }
        let stale = Entry {
            state: State::Stale(mac),
            deadline_ns: now_ns.saturating_add(STALE_NS),
            router,
        };
        let Some(entry) = self.entries.get_mut(&key) else {
            self.entries.insert(key, stale);
            return VecDeque::new();
        };
        entry.router |= router;
        if entry.mac() == Some(mac) {
            return VecDeque::new();
        }
        let stale = Entry {
            router: entry.router,
            ..stale
        };
        self.replace(key, stale)
    }

    /// An advertisement for `target` (RFC 4861 7.2.5). Returns the packets
    /// that waited for it, and whether a router said it no longer is one
    /// (the caller drops it from the default routers).
    pub fn advertise(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        target: Ipv6Addr,
        advertised: Advertised,
        timing: Timing,
    ) -> (VecDeque<PacketBuffer>, bool) {
        let key = (interface, target);
        let Some(entry) = self.entries.get_mut(&key) else {
            return (VecDeque::new(), false);
        };
        let reachable = now_ns.saturating_add(timing.reachable_ns);
        let stale = now_ns.saturating_add(STALE_NS);
        let Some(cached) = entry.mac() else {
            let Some(mac) = advertised.mac else {
                return (VecDeque::new(), false);
            };
            let resolved = match advertised.solicited {
                true => Entry {
                    state: State::Reachable(mac),
                    deadline_ns: reachable,
                    router: advertised.router,
                },
                false => Entry {
                    state: State::Stale(mac),
                    deadline_ns: stale,
                    router: advertised.router,
                },
            };
            return (self.replace(key, resolved), false);
        };
        let changed = advertised.mac.is_some_and(|mac| mac != cached);
        if changed && !advertised.override_cache {
            if let State::Reachable(mac) = entry.state {
                entry.state = State::Stale(mac);
                entry.deadline_ns = stale;
            }
            return (VecDeque::new(), false);
        }
        let mac = advertised.mac.unwrap_or(cached);
        if advertised.solicited {
            entry.state = State::Reachable(mac);
            entry.deadline_ns = reachable;
        } else if changed {
            entry.state = State::Stale(mac);
            entry.deadline_ns = stale;
        }
        let router_lost = entry.router && !advertised.router;
        entry.router = advertised.router;
        (VecDeque::new(), router_lost)
    }

    /// An upper layer saw forward progress with `target` (RFC 4861
    /// 7.3.1): a known neighbor becomes `Reachable`.
    pub fn confirm(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        target: Ipv6Addr,
        timing: Timing,
    ) {
        let Some(entry) = self.entries.get_mut(&(interface, target)) else {
            return;
        };
        if let Some(mac) = entry.mac() {
            entry.state = State::Reachable(mac);
            entry.deadline_ns = now_ns.saturating_add(timing.reachable_ns);
        }
    }

    /// Puts `entry` in place of the one at `key`; returns the packets
    /// that waited in the old one.
    fn replace(&mut self, key: Key, entry: Entry) -> VecDeque<PacketBuffer> {
        match self.entries.insert(key, entry) {
            Some(Entry {
                state: State::Incomplete { pending, .. },
                ..
            }) => {
                self.pending -= pending.len();
                pending
            }
            _ => VecDeque::new(),
        }
    }

    /// Runs the timers due at `now_ns`: solicitations to send go to
    /// `probes`, neighbors given up go.
    pub fn on_timer(
        &mut self,
        now_ns: u64,
        timing: impl Fn(InterfaceIndex) -> Timing,
        probes: &mut Vec<Probe>,
    ) {
        let mut expired = Vec::new();
        for (key, entry) in self.entries.iter_mut() {
            if entry.deadline_ns > now_ns {
                continue;
            }
            let retransmit = now_ns.saturating_add(timing(key.0).retransmit_ns);
            let probe = |unicast| Probe {
                interface: key.0,
                target: key.1,
                unicast,
            };
            match &mut entry.state {
                State::Incomplete { probes: sent, .. } if *sent < MAX_MULTICAST_SOLICIT => {
                    *sent += 1;
                    entry.deadline_ns = retransmit;
                    probes.push(probe(None));
                }
                State::Reachable(mac) => {
                    entry.state = State::Stale(*mac);
                    entry.deadline_ns = now_ns.saturating_add(STALE_NS);
                }
                State::Delay(mac) => {
                    probes.push(probe(Some(*mac)));
                    entry.state = State::Probe(*mac, 1);
                    entry.deadline_ns = retransmit;
                }
                State::Probe(mac, sent) if *sent < MAX_UNICAST_SOLICIT => {
                    *sent += 1;
                    entry.deadline_ns = retransmit;
                    probes.push(probe(Some(*mac)));
                }
                State::Stale(_) => expired.push((*key, false)),
                State::Incomplete { .. } | State::Probe(..) => expired.push((*key, true)),
            }
        }
        for (key, unreachable) in expired {
            self.stats.unreachable += u64::from(unreachable);
            self.forget(&key);
        }
    }
}
