//! The kernel's DNS resolver against dnsmasq, over a tap in a namespace.
//!
//! A hosted kernel resolves names dnsmasq serves (A, AAAA, a CNAME, an
//! NXDOMAIN, an answer too big for UDP), from the cache the second time;
//! through a relay that forges answers first (another id, another name,
//! another port), which must change nothing; past a server that never
//! answers and one that refuses; and with its server from a DHCP lease.
//! The figures (resolve latency cold, warm and cached) go to stderr. Needs
//! root, `ip` and `dnsmasq`.

mod nameserver;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use nameserver::relay::{FORGED, Relay};
use nameserver::{BIG, DNSMASQ, Dnsmasq, Guest, RELAY, add_relay_address, require_tools, v4, v6};
use net::ResolveError;
use qemu_tests::netns::Namespace;

#[test]
#[ignore = "needs root: a tap device in a network namespace, with dnsmasq serving DNS on it"]
fn names_dnsmasq_serves_resolve_in_both_families_and_then_from_the_cache() {
    require_tools();
    let namespace = Namespace::new("dns");
    let _dnsmasq = Dnsmasq::start(&namespace, false);
    let guest = Guest::boot(&namespace, &format!("ip=192.168.77.2/24 dns={DNSMASQ}"));
    guest.wait_for_link();
    let (dual, cold) = guest.resolve("dual.test");
    assert_eq!(
        dual,
        Ok(vec![v4(20), v6(0x20)]),
        "IPv4 first: no IPv6 route"
    );
    let (alias, warm) = guest.resolve("ALIAS.test.");
    assert_eq!(alias, Ok(vec![v4(20), v6(0x20)]), "through the CNAME");
    assert_eq!(guest.resolve("six.test").0, Ok(vec![v6(6)]));
    assert_eq!(guest.resolve("a.test").0, Ok(vec![v4(10)]));
    assert_eq!(
        guest.resolve("nobody.test").0,
        Err(ResolveError::NoSuchName)
    );
    let before = guest.stats();
    let (again, cached) = guest.resolve("dual.test");
    assert_eq!(again, Ok(vec![v4(20), v6(0x20)]));
    let after = guest.stats();
    assert_eq!(after.lookups, before.lookups, "no query: {after:?}");
    assert_eq!(after.cache_hits, before.cache_hits + 2, "both families");
    assert_eq!(after.rejected, 0, "{after:?}");
    let literal = guest.resolve("192.0.2.99").0;
    assert_eq!(literal, Ok(vec![v4(99)]));
    eprintln!(
        "figure: resolve, first (server's MAC known) {cold:?}, warm {warm:?}, cached {cached:?}"
    );
    assert!(cached < warm, "the cache is faster than the network");
}

#[test]
#[ignore = "needs root: a tap device in a network namespace, with dnsmasq serving DNS on it"]
fn an_answer_too_big_for_udp_is_asked_again_over_tcp() {
    require_tools();
    let namespace = Namespace::new("dns-tcp");
    let _dnsmasq = Dnsmasq::start(&namespace, false);
    let guest = Guest::boot(&namespace, &format!("ip=192.168.77.2/24 dns={DNSMASQ}"));
    guest.wait_for_link();
    let (big, took) = guest.resolve("big.test");
    let addresses = big.expect("big.test resolves");
    assert_eq!(
        addresses.len(),
        net::dns::MAX_ADDRESSES,
        "the first ones kept"
    );
    let served: Vec<IpAddr> = (1..=BIG).map(v4).collect();
    assert!(
        addresses.iter().all(|a| served.contains(a)),
        "{addresses:?}"
    );
    let stats = guest.stats();
    assert_eq!(stats.tcp_queries, 1, "{stats:?}");
    eprintln!("figure: resolve over UDP then TCP (TC set) {took:?}");
}

/// RFC 5452: the forged answers reach the query's own socket, from the
/// server's address and port, before the real one; none is taken.
#[test]
#[ignore = "needs root: a tap device in a network namespace, with dnsmasq serving DNS on it"]
fn forged_answers_are_ignored_and_the_real_one_taken() {
    require_tools();
    let namespace = Namespace::new("dns-forged");
    add_relay_address(&namespace);
    let _dnsmasq = Dnsmasq::start(&namespace, false);
    let relay = Relay::start(&namespace);
    let guest = Guest::boot(&namespace, &format!("ip=192.168.77.2/24 dns={RELAY}"));
    guest.wait_for_link();
    for name in ["dual.test", "a.test"] {
        let (addresses, _) = guest.resolve(name);
        let addresses = addresses.unwrap_or_else(|error| panic!("{name}: {error}"));
        let forged = IpAddr::from(FORGED);
        assert!(!addresses.contains(&forged), "{name}: {addresses:?}");
        assert!(addresses.contains(&v4(if name == "a.test" { 10 } else { 20 })));
    }
    let seen = relay.seen();
    assert_eq!(seen.len(), 4, "A and AAAA of two names: {seen:?}");
    let stats = guest.stats();
    assert_eq!(stats.rejected, 2 * 4, "another id, another name: {stats:?}");
    assert_eq!(stats.queries, 4, "nothing forged cost a retry: {stats:?}");
    let mut ports: Vec<u16> = seen.iter().map(|s| s.port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 4, "a fresh port per query: {seen:?}");
    assert!(ports.iter().all(|&port| port >= 49_152), "{ports:?}");
}

/// A server that never answers costs one 1 s wait; one whose port 53 is
/// closed (ICMP port unreachable) costs nothing.
#[test]
#[ignore = "needs root: a tap device in a network namespace, with dnsmasq serving DNS on it"]
fn a_silent_server_and_a_refusing_one_are_passed_over() {
    require_tools();
    let namespace = Namespace::new("dns-failover");
    add_relay_address(&namespace);
    let _dnsmasq = Dnsmasq::start(&namespace, false);
    let silent = "192.168.77.9";
    let parameters = format!("ip=192.168.77.2/24 dns={silent},{DNSMASQ}");
    let guest = Guest::boot(&namespace, &parameters);
    guest.wait_for_link();
    let (addresses, took) = guest.resolve("dual.test");
    assert_eq!(addresses, Ok(vec![v4(20), v6(0x20)]));
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(guest.stats().timeouts, 2, "A and AAAA waited once each");
    guest.set_name_servers(&[IpAddr::V4(RELAY), IpAddr::V4(DNSMASQ)]);
    let (addresses, took) = guest.resolve("a.test");
    assert_eq!(addresses, Ok(vec![v4(10)]));
    let no_wait = Duration::from_millis(800);
    assert!(took < no_wait, "no wait for a refusal: {took:?}");
    assert_eq!(guest.stats().timeouts, 2, "no wait for a refusal");
    eprintln!("figure: failover past a refusing server {took:?}");
}

#[test]
#[ignore = "needs root: a tap device in a network namespace, with dnsmasq serving DNS on it"]
fn the_name_server_comes_from_the_dhcp_lease() {
    require_tools();
    let namespace = Namespace::new("dns-dhcp");
    let _dnsmasq = Dnsmasq::start(&namespace, true);
    let guest = Guest::boot(&namespace, "ip=dhcp");
    let deadline = Instant::now() + Duration::from_secs(30);
    while guest.name_servers().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no lease with a name server in 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(guest.name_servers(), [IpAddr::V4(DNSMASQ)], "option 6");
    guest.wait_for_link();
    assert_eq!(guest.resolve("six.test").0, Ok(vec![v6(6)]));
}
