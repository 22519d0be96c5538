//! IPv6 between two stacks and against a router played by hand: DAD,
//! ping6, SLAAC with RDNSS, conflicts, NUD, fragments, MLD.

use core::net::Ipv6Addr;
use std::vec;
use std::vec::Vec;

use wire::ipv6::{next_header, solicited_node};
use wire::nd::{PrefixInformation, RouterAdvertisement, RouterAdvertisementOptions};
use wire::{EtherType, EthernetHeader, Icmpv6Kind, Icmpv6Message, Ipv6Header, MacAddress};

use super::link::{Link, link_local};
use crate::interface::InterfaceIndex;
use crate::ipv6::address::{AddressState, Origin};
use crate::ipv6::neighbor::NudState;
use crate::stack::Stack;

pub(super) const LAN: InterfaceIndex = InterfaceIndex(0);
pub(super) const SECOND: u64 = 1_000_000_000;
pub(super) const ROUTER_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 0xfe]);

pub(super) fn ip(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

/// A frame from `from` to `stack` (to `to`: its MAC or a group's) with
/// `header` and `payload` (the payload length is set here).
pub(super) fn inject6(stack: &mut Stack, to: MacAddress, mut header: Ipv6Header, payload: &[u8]) {
    let mut bytes = vec![0u8; 14 + 40 + payload.len()];
    let ethernet = EthernetHeader {
        destination: to,
        source: ROUTER_MAC,
        ether_type: EtherType::Ipv6,
    };
    ethernet.write(&mut bytes);
    header.payload_len = payload.len();
    header.write(&mut bytes[14..]);
    bytes[54..].copy_from_slice(payload);
    let mut frame = stack.ip.pool.allocate_large(bytes.len()).unwrap();
    frame.reset(bytes.len()).unwrap().copy_from_slice(&bytes);
    stack.input(LAN, frame);
}

/// The MAC of `stack`'s interface.
pub(super) fn mac_of(stack: &Stack) -> MacAddress {
    stack.ip.interface(LAN).unwrap().spec.mac
}

/// The IPv6 packets `stack` sent: header and what follows it.
pub(super) fn sent6(stack: &mut Stack) -> Vec<(Ipv6Header, Vec<u8>)> {
    stack
        .take_output(LAN)
        .iter()
        .filter(|frame| frame.data()[12..14] == [0x86, 0xdd])
        .map(|frame| {
            let packet = &frame.data()[14..];
            (Ipv6Header::parse(packet).unwrap(), packet[40..].to_vec())
        })
        .collect()
}

/// An echo request from `source` to `destination`, sealed.
pub(super) fn echo(source: Ipv6Addr, destination: Ipv6Addr, sequence: u16, data: usize) -> Vec<u8> {
    let mut message = vec![0x5a; 8 + data];
    let kind = Icmpv6Kind::EchoRequest {
        identifier: 1,
        sequence,
    };
    Icmpv6Message { kind }.write(&mut message, source, destination);
    message
}

/// A router advertisement from fe80::1 for `prefix`/64 (valid and
/// preferred lifetimes in seconds) with a DNS server.
pub(super) fn advertisement(prefix: &str, valid_s: u32, preferred_s: u32) -> Vec<u8> {
    let fixed = RouterAdvertisement {
        hop_limit: 64,
        lifetime_s: 1800,
        reachable_ms: 20_000,
        retransmit_ms: 1000,
        ..Default::default()
    };
    let prefixes = [PrefixInformation {
        prefix_length: 64,
        on_link: true,
        autonomous: true,
        valid_s,
        preferred_s,
        prefix: ip(prefix),
    }];
    let servers = [ip("2001:db8::53")];
    let options = RouterAdvertisementOptions {
        source_link: Some(ROUTER_MAC),
        prefixes: &prefixes,
        mtu: Some(1400),
        dns_servers: Some((valid_s, &servers)),
    };
    let mut message = vec![0u8; options.message_len()];
    wire::nd::write_router_advertisement(&mut message, &fixed, &options);
    wire::icmpv6::seal(
        &mut message,
        ip("fe80::1"),
        wire::ipv6::addresses::ALL_NODES,
    );
    message
}

/// Plays the router: one advertisement to all nodes.
pub(super) fn advertise(stack: &mut Stack, prefix: &str, valid_s: u32, preferred_s: u32) {
    let message = advertisement(prefix, valid_s, preferred_s);
    let all_nodes = wire::ipv6::addresses::ALL_NODES;
    let mut header = Ipv6Header::new(ip("fe80::1"), all_nodes, next_header::ICMPV6, 0);
    header.hop_limit = 255;
    inject6(
        stack,
        MacAddress::ipv6_multicast(all_nodes),
        header,
        &message,
    );
}

fn addresses(stack: &Stack) -> Vec<crate::ipv6::address::Ipv6InterfaceAddress> {
    stack.ip.interface(LAN).unwrap().ipv6.addresses.clone()
}

#[test]
fn link_local_addresses_pass_dad_and_answer_ping6() {
    let mut link = Link::new_ipv6();
    let (a, b) = (link_local(&link.a), link_local(&link.b));
    assert_ne!(a, b);
    assert!(wire::ipv6::is_link_local(a));
    assert_eq!(u128::from(a) >> 64, 0xfe80_u128 << 48, "fe80::/64");
    link.sync();
    link.a
        .ip
        .send_echo_request6(b, None, (7, 1), b"hello6", None)
        .unwrap();
    link.pump();
    let reply = link.a.ip.v6.icmp.replies.back().copied().expect("a reply");
    assert_eq!((reply.source, reply.identifier, reply.sequence), (b, 7, 1));
    assert_eq!(link.b.ip.v6.icmp.stats.echo_replies, 1);
    assert_eq!(
        link.a.ip.v6.neighbors.state(LAN, b),
        Some(NudState::Reachable)
    );
    assert!(
        link.b.ip.v6.neighbors.state(LAN, a).is_some(),
        "learned from the NS"
    );
    for stack in [&link.a, &link.b] {
        let nd = &stack.ip.v6.nd_stats;
        assert!(nd.mld_reports_sent >= 2, "solicited-node groups reported");
        assert!(nd.router_solicitations_sent >= 1);
        assert_eq!(nd.dad_conflicts, 0);
    }
    // IPv4 runs beside it unchanged.
    let Stack { ip, icmp, .. } = &mut link.a;
    icmp.send_echo_request(ip, core::net::Ipv4Addr::new(10, 0, 0, 2), (7, 2), b"v4", 64)
        .unwrap();
    link.pump();
    assert_eq!(link.b.icmp.stats.echo_replies, 1);
}

#[test]
fn slaac_forms_a_stable_address_and_takes_router_mtu_and_dns_servers() {
    let mut link = Link::new_ipv6();
    link.sync();
    advertise(&mut link.a, "2001:db8:1::", 600, 300);
    advertise(&mut link.b, "2001:db8:1::", 600, 300);
    link.advance(100_000_000, link.now_ns + 2 * SECOND);
    let formed = addresses(&link.a)
        .into_iter()
        .find(|a| a.origin == Origin::Slaac)
        .expect("a SLAAC address");
    assert_eq!(formed.state, AddressState::Preferred);
    assert_eq!(wire::ipv6::mask(formed.address, 64), ip("2001:db8:1::"));
    let interface_id = u128::from(formed.address) as u64;
    let mac_based = u64::from_be_bytes([2 ^ 2, 0, 0, 0xff, 0xfe, 0, 0, 1]);
    assert_ne!(interface_id, mac_based, "stable-privacy, not EUI-64");
    assert_eq!(link.a.ipv6_dns_servers(), [ip("2001:db8::53")]);
    let resolver_servers = [core::net::IpAddr::V6(ip("2001:db8::53"))];
    assert_eq!(
        link.a.name_servers(),
        resolver_servers,
        "RDNSS feeds the resolver"
    );
    assert!(
        link.a.ip.ipv6_usable(),
        "a global address: IPv6 sorts first"
    );
    let routers = link.a.ip.v6.routes.routers().to_vec();
    assert_eq!((routers.len(), routers[0].address), (1, ip("fe80::1")));
    let interface = link.a.ip.interface(LAN).unwrap();
    assert_eq!(interface.ipv6.advertised_mtu, Some(1400));
    assert!(
        link.a
            .ip
            .v6
            .neighbors
            .is_reachable_router(LAN, ip("fe80::1"))
    );
    // Global to global, on-link.
    let b_global = addresses(&link.b)
        .into_iter()
        .find(|a| a.origin == Origin::Slaac)
        .unwrap()
        .address;
    link.sync();
    link.a
        .ip
        .send_echo_request6(b_global, None, (9, 1), b"global", None)
        .unwrap();
    link.pump();
    let reply = link.a.ip.v6.icmp.replies.back().copied().unwrap();
    assert_eq!(reply.source, b_global);
    // The same advertisement again: the same address, lifetimes renewed.
    advertise(&mut link.a, "2001:db8:1::", 600, 300);
    assert_eq!(
        addresses(&link.a)
            .iter()
            .filter(|a| a.origin == Origin::Slaac)
            .count(),
        1
    );
    // Preferred lifetime over: deprecated; valid lifetime over: gone,
    // with the prefix, the router's DNS server and its lifetime.
    link.advance(10 * SECOND, link.now_ns + 310 * SECOND);
    let deprecated = addresses(&link.a)
        .into_iter()
        .find(|a| a.origin == Origin::Slaac);
    assert_eq!(deprecated.unwrap().state, AddressState::Deprecated);
    link.advance(10 * SECOND, link.now_ns + 300 * SECOND);
    assert!(addresses(&link.a).iter().all(|a| a.origin != Origin::Slaac));
    assert!(link.a.ipv6_dns_servers().is_empty());
    assert!(
        link.a.name_servers().is_empty(),
        "withdrawn from the resolver"
    );
    assert!(!link.a.ip.ipv6_usable(), "link-local only");
    assert!(link.a.ip.v6.routes.prefixes().is_empty());
}

#[test]
fn a_short_lifetime_cannot_cut_an_address_below_two_hours() {
    let mut link = Link::new_ipv6();
    link.sync();
    advertise(&mut link.a, "2001:db8:2::", 86_400, 86_400);
    link.advance(100_000_000, link.now_ns + 2 * SECOND);
    advertise(&mut link.a, "2001:db8:2::", 10, 10);
    let formed = addresses(&link.a)
        .into_iter()
        .find(|a| a.origin == Origin::Slaac)
        .unwrap();
    let left = formed.valid_until_ns - link.now_ns;
    assert_eq!(left, 2 * 3600 * SECOND, "RFC 4862 5.5.3 e: two hours");
    assert_eq!(formed.preferred_until_ns, link.now_ns + 10 * SECOND);
}

#[test]
fn dad_finds_an_address_another_node_holds_and_never_uses_it() {
    let mut link = Link::new_ipv6();
    link.sync();
    link.b.add_address6(LAN, ip("2001:db8::5"), 64).unwrap();
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    link.a.add_address6(LAN, ip("2001:db8::5"), 64).unwrap();
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    let taken = addresses(&link.a)
        .into_iter()
        .find(|a| a.address == ip("2001:db8::5"))
        .unwrap();
    assert_eq!(taken.state, AddressState::Duplicate);
    assert_eq!(link.a.ip.v6.nd_stats.dad_conflicts, 1);
    assert!(!link.a.ip.is_local6(ip("2001:db8::5")));
    let holder = addresses(&link.b)
        .into_iter()
        .find(|a| a.address == ip("2001:db8::5"))
        .unwrap();
    assert_eq!(holder.state, AddressState::Preferred, "the holder keeps it");
    // Both checking at once: each sees the other's probe.
    link.a.add_address6(LAN, ip("2001:db8::6"), 64).unwrap();
    link.b.add_address6(LAN, ip("2001:db8::6"), 64).unwrap();
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    let states: Vec<AddressState> = [&link.a, &link.b]
        .iter()
        .map(|stack| {
            let ipv6 = &stack.ip.interface(LAN).unwrap().ipv6;
            ipv6.find(ip("2001:db8::6")).unwrap().state
        })
        .collect();
    // Whoever heard the other's probe first gives the address up; a
    // probe never sent cannot be heard, so at most one keeps it.
    assert!(states.contains(&AddressState::Duplicate), "{states:?}");
}

#[test]
fn a_duplicate_stable_address_gives_way_to_the_next_identifier() {
    let mut link = Link::new_ipv6();
    link.sync();
    link.b.ip.v6.config.dad_transmits = 0;
    link.a.set_up(LAN, false).unwrap();
    link.a.set_up(LAN, true).unwrap();
    let first = addresses(&link.a)
        .into_iter()
        .find(|a| a.origin == Origin::LinkLocal)
        .unwrap();
    assert!(first.tentative());
    link.b.add_address6(LAN, first.address, 64).unwrap();
    link.advance(100_000_000, link.now_ns + 4 * SECOND);
    let now = link_local(&link.a);
    assert_ne!(now, first.address);
    assert_eq!(link.a.ip.v6.nd_stats.dad_conflicts, 1);
    let entry = addresses(&link.a)
        .into_iter()
        .find(|a| a.address == now)
        .unwrap();
    assert_eq!(entry.dad_counter, 1, "RFC 7217: DAD_Counter went up");
}

#[test]
fn a_silent_neighbor_is_probed_and_forgotten() {
    let mut link = Link::new_ipv6();
    let b = link_local(&link.b);
    link.sync();
    link.a
        .ip
        .send_echo_request6(b, None, (1, 1), b"x", None)
        .unwrap();
    link.pump();
    assert_eq!(
        link.a.ip.v6.neighbors.state(LAN, b),
        Some(NudState::Reachable)
    );
    link.filter = |_| false;
    link.advance(SECOND, link.now_ns + 50 * SECOND);
    assert_eq!(link.a.ip.v6.neighbors.state(LAN, b), Some(NudState::Stale));
    link.sync();
    link.a
        .ip
        .send_echo_request6(b, None, (1, 2), b"x", None)
        .unwrap();
    assert_eq!(link.a.ip.v6.neighbors.state(LAN, b), Some(NudState::Delay));
    link.advance(SECOND, link.now_ns + 6 * SECOND);
    assert_eq!(link.a.ip.v6.neighbors.state(LAN, b), Some(NudState::Probe));
    link.advance(SECOND, link.now_ns + 4 * SECOND);
    assert_eq!(link.a.ip.v6.neighbors.state(LAN, b), None);
    assert_eq!(link.a.ip.v6.neighbors.stats.unreachable, 1);
}

#[test]
fn a_large_echo_is_fragmented_both_ways_and_reassembled() {
    let mut link = Link::new_ipv6();
    let b = link_local(&link.b);
    link.sync();
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    link.a
        .ip
        .send_echo_request6(b, None, (3, 1), &data, None)
        .unwrap();
    link.pump();
    assert_eq!(link.a.ip.v6.stats.fragments_sent, 4);
    assert_eq!(link.b.ip.v6.reassembly.stats.reassembled, 1);
    assert_eq!(link.b.ip.v6.stats.fragments_sent, 4, "the reply too");
    assert_eq!(link.a.ip.v6.reassembly.stats.reassembled, 1);
    let reply = link.a.ip.v6.icmp.replies.back().copied().unwrap();
    assert_eq!((reply.source, reply.sequence), (b, 1));
    assert_eq!(link.a.ip.v6.reassembly.held(), 0);
}

#[test]
fn lost_fragments_time_out_and_free_their_memory() {
    let mut link = Link::new_ipv6();
    let b = link_local(&link.b);
    link.sync();
    link.a
        .ip
        .send_echo_request6(b, None, (3, 1), b"resolve", None)
        .unwrap();
    link.pump();
    // Drop the first fragment (fragment header at 54, offset 0, M set).
    link.filter = |frame| !(frame.len() > 62 && frame[20] == 44 && frame[56..58] == [0, 1]);
    link.a
        .ip
        .send_echo_request6(b, None, (3, 2), &[7u8; 4000], None)
        .unwrap();
    link.pump();
    assert_eq!(link.b.ip.v6.reassembly.held(), 2);
    link.advance(SECOND, link.now_ns + 61 * SECOND);
    assert_eq!(link.b.ip.v6.reassembly.held(), 0);
    assert_eq!(link.b.ip.v6.reassembly.stats.dropped, 1);
}

#[test]
fn mld_reports_the_solicited_node_groups_and_answers_queries() {
    let mut link = Link::new();
    link.sync();
    let config = crate::ipv6::Ipv6Config {
        enabled: true,
        ..Default::default()
    };
    link.a.set_ipv6_config(config);
    link.a.on_timer();
    let own = link_local_tentative(&link.a);
    let reports: Vec<(Ipv6Header, Vec<u8>)> = sent6(&mut link.a)
        .into_iter()
        .filter(|(header, _)| header.destination == wire::ipv6::addresses::ALL_MLDV2_ROUTERS)
        .collect();
    let (header, body) = reports.first().expect("a report at once");
    assert_eq!((header.hop_limit, header.next_header), (1, 0));
    assert_eq!(header.source, Ipv6Addr::UNSPECIFIED, "no link-local yet");
    assert_eq!(&body[..8], &wire::mld::ROUTER_ALERT);
    assert_eq!(body[8], wire::icmpv6::kind::MLD_V2_REPORT);
    assert_eq!(&body[8 + 12..8 + 28], &solicited_node(own).octets());
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    link.a.take_output(LAN);
    // A general query from a router: answered within its delay.
    let mut query = vec![0u8; 28];
    query[0] = wire::icmpv6::kind::MLD_QUERY;
    query[4..6].copy_from_slice(&1000u16.to_be_bytes());
    let group = ip("ff02::1");
    wire::icmpv6::seal(&mut query, ip("fe80::1"), group);
    let mut with_alert = wire::mld::ROUTER_ALERT.to_vec();
    with_alert.extend_from_slice(&query);
    let mut header = Ipv6Header::new(ip("fe80::1"), group, next_header::HOP_BY_HOP, 0);
    header.hop_limit = 1;
    link.sync();
    inject6(
        &mut link.a,
        MacAddress::ipv6_multicast(group),
        header,
        &with_alert,
    );
    assert_eq!(link.a.ip.v6.nd_stats.mld_queries, 1);
    let before = link.a.ip.v6.nd_stats.mld_reports_sent;
    link.advance(100_000_000, link.now_ns + SECOND + 100_000_000);
    assert_eq!(link.a.ip.v6.nd_stats.mld_reports_sent, before + 1);
}

fn link_local_tentative(stack: &Stack) -> Ipv6Addr {
    addresses(stack)
        .into_iter()
        .find(|a| a.origin == Origin::LinkLocal)
        .unwrap()
        .address
}

#[test]
fn going_down_forgets_what_was_learned_and_keeps_what_was_configured() {
    let mut link = Link::new_ipv6();
    link.sync();
    link.a.add_address6(LAN, ip("2001:db8::7"), 64).unwrap();
    advertise(&mut link.a, "2001:db8:1::", 600, 300);
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    assert_eq!(addresses(&link.a).len(), 3);
    link.a.set_up(LAN, false).unwrap();
    let left = addresses(&link.a);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].address, ip("2001:db8::7"));
    assert!(link.a.ip.v6.routes.routers().is_empty());
    assert!(link.a.ipv6_dns_servers().is_empty());
    assert!(link.a.ip.v6.neighbors.is_empty());
    assert_eq!(
        link.a.ip.v6.routes.prefixes().len(),
        1,
        "the configured one"
    );
    link.a.set_up(LAN, true).unwrap();
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    let back = addresses(&link.a);
    assert_eq!(
        back.len(),
        2,
        "link-local again, the static one checked again"
    );
    assert!(back.iter().all(|a| a.state == AddressState::Preferred));
    let mut stats = std::string::String::new();
    link.a.write_stats(&mut stats).unwrap();
    assert!(
        stats.contains("inet6 vif0 2001:db8::7/64 preferred static"),
        "{stats}"
    );
    assert!(
        stats.contains("prefix6 2001:db8::/64 if 0 for forever"),
        "{stats}"
    );
    assert!(stats.contains("ipv6 received "), "{stats}");
}
