//! IPv6 from a hostile link: extension-header tricks, atomic fragments,
//! fragment floods, forged router messages and redirects, error floods.

use core::net::Ipv6Addr;
use std::vec;
use std::vec::Vec;

use wire::extension::problem;
use wire::ipv6::{addresses, next_header};
use wire::{Icmpv6Kind, Icmpv6Message, Ipv6Header, MacAddress};

use super::ipv6::{LAN, SECOND, advertisement, echo, inject6, ip, mac_of, sent6};
use super::link::{Link, link_local};
use crate::reassembly::{MAX_DATAGRAMS, MAX_FRAGMENTS};
use crate::stack::Stack;

const PEER: &str = "fe80::99";

/// B with IPv6 running and its link-local address.
fn target() -> (Stack, Ipv6Addr) {
    let link = Link::new_ipv6();
    let address = link_local(&link.b);
    let mut b = link.b;
    b.take_output(LAN);
    // The peer's MAC is known, so that answers go out at once.
    let now = b.now_ns();
    let peer = super::ipv6::ROUTER_MAC;
    b.ip.v6.neighbors.learn(now, LAN, ip(PEER), peer, false);
    (b, address)
}

fn header(destination: Ipv6Addr, next: u8) -> Ipv6Header {
    Ipv6Header::new(ip(PEER), destination, next, 0)
}

/// The ICMPv6 messages `stack` sent.
fn icmp_sent(stack: &mut Stack) -> Vec<Icmpv6Kind> {
    sent6(stack)
        .into_iter()
        .filter(|(header, _)| header.next_header == next_header::ICMPV6)
        .filter_map(|(header, body)| {
            Icmpv6Message::parse(&body, header.source, header.destination).ok()
        })
        .map(|message| message.kind)
        .collect()
}

#[test]
fn unknown_headers_options_and_live_routing_headers_get_parameter_problems() {
    let (mut b, own) = target();
    let mac = mac_of(&b);
    inject6(&mut b, mac, header(own, 253), &[0; 8]);
    let mut unknown_option = vec![58, 0, 0x9e, 2, 0, 0, 1, 0];
    unknown_option.extend(echo(ip(PEER), own, 1, 0));
    inject6(&mut b, mac, header(own, 60), &unknown_option);
    let mut live_rh0 = vec![58, 2, 0, 1, 0, 0, 0, 0];
    live_rh0.extend_from_slice(&ip("2001:db8::1").octets());
    live_rh0.extend(echo(ip(PEER), own, 1, 0));
    inject6(&mut b, mac, header(own, 43), &live_rh0);
    let problems = icmp_sent(&mut b);
    assert_eq!(
        problems,
        [
            Icmpv6Kind::ParameterProblem {
                code: problem::NEXT_HEADER,
                pointer: 6
            },
            Icmpv6Kind::ParameterProblem {
                code: problem::OPTION,
                pointer: 42
            },
            Icmpv6Kind::ParameterProblem {
                code: problem::HEADER_FIELD,
                pointer: 42
            },
        ]
    );
    assert_eq!(b.ip.v6.stats.unknown_next_header, 1);
    assert_eq!(b.ip.v6.stats.extension_drops, 2);
    let mut spent_rh0 = vec![58, 2, 0, 0, 0, 0, 0, 0];
    spent_rh0.extend_from_slice(&ip("2001:db8::1").octets());
    spent_rh0.extend(echo(ip(PEER), own, 2, 0));
    inject6(&mut b, mac, header(own, 43), &spent_rh0);
    assert!(
        matches!(
            icmp_sent(&mut b)[..],
            [Icmpv6Kind::EchoReply { sequence: 2, .. }]
        ),
        "a spent routing header is skipped"
    );
}

#[test]
fn long_chains_and_padding_are_dropped_without_a_word() {
    let (mut b, own) = target();
    let mac = mac_of(&b);
    let mut chain = Vec::new();
    for _ in 0..9 {
        chain.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    }
    let last = chain.len() - 8;
    chain[last] = 58;
    chain.extend(echo(ip(PEER), own, 1, 0));
    inject6(&mut b, mac, header(own, 60), &chain);
    let mut padding = vec![58, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    padding.extend(echo(ip(PEER), own, 1, 0));
    inject6(&mut b, mac, header(own, 60), &padding);
    assert!(icmp_sent(&mut b).is_empty());
    assert_eq!(b.ip.v6.stats.extension_drops, 2);
}

#[test]
fn an_atomic_fragment_is_a_whole_packet() {
    let (mut b, own) = target();
    let mac = mac_of(&b);
    let mut atomic = vec![58, 0, 0, 0, 0xab, 0xcd, 0, 1];
    atomic.extend(echo(ip(PEER), own, 5, 16));
    inject6(&mut b, mac, header(own, 44), &atomic);
    assert!(matches!(
        icmp_sent(&mut b)[..],
        [Icmpv6Kind::EchoReply { sequence: 5, .. }]
    ));
    assert_eq!(b.ip.v6.stats.atomic_fragments, 1);
    assert_eq!(b.ip.v6.reassembly.held(), 0, "never in reassembly");
}

#[test]
fn a_flood_of_fragments_is_bounded_and_times_out() {
    let (mut b, own) = target();
    let mac = mac_of(&b);
    for identification in 0..1000u32 {
        let mut fragment = vec![58, 0, 0, 1];
        fragment.extend_from_slice(&identification.to_be_bytes());
        fragment.extend_from_slice(&[0; 64]);
        inject6(&mut b, mac, header(own, 44), &fragment);
        assert!(b.ip.v6.reassembly.held() <= MAX_FRAGMENTS);
        assert!(b.ip.v6.reassembly.datagrams() <= MAX_DATAGRAMS);
    }
    let badly_sized = [58, 0, 0, 1, 0, 0, 0, 9, 128, 0, 0];
    inject6(&mut b, mac, header(own, 44), &badly_sized);
    let sent = icmp_sent(&mut b);
    assert!(
        matches!(
            sent[..],
            [Icmpv6Kind::ParameterProblem {
                code: 0,
                pointer: 4
            }]
        ),
        "{sent:?}"
    );
    b.set_now(b.now_ns() + 61 * SECOND);
    b.on_timer();
    assert_eq!(b.ip.v6.reassembly.held(), 0);
    assert_eq!(b.ip.v6.reassembly.datagrams(), 0);
}

#[test]
fn errors_are_rate_limited_and_never_answer_errors_or_groups() {
    let (mut b, own) = target();
    let mac = mac_of(&b);
    for _ in 0..500 {
        inject6(&mut b, mac, header(own, 253), &[0; 8]);
    }
    assert_eq!(b.ip.v6.icmp.stats.errors_sent, 100);
    assert_eq!(b.ip.v6.icmp.stats.rate_limited, 400);
    b.set_now(b.now_ns() + 2 * SECOND);
    b.take_output(LAN);
    let group = addresses::ALL_NODES;
    inject6(
        &mut b,
        MacAddress::ipv6_multicast(group),
        header(group, 253),
        &[0; 8],
    );
    let mut error = vec![0u8; 48];
    let kind = Icmpv6Kind::DestinationUnreachable { code: 4 };
    Icmpv6Message { kind }.write(&mut error, ip(PEER), own);
    let mut unknown_option = vec![58, 0, 0x9e, 2, 0, 0, 1, 0];
    unknown_option.extend(error);
    inject6(&mut b, mac, header(own, 60), &unknown_option);
    assert!(
        icmp_sent(&mut b).is_empty(),
        "no error about a group or an error"
    );
}

#[test]
fn forged_router_messages_and_redirects_change_nothing() {
    let (mut b, own) = target();
    let mac = mac_of(&b);
    let all_nodes = addresses::ALL_NODES;
    let group_mac = MacAddress::ipv6_multicast(all_nodes);
    let message = advertisement("2001:db8:66::", 600, 600);
    let routed = Ipv6Header::new(ip("fe80::1"), all_nodes, next_header::ICMPV6, 0);
    inject6(&mut b, group_mac, routed, &message);
    let mut global = Ipv6Header::new(ip("2001:db8::1"), all_nodes, next_header::ICMPV6, 0);
    global.hop_limit = 255;
    let resealed = {
        let mut copy = message.clone();
        wire::icmpv6::seal(&mut copy, ip("2001:db8::1"), all_nodes);
        copy
    };
    inject6(&mut b, group_mac, global, &resealed);
    assert_eq!(b.ip.v6.nd_stats.invalid, 2, "hop limit 64; not link-local");
    assert!(b.ip.v6.routes.routers().is_empty());
    assert!(b.ipv6_dns_servers().is_empty());
    let mut redirect = vec![0u8; 40];
    redirect[0] = wire::icmpv6::kind::REDIRECT;
    redirect[8..24].copy_from_slice(&ip("fe80::66").octets());
    redirect[24..40].copy_from_slice(&ip("2001:db8::1").octets());
    wire::icmpv6::seal(&mut redirect, ip("fe80::1"), own);
    let mut header = Ipv6Header::new(ip("fe80::1"), own, next_header::ICMPV6, 0);
    header.hop_limit = 255;
    inject6(&mut b, mac, header, &redirect);
    assert_eq!(b.ip.v6.nd_stats.redirects_ignored, 1);
    assert_eq!(b.ip.v6.routes.redirect(ip("2001:db8::1")), None);
}

#[test]
fn a_tentative_address_takes_only_dad_messages_and_martians_are_dropped() {
    let (mut b, own) = target();
    let mac = mac_of(&b);
    let before = b.ip.v6.stats;
    b.add_address6(LAN, ip("2001:db8::2"), 64).unwrap();
    let tentative = ip("2001:db8::2");
    inject6(
        &mut b,
        mac,
        header(tentative, 58),
        &echo(ip(PEER), tentative, 1, 0),
    );
    assert!(
        icmp_sent(&mut b)
            .iter()
            .all(|k| !matches!(k, Icmpv6Kind::EchoReply { .. }))
    );
    for source in [ip("ff02::1"), ip("::1"), own, Ipv6Addr::UNSPECIFIED] {
        let spoofed = Ipv6Header::new(source, own, 58, 0);
        inject6(&mut b, mac, spoofed, &echo(source, own, 1, 0));
    }
    assert!(
        icmp_sent(&mut b)
            .iter()
            .all(|k| !matches!(k, Icmpv6Kind::EchoReply { .. }))
    );
    let after = b.ip.v6.stats;
    assert_eq!(after.martian_source - before.martian_source, 4);
    assert_eq!(after.not_for_us - before.not_for_us, 1, "the tentative one");
}
