//! MLDv2 listener reports (RFC 3810) for the groups an interface joins:
//! the solicited-node group of each of its addresses.
//!
//! Joining or leaving sends a state-change report at once and repeats it
//! [`ROBUSTNESS`] - 1 more times at random moments within
//! [`UNSOLICITED_REPORT_INTERVAL_NS`] (records still pending go in the
//! same report); a query is answered with the current state of every
//! group after a random part of its maximum response delay. ff02::1 is
//! never reported (RFC 3810 6). A report comes from the link-local
//! address, or from :: while that one is still tentative (RFC 3810 5.2.13),
//! with hop limit 1 and the Router Alert option.

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use wire::ipv6::{addresses, is_link_local};
use wire::mld::{self, MldQuery, ROUTER_ALERT, record};
use wire::{Ipv6Header, MacAddress};

use super::address::Membership;
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;

/// Times each state change is reported (RFC 3810 9.1).
pub const ROBUSTNESS: u8 = 2;
/// Repeats of a state change come within this (RFC 3810 9.11).
pub const UNSOLICITED_REPORT_INTERVAL_NS: u64 = 1_000_000_000;
/// Records in one report at most (the groups an interface has are fewer).
const MAX_RECORDS: usize = 32;

/// Whether `group` is ever reported: not ff02::1, and of link scope or
/// wider.
fn reported(group: Ipv6Addr) -> bool {
    group != addresses::ALL_NODES && group.octets()[1] & 0x0f >= 2
}

impl IpLayer {
    /// Listens to `group` on `index` (once more, if already).
    pub(crate) fn join6(&mut self, index: InterfaceIndex, group: Ipv6Addr) {
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let groups = &mut interface.ipv6.groups;
        if let Some(membership) = groups.iter_mut().find(|m| m.group == group) {
            membership.users = membership.users.saturating_add(1);
            return;
        }
        groups.push(Membership { group, users: 1 });
        self.report_change(index, record::CHANGE_TO_EXCLUDE, group);
    }

    /// Stops listening to `group` once nothing else on `index` needs it.
    pub(crate) fn leave6(&mut self, index: InterfaceIndex, group: Ipv6Addr) {
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let groups = &mut interface.ipv6.groups;
        let Some(position) = groups.iter().position(|m| m.group == group) else {
            return;
        };
        groups[position].users -= 1;
        if groups[position].users == 0 {
            groups.remove(position);
            self.report_change(index, record::CHANGE_TO_INCLUDE, group);
        }
    }

    fn report_change(&mut self, index: InterfaceIndex, kind: u8, group: Ipv6Addr) {
        let now = self.now_ns;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        if !reported(group) || !interface.ipv6.enabled {
            return;
        }
        let ipv6 = &mut interface.ipv6;
        ipv6.mld_changes.retain(|(_, pending, _)| *pending != group);
        ipv6.mld_changes.push((kind, group, ROBUSTNESS));
        ipv6.mld_change_ns = Some(now);
    }

    /// Sends the reports due on `index`.
    pub(crate) fn mld_timers(&mut self, index: InterfaceIndex) {
        let now = self.now_ns;
        let later = now.saturating_add(self.v6.random.below(UNSOLICITED_REPORT_INTERVAL_NS) + 1);
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let ipv6 = &mut interface.ipv6;
        if ipv6.mld_change_ns.is_some_and(|due| due <= now) {
            let records: Vec<(u8, Ipv6Addr)> =
                ipv6.mld_changes.iter().map(|(k, g, _)| (*k, *g)).collect();
            for change in ipv6.mld_changes.iter_mut() {
                change.2 -= 1;
            }
            ipv6.mld_changes.retain(|(_, _, left)| *left > 0);
            ipv6.mld_change_ns = (!ipv6.mld_changes.is_empty()).then_some(later);
            self.send_report(index, &records);
        }
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let ipv6 = &mut interface.ipv6;
        if ipv6.mld_answer_ns.is_some_and(|due| due <= now) {
            ipv6.mld_answer_ns = None;
            let records: Vec<(u8, Ipv6Addr)> = ipv6
                .groups
                .iter()
                .filter(|m| reported(m.group))
                .map(|m| (record::MODE_IS_EXCLUDE, m.group))
                .collect();
            self.send_report(index, &records);
        }
    }

    /// A query (RFC 3810 6.2): the answer goes after a random part of
    /// its maximum delay, or earlier if one was due already.
    pub(crate) fn mld_query_input(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        message: &[u8],
        router_alert: bool,
    ) {
        let valid = is_link_local(header.source) && header.hop_limit == 1 && router_alert;
        let Some(query) = MldQuery::parse(message).ok().filter(|_| valid) else {
            self.v6.nd_stats.invalid += 1;
            return;
        };
        self.v6.nd_stats.mld_queries += 1;
        let delay_ns = self
            .v6
            .random
            .below(u64::from(query.max_response_ms) * 1_000_000);
        let due = self.now_ns.saturating_add(delay_ns);
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let ours = query.group.is_unspecified() || interface.ipv6.listens(query.group);
        if ours {
            let answer = &mut interface.ipv6.mld_answer_ns;
            *answer = Some(answer.map_or(due, |earlier| earlier.min(due)));
        }
    }

    fn send_report(&mut self, index: InterfaceIndex, records: &[(u8, Ipv6Addr)]) {
        let records = &records[..records.len().min(MAX_RECORDS)];
        if records.is_empty() {
            return;
        }
        let source = self
            .interface(index)
            .and_then(|i| i.ipv6.link_local())
            .unwrap_or(Ipv6Addr::UNSPECIFIED);
        let destination = addresses::ALL_MLDV2_ROUTERS;
        let room = mld::report_len(records.len());
        let write = |out: &mut [u8]| mld::write_report(out, records);
        let Some(message) = self.icmpv6_buffer(room, write, source, destination) else {
            return;
        };
        let mac = MacAddress::ipv6_multicast(destination);
        self.send_link_local6(
            index,
            source,
            destination,
            Some(mac),
            1,
            Some(&ROUTER_ALERT),
            message,
        );
        self.v6.nd_stats.mld_reports_sent += 1;
    }
}
