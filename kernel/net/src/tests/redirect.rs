//! ICMPv6 redirects from a forwarding node (RFC 4861 8.2), on a chain.
//!
//! A packet from A to another host of A's own link, handed to R, goes
//! back out the link it came from: R forwards it and tells A, from its
//! link-local address with hop limit 255, that the destination is on-link
//! (target = destination), quoting the packet. A source that is not a
//! neighbor gets none, and redirects share the ICMPv6 errors' rate limit.

use core::net::Ipv6Addr;
use std::vec::Vec;

use super::chain::{A6, Chain, NEAR};
use crate::offload::Offloads;

/// An IPv6 packet (no next header) from `source` to `destination`.
fn packet6(source: Ipv6Addr, destination: Ipv6Addr) -> Vec<u8> {
    let mut bytes = std::vec![0u8; 48];
    wire::Ipv6Header::new(source, destination, 59, 8).write(&mut bytes);
    bytes[40..].copy_from_slice(b"redirect");
    bytes
}

/// The redirects R sent (IPv6 packets, after the Ethernet header).
fn redirects(chain: &Chain) -> Vec<Vec<u8>> {
    (chain.from_r.iter())
        .filter(|frame| frame.len() > 54 + 40 && frame[12..14] == [0x86, 0xdd])
        .filter(|frame| frame[20] == 58 && frame[54] == wire::icmpv6::kind::REDIRECT)
        .map(|frame| frame[14..].to_vec())
        .collect()
}

#[test]
fn a_packet_back_onto_its_own_link_is_forwarded_and_its_source_redirected() {
    let mut chain = Chain::new(true, Offloads::NONE);
    chain.record = true;
    let neighbor: Ipv6Addr = "fd01::99".parse().unwrap();
    let packet = packet6(A6, neighbor);
    chain.inject(&packet, false);
    let sent = redirects(&chain);
    assert_eq!(sent.len(), 1);
    let redirect = &sent[0];
    let header = wire::Ipv6Header::parse(redirect).expect("an IPv6 packet");
    let r_link_local = chain.r.ip.interface(NEAR).unwrap().ipv6.link_local();
    assert_eq!(Some(header.source), r_link_local);
    assert_eq!((header.destination, header.hop_limit), (A6, 255));
    let message = &redirect[40..];
    assert_eq!(&message[8..24], &neighbor.octets(), "target: on-link");
    assert_eq!(&message[24..40], &neighbor.octets(), "destination");
    assert_eq!(message[40..42], [4, 1 + 48 / 8], "the redirected header");
    assert_eq!(&message[48..], &packet[..], "the packet, quoted");
    let sum = wire::Checksum::new()
        .add_ipv6_pseudo_header(header.source, A6, 58, message.len() as u32)
        .add(message)
        .finish();
    assert_eq!(sum, 0, "a valid ICMPv6 checksum");
    let forwarded = chain.r.ip.v6.forward_stats;
    assert_eq!((forwarded.forwarded, forwarded.redirects), (1, 1));
    assert_eq!(chain.a.ip.v6.nd_stats.redirects_ignored, 1, "A ignores");
}

#[test]
fn no_redirect_to_a_source_off_the_link_and_floods_are_rate_limited() {
    let mut chain = Chain::new(true, Offloads::NONE);
    chain.record = true;
    let neighbor: Ipv6Addr = "fd01::99".parse().unwrap();
    let distant: Ipv6Addr = "fd05::1".parse().unwrap();
    chain.inject(&packet6(distant, neighbor), false);
    assert!(redirects(&chain).is_empty());
    for _ in 0..300 {
        chain.inject(&packet6(A6, neighbor), false);
    }
    let sent = chain.r.ip.v6.forward_stats.redirects;
    assert!(sent >= 1 && sent <= u64::from(crate::icmp::ERRORS_PER_SECOND));
    assert_eq!(chain.r.ip.v6.forward_stats.forwarded, 301);
}
