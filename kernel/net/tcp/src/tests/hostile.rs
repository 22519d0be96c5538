//! Hostile input: random and mutated segments never panic and leave the
//! engine consistent (the network checks invariants after every call);
//! RFC 5961 blind resets and SYNs get challenge ACKs.

use std::vec::Vec;

use super::network::{Network, Rng, SECOND, address};
use crate::header::{Flags, HeaderFields};
use crate::sequence::Sequence;
use crate::{SocketHandle, State, TcpError};

fn mutate(rng: &mut Rng, template: &[u8]) -> Vec<u8> {
    let mut bytes = template.to_vec();
    match rng.below(4) {
        0 => bytes = (0..rng.below(80)).map(|_| rng.next() as u8).collect(),
        1 => {
            for _ in 0..1 + rng.below(6) {
                let position = rng.below(bytes.len().max(1) as u64) as usize;
                if let Some(byte) = bytes.get_mut(position) {
                    *byte = rng.next() as u8;
                }
            }
        }
        2 => bytes.truncate(rng.below(bytes.len() as u64 + 1) as usize),
        _ => {
            // Garbage options: a big data offset and random option bytes.
            if bytes.len() >= 20 {
                bytes[12] = ((5 + rng.below(11)) as u8) << 4;
                bytes.extend((0..rng.below(44)).map(|_| rng.next() as u8));
            }
        }
    }
    bytes
}

/// Sends `count` mutations of segments host 0 sent so far to host 1.
fn bombard(network: &mut Network, seed: u64, count: usize) {
    let templates: Vec<Vec<u8>> = network
        .sent_by(0, 0)
        .map(|captured| captured.bytes.clone())
        .collect();
    let mut rng = Rng::new(seed);
    for round in 0..count {
        let template = &templates[round % templates.len()];
        let bytes = mutate(&mut rng, template);
        let fix = rng.chance(900);
        network.inject(1, address(0), bytes, fix);
        if round % 64 == 0 {
            network.step();
        }
    }
}

fn still_works(network: &mut Network, client: SocketHandle, server: SocketHandle) -> bool {
    let clean = network.status(0, client).state == State::Established
        && network.status(1, server).state == State::Established;
    if !clean {
        return false;
    }
    network.send(0, client, b"still here").unwrap();
    network.settle(SECOND);
    network.read(1, server).unwrap().ends_with(b"still here")
}

#[test]
fn random_segments_to_a_listener_never_panic() {
    let mut network = Network::pair(61);
    network.listen(1, 80, 8);
    let mut rng = Rng::new(61);
    for _ in 0..3000 {
        let length = rng.below(100) as usize;
        let mut bytes: Vec<u8> = (0..length).map(|_| rng.next() as u8).collect();
        if bytes.len() >= 4 && rng.chance(700) {
            bytes[2..4].copy_from_slice(&80u16.to_be_bytes());
        }
        network.inject(1, address(0), bytes, rng.chance(900));
    }
    network.settle(200 * SECOND);
    assert_eq!(network.tcp(1).connection_count(), 0);
    let client = network.connect(0, 1, 80);
    network.settle(SECOND);
    assert_eq!(network.status(0, client).state, State::Established);
}

#[test]
fn mutated_segments_to_a_connection_never_panic() {
    let mut network = Network::pair(62);
    let (client, _, server) = network.establish(80);
    network.send(0, client, &[1u8; 20_000]).unwrap();
    network.settle(SECOND);
    network.read(1, server).unwrap();
    bombard(&mut network, 62, 4000);
    let before = network.capture.len();
    network.settle(10 * SECOND);
    assert!(
        network.capture.len() - before < 2000,
        "no ACK war between the ends"
    );
    let stats = network.tcp(1).stats();
    assert!(stats.bad_checksums > 0 && stats.bad_segments > 0 && stats.unacceptable_segments > 0);
    // Mutations with valid checksums and in-window numbers are what an
    // on-path attacker can send: they may end or desynchronise this
    // connection, but the state stays valid and the engine keeps working.
    let state = network.status(1, server).state;
    assert!(
        matches!(state, State::Established | State::CloseWait | State::Closed),
        "{state:?}"
    );
    network.with(1, |tcp, now, tx| tcp.abort(now, server, tx));
    network.with(0, |tcp, now, tx| tcp.abort(now, client, tx));
    network.settle(300 * SECOND);
    assert_eq!(network.tcp(1).connection_count(), 0);
    let (client, _, server) = network.establish(81);
    assert!(still_works(&mut network, client, server));
}

/// A segment from host 0's connection with chosen fields.
fn forged(network: &Network, client: SocketHandle, sequence: Sequence, flags: Flags) -> Vec<u8> {
    let tcp = network.tcp(0);
    let local = tcp.local_address(client).unwrap();
    let remote = tcp.peer_address(client).unwrap();
    let mut bytes = std::vec![0u8; 20];
    HeaderFields {
        source_port: local.port(),
        destination_port: remote.port(),
        sequence,
        acknowledgment: Sequence(0),
        flags,
        window: 1000,
    }
    .write(&mut bytes, 0);
    bytes
}

/// The server's RCV.NXT: the ACK field of its last segment.
fn server_expects(network: &Network) -> Sequence {
    let last = network
        .sent_by(1, 0)
        .last()
        .expect("the server sent something");
    last.segment().acknowledgment
}

#[test]
fn blind_in_window_reset_gets_a_challenge_ack() {
    let mut network = Network::pair(63);
    let (client, _, server) = network.establish(80);
    let next = server_expects(&network);
    let start = network.capture.len();
    let blind = forged(&network, client, next.add(100), Flags::RST);
    network.inject(1, address(0), blind, true);
    let replies: Vec<_> = network.sent_by(1, start).collect();
    assert_eq!(replies.len(), 1);
    assert!(replies[0].has(Flags::ACK) && !replies[0].has(Flags::RST));
    assert_eq!(replies[0].segment().acknowledgment, next);
    assert_eq!(network.tcp(1).stats().challenge_acks, 1);
    assert_eq!(network.status(1, server).state, State::Established);
    // A SYN in the window is challenged too.
    let syn = forged(&network, client, next.add(5), Flags::SYN);
    network.inject(1, address(0), syn, true);
    assert_eq!(network.tcp(1).stats().challenge_acks, 2);
    assert!(still_works(&mut network, client, server));
    // The exact RST does reset.
    let next = server_expects(&network);
    let exact = forged(&network, client, next, Flags::RST);
    network.inject(1, address(0), exact, true);
    assert_eq!(
        network.status(1, server).error,
        Some(TcpError::ConnectionReset)
    );
}

#[test]
fn challenge_acks_are_rate_limited() {
    let mut network = Network::pair(64);
    let (client, _, server) = network.establish(80);
    let next = server_expects(&network);
    for offset in 0..300 {
        let blind = forged(&network, client, next.add(10 + offset), Flags::RST);
        network.inject(1, address(0), blind, true);
    }
    let stats = network.tcp(1).stats();
    assert_eq!(stats.challenge_acks, 100);
    assert_eq!(stats.challenge_acks_suppressed, 200);
    assert_eq!(network.status(1, server).state, State::Established);
}
