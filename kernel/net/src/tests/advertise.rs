//! A forwarding node's Router Advertisements (RFC 4861 6.2), on a chain.
//!
//! R forwards and advertises; A has IPv4 alone configured by hand, so its
//! IPv6 address (SLAAC), default router and link MTU come from R's
//! advertisements, and then it reaches B beyond R. The schedule: the
//! first advertisements fast, then between MinRtrAdvInterval and
//! MaxRtrAdvInterval; a solicitation answered within half a second but
//! never within three of the last advertisement; a router that stops
//! forwarding says so; with advertisements off, nothing is sent.

use core::net::{IpAddr, Ipv6Addr};
use std::vec::Vec;

use super::chain::{B6, Chain, MILLISECOND, NEAR, ONLY};
use super::forwarding::data;
use crate::ipv6::address::Origin;
use crate::probe::Answer;

const SECOND: u64 = 1_000 * MILLISECOND;

/// A's addresses formed by SLAAC, usable.
fn slaac_addresses(chain: &Chain) -> Vec<Ipv6Addr> {
    let interface = chain.a.ip.interface(ONLY).expect("A's interface");
    (interface.ipv6.addresses.iter())
        .filter(|a| a.origin == Origin::Slaac && a.usable())
        .map(|a| a.address)
        .collect()
}

/// R's link-local address on the near link.
fn r_link_local(chain: &Chain) -> Ipv6Addr {
    let interface = chain.r.ip.interface(NEAR).expect("R's near interface");
    interface.ipv6.link_local().expect("R's link-local address")
}

/// R's advertisements on the near link: those A took.
fn sent(chain: &Chain) -> u64 {
    chain.a.ip.v6.nd_stats.router_advertisements
}

/// Advances to `until_ns` in steps of 100 ms; when R sent advertisements
/// on the near link.
fn advertisement_times(chain: &mut Chain, until_ns: u64) -> Vec<u64> {
    let mut times = Vec::new();
    while chain.now_ns < until_ns {
        let before = sent(chain);
        chain.advance(100 * MILLISECOND, chain.now_ns + 100 * MILLISECOND);
        times.extend((before..sent(chain)).map(|_| chain.now_ns));
    }
    times
}

#[test]
fn a_host_configures_itself_from_the_routers_advertisements_and_reaches_beyond() {
    let mut chain = Chain::advertised(Some(600));
    chain.advance(100 * MILLISECOND, 6 * SECOND);
    let formed = slaac_addresses(&chain);
    assert_eq!(formed.len(), 1, "{formed:?}");
    assert_eq!(formed[0].segments()[..4], [0xfd01, 0, 0, 0], "R's prefix");
    let router = r_link_local(&chain);
    let routers: Vec<Ipv6Addr> = (chain.a.ip.v6.routes.routers().iter())
        .map(|r| r.address)
        .collect();
    assert_eq!(routers, [router], "R is A's default router");
    let prefix = chain.a.ip.v6.routes.prefixes().first().copied();
    let prefix = prefix.expect("R's prefix is on-link");
    assert_eq!((prefix.prefix.segments()[0], prefix.length), (0xfd01, 64));
    let a = chain.a.ip.interface(ONLY).expect("A's interface");
    assert_eq!(a.ipv6.advertised_mtu, Some(1500), "the link MTU option");
    assert_eq!(
        chain.echo(B6.into(), 64, 32),
        Some((B6.into(), Answer::Echo))
    );
    let connection = chain.connect(IpAddr::V6(B6));
    assert!(chain.transfer(connection, &data(50_000), 5 * SECOND));
    assert!(
        chain.r.ip.v6.nd_stats.router_advertisements_sent >= 2,
        "both links"
    );
    assert!(chain.r.ip.v6.nd_stats.router_solicitations_received >= 1);
}

#[test]
fn advertisements_come_fast_at_first_then_between_the_two_intervals() {
    // MaxRtrAdvInterval 30 s: MinRtrAdvInterval 9.9 s.
    let mut chain = Chain::advertised(Some(30));
    let times = advertisement_times(&mut chain, 200 * SECOND);
    assert!(times[0] <= 2_500 * MILLISECOND, "{times:?}");
    let gaps: Vec<u64> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(gaps.iter().all(|&gap| gap >= 3 * SECOND), "{gaps:?}");
    assert!(gaps[..3].iter().all(|&gap| gap <= 16 * SECOND), "{gaps:?}");
    let steady = &gaps[3..];
    assert!(steady.len() >= 4, "{times:?}");
    let range = 9_900 * MILLISECOND..=30_100 * MILLISECOND;
    assert!(steady.iter().all(|gap| range.contains(gap)), "{gaps:?}");
}

#[test]
fn a_solicitation_is_answered_soon_but_never_within_three_seconds_of_the_last() {
    let mut chain = Chain::advertised(Some(600));
    let early = advertisement_times(&mut chain, 60 * SECOND);
    // The first three are each followed by at most 16 s, the fourth by
    // 198 s at least.
    assert!(
        early.len() >= 4 && early[early.len() - 1] < 55 * SECOND,
        "{early:?}"
    );
    let asked = chain.now_ns;
    chain.a.ip.start_router_solicitation(ONLY);
    let answered = advertisement_times(&mut chain, asked + SECOND);
    assert_eq!(answered.len(), 1, "answered once");
    assert!(answered[0] <= asked + 600 * MILLISECOND);
    let again = chain.now_ns;
    chain.a.ip.start_router_solicitation(ONLY);
    let later = advertisement_times(&mut chain, again + 5 * SECOND);
    assert_eq!(later.len(), 1, "answered once more");
    assert!(
        later[0] >= answered[0] + 3 * SECOND,
        "{answered:?} {later:?}"
    );
    assert!(later[0] <= answered[0] + 3_200 * MILLISECOND);
}

#[test]
fn a_router_that_stops_forwarding_says_so_and_its_hosts_drop_it() {
    let mut chain = Chain::advertised(Some(600));
    chain.advance(100 * MILLISECOND, 6 * SECOND);
    assert_eq!(chain.a.ip.v6.routes.routers().len(), 1);
    let before = sent(&chain);
    chain.r.set_forwarding6(false);
    chain.advance(100 * MILLISECOND, chain.now_ns + SECOND);
    assert_eq!(sent(&chain), before + 1, "a last advertisement");
    assert!(chain.a.ip.v6.routes.routers().is_empty());
    chain.advance(100 * MILLISECOND, chain.now_ns + 700 * SECOND);
    assert_eq!(sent(&chain), before + 1, "and no more");
}

#[test]
fn with_advertisements_off_a_forwarding_node_sends_none() {
    let mut chain = Chain::advertised(None);
    chain.advance(100 * MILLISECOND, 10 * SECOND);
    assert_eq!(chain.r.ip.v6.nd_stats.router_advertisements_sent, 0);
    assert!(slaac_addresses(&chain).is_empty());
    assert!(chain.a.ip.v6.routes.routers().is_empty());
    assert!(chain.r.ip.v6.nd_stats.router_solicitations_received >= 1);
}

#[test]
fn an_interface_without_a_static_prefix_stays_quiet_until_it_has_one() {
    let mut chain = Chain::advertised(Some(600));
    chain
        .r
        .remove_address6(NEAR, super::chain::R_NEAR6)
        .expect("removed");
    chain.advance(100 * MILLISECOND, 20 * SECOND);
    assert_eq!(sent(&chain), 0, "nothing to advertise on the near link");
    assert!(
        chain.r.ip.v6.nd_stats.router_advertisements_sent >= 1,
        "far"
    );
    chain
        .r
        .add_address6(NEAR, super::chain::R_NEAR6, 64)
        .expect("added");
    let times = advertisement_times(&mut chain, 40 * SECOND);
    assert!(!times.is_empty() && times[0] <= 38 * SECOND, "{times:?}");
    assert_eq!(slaac_addresses(&chain).len(), 1);
}
