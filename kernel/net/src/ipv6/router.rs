//! Routers (RFC 4861 6.3): solicitations sent, advertisements taken, and
//! what they leave behind: default routers, on-link prefixes, the link's
//! parameters, addresses (SLAAC) and DNS servers.
//!
//! [`Routes`] holds the default routers, the on-link prefixes and the
//! followed redirects, each list bounded and charged to the `nd`
//! account; learned entries expire with their lifetimes, configured ones
//! (`gw6=`, a static address's prefix) stay. A default router is chosen
//! among those whose neighbor entry has a link-layer address, else the
//! first (RFC 4861 6.3.6). An advertisement counts only from a
//! link-local source with hop limit 255; redirects are ignored unless
//! configured, and then only from the router we use for that
//! destination (RFC 4861 8.1). A router (forwarding on) sends no
//! solicitations and takes no advertisements or redirects; it sends
//! advertisements of its own and answers solicitations (`advertise.rs`).

mod advertise;
mod routes;

use core::net::Ipv6Addr;

use wire::ipv6::{addresses, is_link_local, mask};
use wire::nd::{self, NdOption, PrefixInformation, RouterAdvertisement};
use wire::{Ipv6Header, MacAddress, NdPacket};

use super::address::FOREVER;
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;

pub(crate) use advertise::Advertising;
pub use advertise::{DEFAULT_INTERVAL_S, INTERVAL_RANGE_S};
pub use routes::{
    MAX_PREFIXES, MAX_ROUTERS, MAX_STATIC_ROUTES, Prefix, Router, Routes, StaticRoute,
};

/// Router solicitations sent before giving up (RFC 4861 10).
pub const MAX_ROUTER_SOLICITATIONS: u8 = 3;
/// Time between them.
pub const ROUTER_SOLICITATION_INTERVAL_NS: u64 = 4_000_000_000;
/// How long a followed redirect lasts.
pub const REDIRECT_NS: u64 = 600_000_000_000;

/// `now + seconds`, or [`FOREVER`] for the infinite lifetime.
pub(crate) fn expiry(now_ns: u64, seconds: u32) -> u64 {
    match seconds {
        nd::INFINITE => FOREVER,
        seconds => now_ns.saturating_add(u64::from(seconds) * 1_000_000_000),
    }
}

/// A reachable time drawn from 0.5 to 1.5 times `base_ms` (RFC 4861
/// 6.3.2), in nanoseconds.
pub(crate) fn reachable_ns(random: &mut super::random::Random, base_ms: u32) -> u64 {
    let base = u64::from(base_ms);
    random.between(base / 2, base * 3 / 2) * 1_000_000
}

impl IpLayer {
    /// A router advertisement (RFC 4861 6.3.4).
    pub(crate) fn router_advertisement_input(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        advertisement: &RouterAdvertisement,
        packet: &NdPacket<'_>,
    ) {
        if !is_link_local(header.source) {
            self.v6.nd_stats.invalid += 1;
            return;
        }
        if self.v6.config.forwarding {
            // A router is configured, not advertised to (Linux's
            // accept_ra=1 on a router).
            self.v6.nd_stats.router_advertisements_ignored += 1;
            return;
        }
        self.v6.nd_stats.router_advertisements += 1;
        let now = self.now_ns;
        self.link_parameters(index, advertisement);
        let router = header.source;
        match advertisement.lifetime_s {
            0 => self.v6.routes.remove_router(index, router),
            seconds => {
                self.v6
                    .routes
                    .set_router(index, router, expiry(now, u32::from(seconds)), true)
            }
        }
        if let Some(mac) = packet.link_address() {
            let released = self.v6.neighbors.learn(now, index, router, mac, true);
            self.release6(index, router, released);
        }
        for option in packet.options() {
            match option {
                NdOption::Mtu(mtu) => self.advertised_mtu(index, mtu),
                NdOption::Prefix(prefix) => self.prefix_information(index, &prefix),
                NdOption::Rdnss { lifetime_s, .. } => {
                    let servers = option.servers();
                    self.v6.dns.update(now, index, lifetime_s, servers);
                }
                _ => {}
            }
        }
    }

    /// The link parameters an advertisement sets; stops soliciting.
    fn link_parameters(&mut self, index: InterfaceIndex, advertisement: &RouterAdvertisement) {
        let base = advertisement.reachable_ms;
        let Some(interface) = self.interfaces.get_mut(usize::from(index.0)) else {
            return;
        };
        let ipv6 = &mut interface.ipv6;
        ipv6.solicitations.1 = None;
        if advertisement.hop_limit != 0 {
            ipv6.hop_limit = advertisement.hop_limit;
        }
        if base != 0 && base != ipv6.base_reachable_ms {
            ipv6.base_reachable_ms = base;
            ipv6.reachable_ns = reachable_ns(&mut self.v6.random, base);
        }
        if advertisement.retransmit_ms != 0 {
            ipv6.retransmit_ns = u64::from(advertisement.retransmit_ms) * 1_000_000;
        }
    }

    fn advertised_mtu(&mut self, index: InterfaceIndex, mtu: u32) {
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let mtu = usize::try_from(mtu).unwrap_or(usize::MAX);
        if (wire::ipv6::MINIMUM_MTU..=interface.spec.mtu).contains(&mtu) {
            interface.ipv6.advertised_mtu = Some(mtu);
        }
    }

    /// A Prefix Information option: on-link prefixes (RFC 4861 6.3.4) and
    /// addresses (RFC 4862 5.5.3).
    fn prefix_information(&mut self, index: InterfaceIndex, prefix: &PrefixInformation) {
        if is_link_local(prefix.prefix) || prefix.prefix_length > 128 {
            return;
        }
        let network = mask(prefix.prefix, prefix.prefix_length);
        if prefix.on_link {
            let routes = &mut self.v6.routes;
            match prefix.valid_s {
                0 => routes.remove_prefix(index, network, prefix.prefix_length),
                seconds => routes.set_prefix(
                    index,
                    network,
                    prefix.prefix_length,
                    expiry(self.now_ns, seconds),
                    true,
                ),
            }
        }
        if prefix.autonomous && self.v6.config.slaac {
            self.slaac_prefix(index, prefix);
        }
    }

    /// A redirect (RFC 4861 8.1, 8.3): followed only when configured.
    pub(crate) fn redirect_input(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        target: Ipv6Addr,
        destination: Ipv6Addr,
        packet: &NdPacket<'_>,
    ) {
        let first_hop = self
            .next_hop6(destination, Some(index))
            .map(|hop| hop.neighbour);
        let valid = is_link_local(header.source)
            && (is_link_local(target) || target == destination)
            && first_hop == Some(header.source);
        let followed = self.v6.config.accept_redirects && !self.v6.config.forwarding;
        if !followed || !valid {
            self.v6.nd_stats.redirects_ignored += 1;
            return;
        }
        let now = self.now_ns;
        let expires = now.saturating_add(REDIRECT_NS);
        self.v6
            .routes
            .set_redirect(index, destination, target, expires);
        if let Some(mac) = packet.link_address() {
            let released = self.v6.neighbors.learn(now, index, target, mac, false);
            self.release6(index, target, released);
        }
    }

    /// Starts soliciting routers on `index` (its link-local address just
    /// passed DAD).
    pub(crate) fn start_router_solicitation(&mut self, index: InterfaceIndex) {
        if self.v6.config.forwarding {
            return;
        }
        let now = self.now_ns;
        if let Some(interface) = self.interface_mut(index) {
            interface.ipv6.solicitations = (0, Some(now));
        }
    }

    /// Sends the router solicitation due on `index`, if one is.
    pub(crate) fn router_solicitation_timer(&mut self, index: InterfaceIndex) {
        let now = self.now_ns;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let (sent, next) = interface.ipv6.solicitations;
        if next.is_none_or(|next| next > now) {
            return;
        }
        let later = now.saturating_add(ROUTER_SOLICITATION_INTERVAL_NS);
        let more = sent + 1 < MAX_ROUTER_SOLICITATIONS;
        interface.ipv6.solicitations = (sent + 1, more.then_some(later));
        let source = interface.ipv6.link_local();
        let own = interface.spec.mac;
        let destination = addresses::ALL_ROUTERS;
        let mac = MacAddress::ipv6_multicast(destination);
        let from = source.unwrap_or(Ipv6Addr::UNSPECIFIED);
        let room = nd::ROUTER_SOLICITATION_MAX_LEN;
        self.send_nd(index, from, destination, Some(mac), room, |out| {
            nd::write_router_solicitation(out, source.map(|_| own))
        });
        self.v6.nd_stats.router_solicitations_sent += 1;
    }
}
