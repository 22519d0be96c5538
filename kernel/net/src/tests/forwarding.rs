//! Forwarding through a router stack (`chain.rs`), both families: off by
//! default, echo and TCP through it, TTL expiry, no route, a smaller far
//! link (fragments for IPv4 without DF, "fragmentation needed" and Packet
//! Too Big otherwise, TCP coping), what is never forwarded, partial
//! checksums completed on the way, errors rate-limited.

use core::net::{IpAddr, Ipv4Addr};
use std::vec::Vec;

use wire::Ipv4Header;
use wire::ipv4::protocol;

use super::chain::{A, B, B6, Chain, FAR, MILLISECOND, R_FAR, R_FAR6, R_NEAR, R_NEAR6};
use crate::offload::Offloads;
use crate::probe::Answer;

fn router() -> Chain {
    Chain::new(true, Offloads::NONE)
}

pub(super) fn data(length: usize) -> Vec<u8> {
    (0..length).map(|at| (at % 253) as u8).collect()
}

#[test]
fn forwarding_is_off_by_default_and_nothing_passes() {
    let mut chain = Chain::new(false, Offloads::NONE);
    assert_eq!(chain.echo(B.into(), 64, 32), None);
    assert_eq!(chain.echo(B6.into(), 64, 32), None);
    assert!(chain.r.ip.stats.not_for_us >= 1);
    assert!(chain.r.ip.v6.stats.not_for_us >= 1);
    assert_eq!(chain.b.icmp.stats.received, 0);
    assert_eq!(chain.b.ip.v6.icmp.stats.echo_replies, 0);
    assert_eq!(chain.r.ip.forward_stats.forwarded, 0);
    assert_eq!(chain.r.ip.v6.forward_stats.forwarded, 0);
    // The router itself still answers, on either of its addresses.
    assert_eq!(
        chain.echo(R_NEAR.into(), 64, 32),
        Some((R_NEAR.into(), Answer::Echo))
    );
}

#[test]
fn echo_and_tcp_cross_the_router_in_both_families() {
    let mut chain = router();
    for (b, far) in [
        (IpAddr::from(B), IpAddr::from(R_FAR)),
        (B6.into(), R_FAR6.into()),
    ] {
        assert_eq!(chain.echo(b, 64, 56), Some((b, Answer::Echo)));
        // The router's far address is its own, not forwarded.
        assert_eq!(chain.echo(far, 64, 56), Some((far, Answer::Echo)));
        let connection = chain.connect(b);
        assert!(chain.transfer(connection, &data(300_000), 20_000 * MILLISECOND));
    }
    assert!(chain.r.ip.forward_stats.forwarded > 200);
    assert!(chain.r.ip.v6.forward_stats.forwarded > 200);
    assert_eq!(chain.r.ip.forward_stats.refused, 0);
}

#[test]
fn the_hop_that_runs_out_answers_with_time_exceeded() {
    let mut chain = router();
    assert_eq!(chain.echo(B.into(), 2, 32), Some((B.into(), Answer::Echo)));
    let expired = chain.echo(B.into(), 1, 32);
    assert_eq!(expired, Some((R_NEAR.into(), Answer::TimeExceeded)));
    assert_eq!(
        chain.echo(B6.into(), 2, 32),
        Some((B6.into(), Answer::Echo))
    );
    let expired = chain.echo(B6.into(), 1, 32);
    assert_eq!(expired, Some((R_NEAR6.into(), Answer::TimeExceeded)));
    assert_eq!(chain.r.ip.forward_stats.ttl_exceeded, 1);
    assert_eq!(chain.r.ip.v6.forward_stats.ttl_exceeded, 1);
    assert_eq!(chain.r.icmp.stats.time_exceeded_sent, 1);
    assert_eq!(chain.a.icmp.stats.time_exceeded_received, 1);
}

#[test]
fn no_route_is_answered_with_destination_unreachable() {
    let mut chain = router();
    let nowhere = Ipv4Addr::new(10, 9, 9, 9);
    let answer = chain.echo(nowhere.into(), 64, 32);
    assert_eq!(
        answer,
        Some((R_NEAR.into(), Answer::Unreachable { code: 0 }))
    );
    let nowhere6: IpAddr = "fd09::9".parse().unwrap();
    let answer = chain.echo(nowhere6, 64, 32);
    assert_eq!(
        answer,
        Some((R_NEAR6.into(), Answer::Unreachable { code: 0 }))
    );
    assert_eq!(chain.r.ip.forward_stats.no_route, 1);
    assert_eq!(chain.r.ip.v6.forward_stats.no_route, 1);
}

#[test]
fn a_smaller_far_link_fragments_ipv4_and_answers_too_big_otherwise() {
    let mut chain = router();
    chain.r.set_mtu(FAR, 1280).unwrap();
    // IPv4 without DF (ICMP): fragmented on the way, reassembled by B.
    assert_eq!(
        chain.echo(B.into(), 64, 1400),
        Some((B.into(), Answer::Echo))
    );
    assert_eq!(chain.r.ip.forward_stats.fragmented, 1);
    assert_eq!(chain.b.ip.reassembly.stats.reassembled, 1);
    // IPv6 is never fragmented by a router: Packet Too Big, and A then
    // fragments itself.
    let answer = chain.echo(B6.into(), 64, 1400);
    assert_eq!(answer, Some((R_NEAR6.into(), Answer::TooBig { mtu: 1280 })));
    let answer = chain.echo(B6.into(), 64, 1400);
    assert_eq!(answer, Some((B6.into(), Answer::Echo)));
    assert_eq!(chain.r.ip.v6.forward_stats.too_big, 1);
}

#[test]
fn tcp_finds_the_smaller_far_link_in_both_families() {
    let mut chain = router();
    chain.r.set_mtu(FAR, 1280).unwrap();
    // TCP sets DF: "fragmentation needed" or Packet Too Big, and the path
    // MTU comes down without a timeout.
    for b in [IpAddr::from(B), B6.into()] {
        let connection = chain.connect(b);
        assert!(chain.transfer(connection, &data(200_000), 20_000 * MILLISECOND));
    }
    assert!(chain.r.ip.forward_stats.too_big >= 1);
    assert!(chain.r.ip.v6.forward_stats.too_big >= 1);
    assert_eq!(chain.r.ip.forward_stats.fragmented, 0, "DF is kept");
    assert!(chain.a.tcp.stats().path_mtu_lowered >= 2);
    assert_eq!(chain.a.tcp.stats().timeouts, 0);
}

/// An IPv4 packet from `source` to `destination` (ICMP echo, TTL 64),
/// with `options` in its header.
fn packet(source: Ipv4Addr, destination: Ipv4Addr, options: &[u8]) -> Vec<u8> {
    let mut echo = [0u8; 16];
    let kind = wire::IcmpKind::EchoRequest {
        identifier: 1,
        sequence: 1,
    };
    wire::IcmpMessage { kind }.write(&mut echo);
    let length = 20 + options.len();
    let mut bytes = std::vec![0u8; length + echo.len()];
    Ipv4Header::new(
        source,
        destination,
        protocol::ICMP,
        length - 20 + echo.len(),
    )
    .write(&mut bytes);
    bytes[0] = 0x40 | (length / 4) as u8;
    let total = bytes.len() as u16;
    bytes[2..4].copy_from_slice(&total.to_be_bytes());
    bytes[20..length].copy_from_slice(options);
    bytes[10..12].fill(0);
    let sum = wire::checksum(&bytes[..length]);
    bytes[10..12].copy_from_slice(&sum.to_be_bytes());
    bytes[length..].copy_from_slice(&echo);
    bytes
}

/// An IPv6 packet (no next header) from `source` to `destination`.
fn packet6(source: &str, destination: &str) -> Vec<u8> {
    let mut bytes = std::vec![0u8; 40];
    let header =
        wire::Ipv6Header::new(source.parse().unwrap(), destination.parse().unwrap(), 59, 0);
    header.write(&mut bytes);
    bytes
}

#[test]
fn scope_martians_broadcasts_and_source_routes_are_never_forwarded() {
    let mut chain = router();
    let sent_far = |chain: &Chain| chain.r.ip.interface(FAR).unwrap().counters.sent_packets;
    let before = sent_far(&chain);
    let refused = [
        packet(A, Ipv4Addr::new(169, 254, 1, 1), &[]),
        packet(Ipv4Addr::new(169, 254, 1, 1), B, &[]),
        packet(Ipv4Addr::new(127, 0, 0, 1), B, &[]),
        packet(Ipv4Addr::new(0, 1, 2, 3), B, &[]),
        packet(A, Ipv4Addr::new(10, 0, 2, 255), &[]),
        packet(A, Ipv4Addr::new(224, 0, 0, 9), &[]),
        packet(A, Ipv4Addr::new(240, 0, 0, 1), &[]),
        packet(R_FAR, B, &[]),
        packet(A, B, &[131, 7, 4, 10, 0, 2, 1, 0]),
        packet6("fe80::1", "fd02::1"),
        packet6("fd01::1", "fe80::99"),
        packet6("fd01::1", "::1"),
        packet6("fd01::fe", "fd02::1"),
        packet6("fd01::1", "::ffff:10.0.2.1"),
    ];
    for bytes in &refused {
        chain.inject(bytes, false);
    }
    // A unicast packet that came to the link's broadcast address.
    chain.inject(&packet(A, B, &[]), true);
    chain.inject(&packet6("fd01::1", "fd02::1"), true);
    let refused_count = chain.r.ip.forward_stats.refused + chain.r.ip.v6.forward_stats.refused;
    assert_eq!(refused_count, refused.len() as u64 + 2);
    assert_eq!(sent_far(&chain), before, "nothing left on the far link");
    // The same packets without the faults go through (and B's echo reply
    // comes back through R).
    chain.inject(&packet(A, B, &[1, 1, 1, 0]), false);
    chain.inject(&packet6("fd01::1", "fd02::1"), false);
    assert_eq!(chain.r.ip.forward_stats.forwarded, 2);
    assert_eq!(chain.r.ip.v6.forward_stats.forwarded, 1);
}

#[test]
fn a_partial_checksum_from_the_near_device_is_completed_before_a_plain_one() {
    let checksums = Offloads {
        transmit_checksum: true,
        segmentation_ipv4: false,
        segmentation_ipv6: false,
    };
    let mut chain = Chain::new(true, checksums);
    chain.partial_near = true;
    for b in [IpAddr::from(B), B6.into()] {
        let connection = chain.connect(b);
        assert!(chain.transfer(connection, &data(100_000), 10_000 * MILLISECOND));
    }
    assert_eq!(chain.partial_far, 0, "completed by R, not passed on");
    assert_eq!(chain.b.tcp.stats().bad_checksums, 0);
}

#[test]
fn errors_about_forwarded_packets_share_the_hosts_rate_limit() {
    let mut chain = router();
    let expiring = packet(A, B, &[]);
    let mut expiring = expiring.clone();
    expiring[8] = 1;
    expiring[10..12].fill(0);
    let sum = wire::checksum(&expiring[..20]);
    expiring[10..12].copy_from_slice(&sum.to_be_bytes());
    for _ in 0..300 {
        chain.inject(&expiring, false);
    }
    let icmp = chain.r.icmp.stats;
    assert_eq!(chain.r.ip.forward_stats.ttl_exceeded, 300);
    assert!(icmp.time_exceeded_sent <= u64::from(crate::icmp::ERRORS_PER_SECOND));
    assert!(icmp.rate_limited >= 200, "{icmp:?}");
}

#[test]
fn an_ipv6_router_says_so_in_its_advertisements_and_listens_to_all_routers() {
    let mut chain = router();
    let all_routers = wire::ipv6::addresses::ALL_ROUTERS;
    assert!(chain.r.ip.interface(FAR).unwrap().ipv6.listens(all_routers));
    chain.record = true;
    chain
        .a
        .ip
        .send_solicitation(super::chain::ONLY, R_NEAR6, None);
    chain.pump();
    assert_eq!(
        chain.echo(B6.into(), 64, 8),
        Some((B6.into(), Answer::Echo))
    );
    let advertisements: Vec<&Vec<u8>> = (chain.from_r.iter())
        .filter(|frame| frame.len() > 58 && frame[12..14] == [0x86, 0xdd])
        .filter(|frame| frame[20] == 58 && frame[54] == 136)
        .collect();
    assert!(!advertisements.is_empty());
    assert!(advertisements.iter().all(|frame| frame[58] & 0x80 != 0));
    assert_eq!(chain.r.ip.v6.nd_stats.router_solicitations_sent, 0);
}
