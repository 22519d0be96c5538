//! A held lease: renewing at T1, rebinding at T2, expiry, NAK, release.

use super::{FakeServer, Harness, parse};
use crate::message::{MessageType, option};
use crate::random::SECOND_NS;
use crate::{Event, State};
use core::net::Ipv4Addr;

#[test]
fn renews_at_t1_by_unicast_and_an_ack_extends_the_lease() {
    let server = FakeServer::new();
    let mut harness = Harness::new(11);
    let (lease, _) = harness.acquire(&server);
    assert_eq!(harness.advance_to(lease.renew_at_ns - 1), None);
    assert_eq!(harness.client.state(), State::Bound);
    assert_eq!(harness.transmit(), None);

    assert_eq!(harness.advance_to(lease.renew_at_ns), None);
    assert_eq!(harness.client.state(), State::Renewing);
    let (outgoing, request) = harness.expect_transmit();
    assert_eq!(outgoing.source, lease.address);
    assert_eq!(outgoing.destination, server.identifier);
    let view = parse(&request);
    assert_eq!(view.message_type(), MessageType::Request);
    assert_eq!(view.header().client_address, lease.address);
    assert_eq!(view.option(option::REQUESTED_ADDRESS), None);
    assert_eq!(view.option(option::SERVER_IDENTIFIER), None);

    let renewed_at = harness.now;
    harness.now += SECOND_NS;
    let Some(Event::Renewed(renewed)) = harness.deliver(&server.ack(&request)) else {
        panic!("same address: Renewed");
    };
    assert_eq!(renewed.address, lease.address);
    assert_eq!(renewed.renew_at_ns, renewed_at + 1_800 * SECOND_NS);
    assert_eq!(renewed.expires_at_ns, renewed_at + 3_600 * SECOND_NS);
    assert_eq!(harness.client.state(), State::Bound);
    assert_eq!(harness.client.next_deadline(), Some(renewed.renew_at_ns));
}

#[test]
fn each_renewal_and_rebinding_uses_a_fresh_xid() {
    let server = FakeServer::new();
    let mut harness = Harness::new(12);
    let (_, discover) = harness.expect_transmit();
    let dora_xid = parse(&discover).header().xid;
    harness.deliver(&server.offer(&discover));
    let (_, request) = harness.expect_transmit();
    let Some(Event::Bound(lease)) = harness.deliver(&server.ack(&request)) else {
        panic!("the ACK must bind");
    };
    harness.advance_to(lease.renew_at_ns);
    let renewing_xid = parse(&harness.expect_transmit().1).header().xid;
    harness.advance_to(lease.rebind_at_ns);
    let rebinding_xid = parse(&harness.expect_transmit().1).header().xid;
    assert_ne!(renewing_xid, dora_xid);
    assert_ne!(rebinding_xid, renewing_xid);
}

#[test]
fn renewing_retries_at_half_the_time_to_t2_down_to_a_minute() {
    let server = FakeServer::new();
    let mut harness = Harness::new(13);
    let (lease, _) = harness.acquire(&server);
    harness.advance_to(lease.renew_at_ns);
    let mut sent = std::vec::Vec::new();
    while harness.client.state() == State::Renewing {
        assert!(sent.len() < 20, "renewing must reach T2");
        if let Some((outgoing, _)) = harness.transmit() {
            assert_eq!(outgoing.destination, server.identifier);
            sent.push(harness.now);
        }
        harness.advance_to_deadline();
    }
    // T1 = 1800 s, T2 = 3150 s: retries after 675, 337.5, 168.75, 84.375 s,
    // then the 60 s minimum; the retry after that would fall past T2.
    let t1 = lease.renew_at_ns;
    let expected = [0, 675_000, 1_012_500, 1_181_250, 1_265_625, 1_325_625];
    for (time, offset_ms) in sent.iter().zip(expected) {
        assert_eq!(*time, t1 + offset_ms * 1_000_000);
    }
    assert_eq!(sent.len(), 6);
    assert_eq!(harness.client.state(), State::Rebinding);
    assert_eq!(harness.now, lease.rebind_at_ns);
}

#[test]
fn rebinds_at_t2_by_broadcast_and_any_server_may_answer() {
    let server = FakeServer::new();
    let mut harness = Harness::new(14);
    let (lease, _) = harness.acquire(&server);
    harness.advance_to(lease.renew_at_ns);
    harness.expect_transmit();
    assert_eq!(harness.advance_to(lease.rebind_at_ns), None);
    assert_eq!(harness.client.state(), State::Rebinding);
    let (outgoing, request) = harness.expect_transmit();
    assert_eq!(outgoing.source, lease.address);
    assert_eq!(outgoing.destination, Ipv4Addr::BROADCAST);
    assert_eq!(parse(&request).header().client_address, lease.address);

    let other = FakeServer {
        identifier: Ipv4Addr::new(10, 0, 2, 4),
        ..server
    };
    let Some(Event::Renewed(renewed)) = harness.deliver(&other.ack(&request)) else {
        panic!("another server may extend the same address");
    };
    assert_eq!(renewed.server, other.identifier);
    assert_eq!(harness.client.state(), State::Bound);
}

#[test]
fn a_rebinding_ack_with_another_address_is_a_new_binding() {
    let server = FakeServer::new();
    let mut harness = Harness::new(15);
    let (lease, _) = harness.acquire(&server);
    harness.advance_to(lease.rebind_at_ns);
    assert_eq!(
        harness.client.state(),
        State::Rebinding,
        "a late timer skips T1"
    );
    let (_, request) = harness.expect_transmit();
    let moved = FakeServer {
        address: Ipv4Addr::new(10, 0, 2, 77),
        ..server
    };
    let event = harness.deliver(&moved.ack(&request));
    assert!(matches!(event, Some(Event::Bound(new)) if new.address == moved.address));
}

#[test]
fn expiry_without_an_answer_loses_the_lease_and_discovers() {
    let server = FakeServer::new();
    let mut harness = Harness::new(16);
    let (lease, _) = harness.acquire(&server);
    let mut lost = None;
    for _ in 0..100 {
        if lost.is_some() {
            break;
        }
        harness.transmit();
        lost = harness.advance_to_deadline();
    }
    assert_eq!(lost, Some(Event::Lost));
    assert_eq!(harness.now, lease.expires_at_ns);
    assert_eq!(harness.client.state(), State::Init);
    assert_eq!(harness.client.lease(), None);
    let (outgoing, discover) = harness.expect_transmit();
    assert_eq!(outgoing.source, Ipv4Addr::UNSPECIFIED);
    assert_eq!(parse(&discover).message_type(), MessageType::Discover);
}

#[test]
fn a_timer_that_fires_after_expiry_still_reports_lost() {
    let server = FakeServer::new();
    let mut harness = Harness::new(17);
    let (lease, _) = harness.acquire(&server);
    assert_eq!(
        harness.advance_to(lease.expires_at_ns + SECOND_NS),
        Some(Event::Lost)
    );
    assert_eq!(harness.client.state(), State::Init);
}

#[test]
fn nothing_is_sent_for_a_lease_whose_deadline_awaits_on_timer() {
    let server = FakeServer::new();
    let mut harness = Harness::new(18);
    let (lease, _) = harness.acquire(&server);
    harness.advance_to(lease.renew_at_ns);
    harness.expect_transmit();
    harness.now = lease.expires_at_ns;
    assert_eq!(
        harness.transmit(),
        None,
        "on_timer must drop the lease first"
    );
    assert_eq!(harness.client.on_timer(harness.now), Some(Event::Lost));
}

#[test]
fn a_nak_while_renewing_loses_the_lease() {
    let server = FakeServer::new();
    let mut harness = Harness::new(19);
    let (lease, _) = harness.acquire(&server);
    harness.advance_to(lease.renew_at_ns);
    let (_, request) = harness.expect_transmit();
    assert_eq!(harness.deliver(&server.nak(&request)), Some(Event::Lost));
    assert_eq!(harness.client.state(), State::Init);
    assert_eq!(harness.client.next_deadline(), Some(harness.now));
}

#[test]
fn an_infinite_lease_never_renews() {
    let server = FakeServer {
        lease_seconds: 0xffff_ffff,
        renewal_seconds: Some(60),
        ..FakeServer::new()
    };
    let mut harness = Harness::new(20);
    let (lease, _) = harness.acquire(&server);
    assert!(lease.is_infinite());
    assert_eq!(lease.renew_at_ns, u64::MAX);
    assert_eq!(lease.expires_at_ns, u64::MAX);
    assert_eq!(harness.client.next_deadline(), None);
    assert_eq!(harness.advance_to(u64::MAX), None);
    assert_eq!(harness.transmit(), None);
    assert_eq!(harness.client.state(), State::Bound);
}

#[test]
fn release_unicasts_to_the_server_and_goes_quiet() {
    let server = FakeServer::new();
    let mut harness = Harness::new(21);
    let (lease, _) = harness.acquire(&server);
    let mut buffer = [0; 576];
    let outgoing = harness
        .client
        .release(&mut buffer)
        .expect("a lease to release");
    assert_eq!(
        (outgoing.source, outgoing.destination),
        (lease.address, server.identifier)
    );
    let view = parse(&buffer[..outgoing.length]);
    assert_eq!(view.message_type(), MessageType::Release);
    assert_eq!(view.header().client_address, lease.address);
    assert_eq!(
        view.address_option(option::SERVER_IDENTIFIER),
        Some(server.identifier)
    );
    assert_eq!(harness.client.state(), State::Init);
    assert_eq!(harness.client.next_deadline(), None);
    assert_eq!(
        harness.client.release(&mut buffer),
        None,
        "nothing left to release"
    );
    assert_eq!(harness.client.stats().releases_sent, 1);
}
