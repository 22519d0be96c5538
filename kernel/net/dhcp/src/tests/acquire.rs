//! Acquiring a lease: DORA, foreign offers, NAK, backoff and the DISCOVER.

use super::{FakeServer, Harness, MAC, START_NS, parse};
use crate::message::{self, FLAG_BROADCAST, MessageType, option};
use crate::random::SECOND_NS;
use crate::{Event, State};
use core::net::Ipv4Addr;

#[test]
fn dora_binds_with_every_lease_field_right() {
    let server = FakeServer::new();
    let mut harness = Harness::new(1);
    let (outgoing, discover) = harness.expect_transmit();
    assert_eq!(outgoing.source, Ipv4Addr::UNSPECIFIED);
    assert_eq!(outgoing.destination, Ipv4Addr::BROADCAST);
    assert_eq!(parse(&discover).message_type(), MessageType::Discover);
    assert_eq!(harness.client.state(), State::Selecting);

    harness.now += 300_000_000;
    assert_eq!(harness.deliver(&server.offer(&discover)), None);
    assert_eq!(harness.client.state(), State::Requesting);
    let (outgoing, request) = harness.expect_transmit();
    let request_view = parse(&request);
    assert_eq!(outgoing.destination, Ipv4Addr::BROADCAST);
    assert_eq!(request_view.message_type(), MessageType::Request);
    assert_eq!(request_view.header().xid, parse(&discover).header().xid);
    assert_eq!(request_view.header().flags, FLAG_BROADCAST);
    assert_eq!(request_view.header().client_address, Ipv4Addr::UNSPECIFIED);
    let requested = request_view.address_option(option::REQUESTED_ADDRESS);
    assert_eq!(requested, Some(server.address));
    let named = request_view.address_option(option::SERVER_IDENTIFIER);
    assert_eq!(named, Some(server.identifier));

    let request_time = harness.now;
    harness.now += 200_000_000;
    let Some(Event::Bound(lease)) = harness.deliver(&server.ack(&request)) else {
        panic!("the ACK must bind");
    };
    assert_eq!(lease.address, Ipv4Addr::new(10, 0, 2, 15));
    assert_eq!(lease.prefix_length, 24);
    assert_eq!(lease.router, Some(Ipv4Addr::new(10, 0, 2, 2)));
    let dns = [
        Some(Ipv4Addr::new(10, 0, 2, 3)),
        Some(Ipv4Addr::new(1, 1, 1, 1)),
    ];
    assert_eq!(lease.dns, dns);
    assert_eq!(lease.server, Ipv4Addr::new(10, 0, 2, 2));
    assert_eq!(lease.lease_ns, 3_600 * SECOND_NS);
    assert_eq!(lease.renew_at_ns, request_time + 1_800 * SECOND_NS);
    assert_eq!(lease.rebind_at_ns, request_time + 3_150 * SECOND_NS);
    assert_eq!(lease.expires_at_ns, request_time + 3_600 * SECOND_NS);
    assert!(!lease.is_infinite());

    assert_eq!(harness.client.state(), State::Bound);
    assert_eq!(harness.client.lease(), Some(&lease));
    assert_eq!(harness.client.next_deadline(), Some(lease.renew_at_ns));
    assert_eq!(harness.transmit(), None);
    let stats = harness.client.stats();
    assert_eq!((stats.discovers_sent, stats.requests_sent), (1, 1));
    assert_eq!((stats.offers_received, stats.acks_received), (1, 1));
    assert_eq!(
        (stats.naks_received, stats.malformed, stats.ignored),
        (0, 0, 0)
    );
}

#[test]
fn server_given_renewal_and_rebinding_times_are_used() {
    let server = FakeServer {
        renewal_seconds: Some(600),
        rebinding_seconds: Some(900),
        ..FakeServer::new()
    };
    let mut harness = Harness::new(2);
    let (lease, requested_at) = harness.acquire(&server);
    assert_eq!(lease.renew_at_ns, requested_at + 600 * SECOND_NS);
    assert_eq!(lease.rebind_at_ns, requested_at + 900 * SECOND_NS);
    assert_eq!(lease.expires_at_ns, requested_at + 3_600 * SECOND_NS);
}

#[test]
fn offers_with_another_xid_chaddr_or_op_are_ignored() {
    let server = FakeServer::new();
    let mut harness = Harness::new(3);
    let (_, discover) = harness.expect_transmit();
    let offer = server.offer(&discover);
    let mut other_xid = offer.clone();
    other_xid[7] ^= 0x01;
    let mut other_mac = offer.clone();
    other_mac[33] ^= 0x01;
    let mut not_a_reply = offer.clone();
    not_a_reply[0] = message::OP_REQUEST;
    for foreign in [&other_xid, &other_mac, &not_a_reply] {
        assert_eq!(harness.deliver(foreign), None);
        assert_eq!(harness.client.state(), State::Selecting);
    }
    assert_eq!(harness.client.stats().ignored, 3);
    assert_eq!(harness.client.stats().offers_received, 0);

    harness.deliver(&offer);
    assert_eq!(harness.client.state(), State::Requesting);
    let second = FakeServer {
        identifier: Ipv4Addr::new(10, 0, 2, 9),
        ..server
    };
    harness.deliver(&second.offer(&discover));
    assert_eq!(
        harness.client.stats().ignored,
        4,
        "only the first offer is taken"
    );
    let (_, request) = harness.expect_transmit();
    let named = parse(&request).address_option(option::SERVER_IDENTIFIER);
    assert_eq!(named, Some(server.identifier));
}

#[test]
fn an_ack_from_a_server_we_did_not_choose_is_ignored() {
    let server = FakeServer::new();
    let stranger = FakeServer {
        identifier: Ipv4Addr::new(10, 0, 2, 9),
        ..server
    };
    let mut harness = Harness::new(4);
    let (_, discover) = harness.expect_transmit();
    harness.deliver(&server.offer(&discover));
    let (_, request) = harness.expect_transmit();
    assert_eq!(harness.deliver(&stranger.ack(&request)), None);
    assert_eq!(harness.deliver(&stranger.nak(&request)), None);
    assert_eq!(harness.client.state(), State::Requesting);
    assert_eq!(harness.client.stats().ignored, 2);
}

#[test]
fn nak_returns_to_init_and_a_new_discover_with_a_fresh_xid() {
    let server = FakeServer::new();
    let mut harness = Harness::new(5);
    let (_, discover) = harness.expect_transmit();
    harness.deliver(&server.offer(&discover));
    let (_, request) = harness.expect_transmit();
    harness.now += SECOND_NS;
    assert_eq!(
        harness.deliver(&server.nak(&request)),
        None,
        "nothing was configured"
    );
    assert_eq!(harness.client.state(), State::Init);
    assert_eq!(harness.client.lease(), None);
    assert_eq!(harness.client.stats().naks_received, 1);
    assert_eq!(harness.client.next_deadline(), Some(harness.now));

    let (_, again) = harness.expect_transmit();
    assert_eq!(parse(&again).message_type(), MessageType::Discover);
    assert_ne!(parse(&again).header().xid, parse(&discover).header().xid);
    assert_eq!(harness.client.state(), State::Selecting);
    assert_eq!(harness.deliver(&server.offer(&discover)), None);
    assert_eq!(
        harness.client.state(),
        State::Selecting,
        "the old xid is dead"
    );
}

/// Sends every message due while no server answers; (time, xid) of each.
fn unanswered(harness: &mut Harness, count: usize) -> std::vec::Vec<(u64, u32)> {
    let mut sent = std::vec::Vec::new();
    for _ in 0..count * 3 {
        if sent.len() == count {
            break;
        }
        harness.advance_to_deadline();
        if let Some((_, bytes)) = harness.transmit() {
            sent.push((harness.now, parse(&bytes).header().xid));
        }
    }
    assert_eq!(sent.len(), count, "every deadline must lead to a send");
    sent
}

/// Asserts the gaps between sends follow 4, 8, 16, 32, 64, 64 s ± 1 s.
fn assert_backoff(sent: &[(u64, u32)]) {
    let nominal = [4, 8, 16, 32, 64, 64, 64];
    for (pair, seconds) in sent.windows(2).zip(nominal) {
        let gap = pair[1].0 - pair[0].0;
        let low = (seconds - 1) * SECOND_NS;
        let high = (seconds + 1) * SECOND_NS;
        assert!((low..=high).contains(&gap), "gap {gap} for {seconds} s");
    }
}

#[test]
fn discover_retransmissions_follow_the_backoff_with_one_xid() {
    let mut harness = Harness::new(6);
    let sent = unanswered(&mut harness, 8);
    assert_eq!(sent[0].0, START_NS, "the first DISCOVER is due at once");
    assert_backoff(&sent);
    assert!(sent.iter().all(|(_, xid)| *xid == sent[0].1));
    let gaps: std::vec::Vec<u64> = sent.windows(2).map(|pair| pair[1].0 - pair[0].0).collect();
    assert!(
        gaps.iter().any(|gap| gap % SECOND_NS != 0),
        "jitter is applied"
    );
    assert_eq!(harness.client.stats().discovers_sent, 8);
    assert_eq!(harness.client.state(), State::Selecting);
}

#[test]
fn requesting_retransmits_then_gives_up_and_discovers_again() {
    let server = FakeServer::new();
    let mut harness = Harness::new(7);
    let (_, discover) = harness.expect_transmit();
    let first_xid = parse(&discover).header().xid;
    harness.deliver(&server.offer(&discover));
    let sent = unanswered(&mut harness, 5);
    assert_backoff(&sent[..4]);
    assert!(sent[..4].iter().all(|(_, xid)| *xid == first_xid));
    assert_eq!(harness.client.stats().requests_sent, 4);
    let gap = sent[4].0 - sent[3].0;
    assert!(
        (31 * SECOND_NS..=33 * SECOND_NS).contains(&gap),
        "gave up after 32 s"
    );
    assert_ne!(sent[4].1, first_xid, "a new exchange");
    assert_eq!(harness.client.state(), State::Selecting);
    assert_eq!(harness.client.stats().discovers_sent, 2);
}

#[test]
fn poll_transmit_sends_nothing_early_or_into_a_short_buffer() {
    let mut harness = Harness::new(8);
    let mut short = [0; 575];
    assert_eq!(harness.client.poll_transmit(START_NS, &mut short), None);
    assert_eq!(
        harness.client.state(),
        State::Init,
        "the DISCOVER stays due"
    );
    harness.expect_transmit();
    assert_eq!(
        harness.transmit(),
        None,
        "the retransmission is not due yet"
    );
}

#[test]
fn discover_matches_the_rfc_layout_byte_by_byte() {
    let mut harness = Harness::new(9);
    let (outgoing, bytes) = harness.expect_transmit();
    assert_eq!(outgoing.length, 300, "padded to the BOOTP minimum");
    let xid = parse(&bytes).header().xid.to_be_bytes();
    let mut expected = std::vec![0u8; 300];
    expected[..4].copy_from_slice(&[1, 1, 6, 0]); // op, htype, hlen, hops
    expected[4..8].copy_from_slice(&xid);
    expected[8..12].copy_from_slice(&[0, 0, 0x80, 0]); // secs, flags: broadcast
    // ciaddr, yiaddr, siaddr, giaddr (12..28) stay zero.
    expected[28..34].copy_from_slice(&MAC); // chaddr, then 10 zero bytes
    // sname (44..108) and file (108..236) stay zero.
    expected[236..240].copy_from_slice(&[99, 130, 83, 99]);
    let options: &[u8] = &[
        53, 1, 1, // DHCPDISCOVER
        61, 7, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // client id
        12, 9, b'a', b'n', b'y', b'k', b'e', b'r', b'n', b'e', b'l', // host
        55, 6, 1, 3, 6, 51, 58, 59,  // parameter request list
        255, // end; the rest is padding
    ];
    expected[240..240 + options.len()].copy_from_slice(options);
    assert_eq!(bytes, expected);
}

#[test]
fn a_real_dnsmasq_offer_is_taken_and_requested() {
    let mut harness = Harness::new(10);
    let (_, discover) = harness.expect_transmit();
    // The captured OFFER answered xid 0x3903f326 with the same MAC; give it
    // this exchange's xid, as dnsmasq would have.
    let mut offer = crate::message::tests::DNSMASQ_OFFER;
    offer[4..8].copy_from_slice(&parse(&discover).header().xid.to_be_bytes());
    assert_eq!(harness.deliver(&offer), None);
    assert_eq!(harness.client.state(), State::Requesting);
    let (_, request) = harness.expect_transmit();
    let view = parse(&request);
    let requested = view.address_option(option::REQUESTED_ADDRESS);
    assert_eq!(requested, Some(Ipv4Addr::new(192, 168, 77, 107)));
    let named = view.address_option(option::SERVER_IDENTIFIER);
    assert_eq!(named, Some(Ipv4Addr::new(192, 168, 77, 1)));
}

#[test]
fn a_long_hostname_is_cut_to_255_bytes_and_still_fits() {
    let long: &'static str = "h".repeat(300).leak();
    let config = crate::ClientConfig {
        hostname: Some(long),
        ..super::config(40)
    };
    let mut harness = Harness::new(40);
    harness.client = crate::DhcpClient::new(config, START_NS);
    let (_, discover) = harness.expect_transmit();
    let hostname = parse(&discover).option(option::HOSTNAME).unwrap();
    assert_eq!(hostname.len(), 255);
    harness.deliver(&FakeServer::new().offer(&discover));
    let (outgoing, _) = harness.expect_transmit();
    assert_eq!(outgoing.length, 530, "the largest message the client sends");
}
