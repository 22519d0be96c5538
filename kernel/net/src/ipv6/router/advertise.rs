//! Router Advertisements from a forwarding node (RFC 4861 6.2).
//!
//! With `ip6.forwarding=on` and advertisements on (`ip6.ra=on`, the
//! default; `ip6.ra_interval=SECONDS` sets MaxRtrAdvInterval), each
//! interface running IPv6 becomes an advertising interface once its
//! link-local address passed DAD (an advertisement's source must be
//! link-local); one without a static global address stays quiet (its
//! schedule runs on, at most [`INITIAL_INTERVAL_NS`] apart, until it has
//! one: the hosts there have nothing to learn). It then sends unsolicited advertisements to ff02::1: the
//! first [`INITIAL_ADVERTISEMENTS`] at most [`INITIAL_INTERVAL_NS`] apart,
//! then one every MinRtrAdvInterval to MaxRtrAdvInterval, drawn anew each
//! time (6.2.4). A Router Solicitation is answered by moving the next
//! advertisement to within [`MAX_DELAY_NS`], but never sooner than
//! [`MIN_DELAY_BETWEEN_NS`] after the last one (6.2.6); its source's MAC
//! goes into the neighbor cache. Each advertisement carries the router
//! lifetime (3 × MaxRtrAdvInterval), our MAC, the link MTU and a Prefix
//! Information option (on-link; autonomous when 64 bits long) for each
//! prefix of the interface's static addresses, with the RFC's default
//! lifetimes. When forwarding stops, one last advertisement with a
//! router lifetime of 0 tells the hosts to stop using us (6.2.5, which
//! asks for up to three; one is sent: a host that missed it lets the
//! lifetime run out). Every timer here is the stack's (`timers.rs`).

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use wire::ipv6::{addresses, is_link_local, mask};
use wire::nd::{self, PrefixInformation, RouterAdvertisement, RouterAdvertisementOptions};
use wire::{Ipv6Header, MacAddress, NdPacket};

use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;
use crate::ipv6::address::Origin;

/// Unsolicited advertisements sent fast after an interface starts
/// advertising (MAX_INITIAL_RTR_ADVERTISEMENTS).
pub const INITIAL_ADVERTISEMENTS: u32 = 3;
/// At most how far apart those go (MAX_INITIAL_RTR_ADVERT_INTERVAL).
pub const INITIAL_INTERVAL_NS: u64 = 16_000_000_000;
/// The shortest time between multicast advertisements
/// (MIN_DELAY_BETWEEN_RAS).
pub const MIN_DELAY_BETWEEN_NS: u64 = 3_000_000_000;
/// The longest an answer to a solicitation waits (MAX_RA_DELAY_TIME).
pub const MAX_DELAY_NS: u64 = 500_000_000;
/// MaxRtrAdvInterval's default, in seconds.
pub const DEFAULT_INTERVAL_S: u16 = 600;
/// The MaxRtrAdvInterval RFC 4861 6.2.1 allows, in seconds.
pub const INTERVAL_RANGE_S: core::ops::RangeInclusive<u16> = 4..=1800;
/// AdvValidLifetime and AdvPreferredLifetime of advertised prefixes.
const VALID_S: u32 = 2_592_000;
const PREFERRED_S: u32 = 604_800;
/// Prefixes one advertisement carries at most.
const MAX_ADVERTISED_PREFIXES: usize = 8;

/// An advertising interface's schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Advertising {
    /// Unsolicited advertisements sent since it started.
    pub(crate) sent: u32,
    /// When the next one goes; `None` while the interface does not
    /// advertise.
    pub(crate) next_ns: Option<u64>,
    /// When the last multicast one went.
    pub(crate) last_ns: Option<u64>,
}

impl IpLayer {
    /// Whether this node advertises at all: forwarding, with
    /// advertisements on.
    fn advertises(&self) -> bool {
        self.v6.config.forwarding && self.v6.config.router_advertisements
    }

    /// MaxRtrAdvInterval and MinRtrAdvInterval (0.33 × the former, or
    /// the former itself below 9 s, and never under 3 s), in ns.
    fn intervals_ns(&self) -> (u64, u64) {
        let max = self.v6.config.advertise_interval_s;
        let max = max.clamp(*INTERVAL_RANGE_S.start(), *INTERVAL_RANGE_S.end());
        let max_ns = u64::from(max) * 1_000_000_000;
        let min_ns = match max >= 9 {
            true => max_ns * 33 / 100,
            false => max_ns,
        };
        (max_ns, min_ns.max(MIN_DELAY_BETWEEN_NS))
    }

    /// Makes `index` an advertising interface if it should be one (see
    /// the module comment); the first advertisement goes within
    /// [`MAX_DELAY_NS`].
    pub(crate) fn start_advertising(&mut self, index: InterfaceIndex) {
        if !self.advertises() {
            return;
        }
        let delay = self.v6.random.between(0, MAX_DELAY_NS);
        let now = self.now_ns;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let ipv6 = &mut interface.ipv6;
        if ipv6.link_local().is_none() || ipv6.advertising.next_ns.is_some() {
            return;
        }
        ipv6.advertising = Advertising {
            next_ns: Some(now + delay),
            ..Advertising::default()
        };
    }

    /// Stops advertising on `index`, with a last advertisement saying we
    /// are no default router any more.
    pub(crate) fn stop_advertising(&mut self, index: InterfaceIndex) {
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let was = core::mem::take(&mut interface.ipv6.advertising);
        if was.sent > 0 {
            self.send_router_advertisement(index, 0);
        }
    }

    /// Sends the advertisement due on `index`, if one is, and draws when
    /// the next goes.
    pub(crate) fn advertisement_timer(&mut self, index: InterfaceIndex) {
        let now = self.now_ns;
        let (max_ns, min_ns) = self.intervals_ns();
        let mut interval = self.v6.random.between(min_ns, max_ns);
        let lifetime = (3 * max_ns / 1_000_000_000).min(9_000) as u16;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let quiet = advertised_prefixes(&interface.ipv6.addresses).is_empty();
        let schedule = &mut interface.ipv6.advertising;
        if schedule.next_ns.is_none_or(|next| next > now) {
            return;
        }
        if quiet {
            schedule.next_ns = Some(now + interval.min(INITIAL_INTERVAL_NS));
            return;
        }
        schedule.sent += 1;
        if schedule.sent <= INITIAL_ADVERTISEMENTS {
            interval = interval.min(INITIAL_INTERVAL_NS);
        }
        schedule.next_ns = Some(now + interval);
        schedule.last_ns = Some(now);
        self.send_router_advertisement(index, lifetime);
    }

    /// A Router Solicitation (RFC 4861 6.2.6): answered on an advertising
    /// interface by the next multicast advertisement, brought forward.
    pub(crate) fn router_solicitation_input(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        packet: &NdPacket<'_>,
    ) {
        let mac = packet.link_address();
        if header.source.is_unspecified() && mac.is_some() {
            self.v6.nd_stats.invalid += 1;
            return;
        }
        self.v6.nd_stats.router_solicitations_received += 1;
        let now = self.now_ns;
        if let (Some(mac), false) = (mac, header.source.is_unspecified()) {
            let released = self
                .v6
                .neighbors
                .learn(now, index, header.source, mac, false);
            self.release6(index, header.source, released);
        }
        let delay = self.v6.random.between(0, MAX_DELAY_NS);
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let schedule = &mut interface.ipv6.advertising;
        let Some(next) = schedule.next_ns else {
            return;
        };
        let earliest = schedule
            .last_ns
            .map_or(0, |last| last + MIN_DELAY_BETWEEN_NS);
        schedule.next_ns = Some(next.min((now + delay).max(earliest)));
    }

    /// Sends an advertisement on `index` to ff02::1 with router lifetime
    /// `lifetime_s` (0: not a default router).
    fn send_router_advertisement(&mut self, index: InterfaceIndex, lifetime_s: u16) {
        let Some(interface) = self.interface(index) else {
            return;
        };
        let Some(source) = interface.ipv6.link_local() else {
            return;
        };
        let prefixes = advertised_prefixes(&interface.ipv6.addresses);
        let advertisement = RouterAdvertisement {
            hop_limit: interface.ipv6.hop_limit,
            lifetime_s,
            ..RouterAdvertisement::default()
        };
        let options = RouterAdvertisementOptions {
            source_link: Some(interface.spec.mac),
            prefixes: &prefixes,
            mtu: Some(interface.spec.mtu as u32),
            dns_servers: None,
        };
        let destination = addresses::ALL_NODES;
        let mac = MacAddress::ipv6_multicast(destination);
        let room = options.message_len();
        self.send_nd(index, source, destination, Some(mac), room, |out| {
            nd::write_router_advertisement(out, &advertisement, &options)
        });
        self.v6.nd_stats.router_advertisements_sent += 1;
    }
}

/// The Prefix Information options for an interface's `addresses`: the
/// prefix of each static, non-link-local one, once each.
fn advertised_prefixes(
    addresses: &[crate::ipv6::address::Ipv6InterfaceAddress],
) -> Vec<PrefixInformation> {
    let mut prefixes: Vec<PrefixInformation> = Vec::new();
    let statics = addresses
        .iter()
        .filter(|a| a.origin == Origin::Static && !is_link_local(a.address));
    for address in statics {
        let prefix: Ipv6Addr = mask(address.address, address.prefix_length);
        let known = prefixes
            .iter()
            .any(|p| p.prefix == prefix && p.prefix_length == address.prefix_length);
        if known || prefixes.len() == MAX_ADVERTISED_PREFIXES {
            continue;
        }
        prefixes.push(PrefixInformation {
            prefix_length: address.prefix_length,
            on_link: true,
            autonomous: address.prefix_length == 64,
            valid_s: VALID_S,
            preferred_s: PREFERRED_S,
            prefix,
        });
    }
    prefixes
}
