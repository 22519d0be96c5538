//! Hostile input: truncation, lying lengths, no cookie, noise, mutations.
//!
//! Every payload goes to a clone of one client in REQUESTING that awaits a
//! known ACK. Whatever the bytes, the client must not panic and must count
//! the payload exactly once: as malformed, ignored, or (if a mutation left
//! it a valid answer) as an ACK or NAK.

use super::{FakeServer, Harness};
use crate::message::{MessageView, OPTIONS_OFFSET};
use crate::random::Random;
use crate::{DhcpClient, DhcpStats, Error, Event, State};
use std::vec::Vec;

/// A client awaiting an ACK, and that ACK.
fn awaiting_ack() -> (DhcpClient, Vec<u8>) {
    let server = FakeServer::new();
    let mut harness = Harness::new(31);
    let (_, discover) = harness.expect_transmit();
    harness.deliver(&server.offer(&discover));
    let (_, request) = harness.expect_transmit();
    assert_eq!(harness.client.state(), State::Requesting);
    (harness.client, server.ack(&request))
}

/// Messages the client has classified, one way or another.
fn classified(stats: &DhcpStats) -> u64 {
    stats.malformed
        + stats.ignored
        + stats.offers_received
        + stats.acks_received
        + stats.naks_received
}

/// Feeds `payload` to a copy of `client`; checks it was counted once and
/// any lease it produced is consistent. Returns the copy's stats.
fn feed(client: &DhcpClient, payload: &[u8]) -> DhcpStats {
    let mut copy = client.clone();
    let before = classified(copy.stats());
    let event = copy.receive(2_000_000_000_000, payload);
    let stats = *copy.stats();
    assert_eq!(classified(&stats), before + 1, "payload {payload:02x?}");
    if let Some(Event::Bound(lease) | Event::Renewed(lease)) = event {
        assert!(lease.renew_at_ns <= lease.rebind_at_ns);
        assert!(lease.rebind_at_ns <= lease.expires_at_ns);
        assert!(lease.prefix_length <= 32);
    }
    stats
}

#[test]
fn every_truncation_of_an_ack_is_counted_and_short_ones_are_malformed() {
    let (client, ack) = awaiting_ack();
    for length in 0..ack.len() {
        let stats = feed(&client, &ack[..length]);
        if length < OPTIONS_OFFSET {
            assert_eq!(stats.malformed, 1, "length {length}");
        }
    }
    assert_eq!(
        feed(&client, &ack).acks_received,
        1,
        "the whole ACK is good"
    );
}

#[test]
fn lying_option_lengths_are_malformed() {
    let (client, ack) = awaiting_ack();
    let header = &ack[..OPTIONS_OFFSET];
    let lies: [&[u8]; 4] = [
        &[53, 1, 5, 51, 200, 0, 0],
        &[53, 1, 5, 3],
        &[53, 255, 5],
        &[0, 0, 53, 1, 5, 6, 9, 1, 1, 1, 1],
    ];
    for lie in lies {
        let payload = [header, lie].concat();
        assert_eq!(
            MessageView::parse(&payload).err(),
            Some(Error::BadOptionLength)
        );
        assert_eq!(feed(&client, &payload).malformed, 1);
    }
    let mut overlong = ack.clone();
    let lease_time = overlong
        .iter()
        .skip(OPTIONS_OFFSET)
        .position(|byte| *byte == 51);
    overlong[OPTIONS_OFFSET + lease_time.unwrap() + 1] = 250;
    assert_eq!(feed(&client, &overlong).malformed, 1);
}

#[test]
fn a_missing_cookie_or_message_type_is_malformed() {
    let (client, ack) = awaiting_ack();
    let mut no_cookie = ack.clone();
    no_cookie[236..240].copy_from_slice(&[0; 4]);
    assert_eq!(MessageView::parse(&no_cookie).err(), Some(Error::BadCookie));
    assert_eq!(feed(&client, &no_cookie).malformed, 1);
    let bootp_only = [&ack[..OPTIONS_OFFSET], &[1, 4, 255, 255, 255, 0, 255]].concat();
    assert_eq!(
        MessageView::parse(&bootp_only).err(),
        Some(Error::BadMessageType)
    );
    assert_eq!(feed(&client, &bootp_only).malformed, 1);
    let unknown_type = [&ack[..OPTIONS_OFFSET], &[53, 1, 99, 255]].concat();
    assert_eq!(feed(&client, &unknown_type).malformed, 1);
}

#[test]
fn thousands_of_random_payloads_never_bind() {
    let (client, _) = awaiting_ack();
    let mut random = Random::new(0x5eed);
    for _ in 0..5_000 {
        let length = (random.next_u64() % 700) as usize;
        let payload: Vec<u8> = (0..length).map(|_| random.next_u64() as u8).collect();
        let stats = feed(&client, &payload);
        assert_eq!(stats.acks_received + stats.naks_received, 0);
    }
}

#[test]
fn random_options_behind_a_valid_header_are_survived() {
    let (client, ack) = awaiting_ack();
    let mut random = Random::new(0xfeed);
    for _ in 0..5_000 {
        let length = (random.next_u64() % 64) as usize;
        let mut payload = ack[..OPTIONS_OFFSET].to_vec();
        payload.extend((0..length).map(|_| random.next_u64() as u8));
        feed(&client, &payload);
    }
}

#[test]
fn mutations_of_a_valid_ack_are_survived_and_counted() {
    let (client, ack) = awaiting_ack();
    let mut random = Random::new(0xacc);
    let mut outcomes = DhcpStats::default();
    for _ in 0..5_000 {
        let mut mutated = ack.clone();
        for _ in 0..=(random.next_u64() % 4) {
            let position = (random.next_u64() as usize) % mutated.len();
            mutated[position] = random.next_u64() as u8;
        }
        let stats = feed(&client, &mutated);
        outcomes.malformed += stats.malformed;
        outcomes.ignored += stats.ignored;
        outcomes.acks_received += stats.acks_received;
    }
    // Each class must actually occur, or the mutations test nothing.
    assert!(outcomes.malformed > 0 && outcomes.ignored > 0 && outcomes.acks_received > 0);
}

#[test]
fn huge_times_near_the_end_of_the_clock_saturate() {
    let server = FakeServer {
        lease_seconds: 0xffff_fffe,
        renewal_seconds: Some(0xffff_fff0),
        rebinding_seconds: Some(u32::MAX),
        ..FakeServer::new()
    };
    let mut harness = Harness::new(32);
    harness.now = u64::MAX - 10;
    harness.client = DhcpClient::new(super::config(32), harness.now);
    let (lease, _) = harness.acquire(&server);
    assert_eq!(lease.expires_at_ns, u64::MAX);
    assert!(lease.renew_at_ns <= lease.rebind_at_ns);
}
