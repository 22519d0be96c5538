//! Path MTU discovery through the whole stack, one mechanism for both
//! families: behind the router of `router.rs`, ICMP "fragmentation
//! needed" (RFC 1191) and ICMPv6 Packet Too Big (RFC 8201) lower the
//! connection's MTU without a timeout, and the cache keeps what TCP
//! checked against a connection (RFC 5927); a black hole is found by
//! probing (RFC 4821); no TCP segment is ever fragmented at the source,
//! so a connection that meets no ICMP itself takes the MTU the cache
//! learned at its first timeout; forged messages change nothing.

use std::vec::Vec;

use super::router::{B, MILLISECOND, MTU, Routed, deliver, icmp_frame, packet_too_big, pattern};
use crate::interface::InterfaceIndex;
use crate::stack::Stack;

/// The router over IPv4 and over IPv6, answering with ICMP when `icmp`.
fn both_families(icmp: bool) -> [Routed; 2] {
    [Routed::new(icmp), Routed::new_ipv6(icmp)]
}

#[test]
fn the_routers_icmp_lowers_the_mtu_and_new_connections_start_below_it() {
    for mut routed in both_families(true) {
        let connection = routed.connect();
        let data = pattern(400_000);
        assert!(routed.transfer(connection, &data, 30_000 * MILLISECOND));
        let stats = *routed.link.a.tcp.stats();
        assert!(stats.path_mtu_lowered >= 1, "{stats:?}");
        assert_eq!(stats.timeouts, 0, "{stats:?}");
        let (now, server) = (routed.link.now_ns, routed.server());
        assert_eq!(routed.link.a.ip.path_mtu.get(server, now), Some(MTU));
        assert_eq!(routed.largest, usize::from(MTU));
        assert_eq!(routed.fragments_sent(), 0);
        // A new connection takes the learned MTU from the route: it never
        // meets the router's ICMP.
        let icmps = routed.icmps;
        let client = routed.connect_again();
        let Stack { ip, tcp, .. } = &mut routed.link.a;
        tcp.send(now, client, &data[..50_000], ip).unwrap();
        routed.advance(now + 100 * MILLISECOND);
        assert_eq!(routed.icmps, icmps);
    }
}

#[test]
fn a_black_hole_is_found_without_icmp() {
    for mut routed in both_families(false) {
        let connection = routed.connect();
        let data = pattern(400_000);
        assert!(routed.transfer(connection, &data, 60_000 * MILLISECOND));
        let stats = *routed.link.a.tcp.stats();
        assert_eq!(stats.mtu_black_holes, 1, "{stats:?}");
        assert!(routed.link.a.ip.path_mtu.is_empty(routed.link.now_ns));
        assert_eq!(routed.fragments_sent(), 0);
    }
}

#[test]
fn a_connection_open_before_the_icmp_takes_the_learned_mtu_at_its_first_timeout() {
    for mut routed in both_families(true) {
        let first = routed.connect();
        let second = routed.connect_accepted();
        let data = pattern(200_000);
        assert!(routed.transfer(first, &data, 30_000 * MILLISECOND));
        assert_eq!(routed.link.a.tcp.stats().path_mtu_lowered, 1);
        // The IP layer refuses the second's full-size segments now: it
        // meets no ICMP, and its first timeout finds the route's MTU.
        let icmps = routed.icmps;
        assert!(routed.transfer(second, &data, 30_000 * MILLISECOND));
        let stats = *routed.link.a.tcp.stats();
        assert_eq!(routed.icmps, icmps);
        let counts = (
            stats.path_mtu_from_route,
            stats.timeouts,
            stats.mtu_black_holes,
        );
        assert_eq!(counts, (1, 1, 0), "{stats:?}");
        assert_eq!(routed.fragments_sent(), 0);
    }
}

/// A's first segment of 20,000 bytes to B, as a frame, unsent.
fn first_segment(routed: &mut Routed) -> Vec<u8> {
    let (client, _) = routed.connect();
    let now = routed.link.now_ns;
    let Stack { ip, tcp, .. } = &mut routed.link.a;
    tcp.send(now, client, &pattern(20_000), ip).unwrap();
    let frames = routed.link.a.take_output(InterfaceIndex(0));
    frames[0].data().to_vec()
}

#[test]
fn forged_fragmentation_needed_messages_are_ignored() {
    let mut routed = Routed::new(true);
    let frame = first_segment(&mut routed);
    let now = routed.link.now_ns;
    let ethernet = wire::ethernet::HEADER_LEN;
    let quote = frame[ethernet..ethernet + 28].to_vec();
    let mut wrong_sequence = quote.clone();
    wrong_sequence[24] ^= 0x80;
    let mut wrong_port = quote.clone();
    wrong_port[22] ^= 1;
    let forged = [
        icmp_frame(&frame, &wrong_sequence, 4, 1280),
        icmp_frame(&frame, &wrong_port, 4, 1280),
        icmp_frame(&frame, &quote, 4, 68),
        icmp_frame(&frame, &quote, 4, 400),
        icmp_frame(&frame, &quote, 4, 9000),
        icmp_frame(&frame, &quote[..27], 4, 1280),
    ];
    for bytes in &forged {
        deliver(&mut routed.link.a, bytes);
    }
    let stats = *routed.link.a.tcp.stats();
    assert_eq!((stats.path_mtu_lowered, stats.path_mtu_ignored), (0, 4));
    assert_eq!(routed.link.a.icmp.stats.malformed, 1, "the MTU that fits");
    assert!(routed.link.a.ip.path_mtu.is_empty(now));
    // The genuine message, quoting the same segment, is taken.
    deliver(&mut routed.link.a, &icmp_frame(&frame, &quote, 4, 1280));
    assert_eq!(routed.link.a.tcp.stats().path_mtu_lowered, 1);
    assert_eq!(routed.link.a.ip.path_mtu.get(B.into(), now), Some(MTU));
}

#[test]
fn a_packet_too_big_quoting_no_segment_in_flight_is_ignored() {
    let mut routed = Routed::new_ipv6(true);
    let mut frame = first_segment(&mut routed);
    let now = routed.link.now_ns;
    let genuine = packet_too_big(&frame, MTU);
    // Ethernet 14 + IPv6 40: the TCP sequence number at 4..8.
    frame[14 + 40 + 4] ^= 0x80;
    deliver(&mut routed.link.a, &packet_too_big(&frame, MTU));
    let stats = *routed.link.a.tcp.stats();
    assert_eq!((stats.path_mtu_lowered, stats.path_mtu_ignored), (0, 1));
    assert!(routed.link.a.ip.path_mtu.is_empty(now));
    // The genuine message, quoting the same segment, is taken.
    deliver(&mut routed.link.a, &genuine);
    assert_eq!(routed.link.a.tcp.stats().path_mtu_lowered, 1);
    let server = routed.server();
    assert_eq!(routed.link.a.ip.path_mtu.get(server, now), Some(MTU));
}
