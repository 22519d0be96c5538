//! Timer-driven behaviour: zero window and persist, keepalive, giving up
//! after retransmissions, delayed ACKs, Nagle.

use std::vec::Vec;

use super::network::{MILLISECOND, Network, SECOND, config, endpoint};
use crate::{SocketOption, State, TcpConfig, TcpError};

#[test]
fn a_zero_window_is_probed_and_reopens() {
    let small = TcpConfig {
        receive_buffer: 8192,
        ..config()
    };
    let mut network = Network::new(41, &[config(), small]);
    let (client, _, server) = network.establish(80);
    let data: Vec<u8> = (0..40_000u32).map(|value| value as u8).collect();
    let mut sent = network.send(0, client, &data).unwrap();
    // The receiver reads nothing for a while: its window closes.
    network.run_until(20 * SECOND, |network| {
        network.tcp(0).stats().window_probes >= 3
    });
    assert!(network.tcp(0).stats().window_probes >= 3);
    assert_eq!(network.status(1, server).readable, 8192);
    assert_eq!(network.status(0, client).state, State::Established);
    let mut received = Vec::new();
    let done = network.run_until(60 * SECOND, |network| {
        if sent < data.len() {
            sent += network.send(0, client, &data[sent..]).unwrap_or(0);
        }
        received.extend(network.read(1, server).unwrap());
        received.len() == data.len()
    });
    assert!(done);
    assert_eq!(received, data);
}

#[test]
fn keepalive_detects_a_dead_peer() {
    let quick = TcpConfig {
        keepalive_idle_ns: 10 * SECOND,
        keepalive_interval_ns: SECOND,
        keepalive_count: 3,
        ..config()
    };
    let mut network = Network::new(42, &[quick, config()]);
    let (client, _, _) = network.establish(80);
    network
        .with(0, |tcp, _, _| {
            tcp.set_option(client, SocketOption::KeepAlive(true))
        })
        .unwrap();
    // A live peer answers the probes.
    network.run_until(30 * SECOND, |_| false);
    assert!(network.tcp(0).stats().keepalive_probes >= 2);
    assert_eq!(network.status(0, client).state, State::Established);
    network.up = false;
    let dead = network.run_until(60 * SECOND, |network| {
        network.status(0, client).state == State::Closed
    });
    assert!(dead);
    assert_eq!(network.status(0, client).error, Some(TcpError::TimedOut));
}

#[test]
fn retransmissions_give_up_with_timed_out() {
    let impatient = TcpConfig {
        maximum_retransmissions: 5,
        ..config()
    };
    let mut network = Network::new(43, &[impatient, config()]);
    let (client, _, _) = network.establish(80);
    network.up = false;
    network.send(0, client, b"into the void").unwrap();
    let gave_up = network.run_until(600 * SECOND, |network| {
        network.status(0, client).state == State::Closed
    });
    assert!(gave_up);
    assert_eq!(network.status(0, client).error, Some(TcpError::TimedOut));
    let stats = network.tcp(0).stats();
    assert_eq!(stats.timeouts, 6);
    // One tail loss probe before the first timeout, then one segment
    // per timeout until the limit.
    assert_eq!(stats.tail_loss_probes, 1);
    assert_eq!(stats.retransmitted_segments, 5 + 1);
    assert_eq!(network.tcp(0).next_deadline(), None);
}

#[test]
fn syn_retransmissions_give_up_too() {
    let mut network = Network::pair(44);
    let client = network.with(0, |tcp, now, tx| {
        let handle = tcp.open().unwrap();
        tcp.connect(now, handle, endpoint(40, 80), tx).unwrap();
        handle
    });
    let start = network.now;
    network.run_until(600 * SECOND, |network| {
        network.status(0, client).state == State::Closed
    });
    assert_eq!(network.status(0, client).error, Some(TcpError::TimedOut));
    // 1 + 2 + 4 + 8 + 16 + 32 seconds of backoff, then 60 s (the RTO cap).
    assert_eq!(network.now - start, 123 * SECOND);
    assert_eq!(network.sent_by(0, 0).count(), 7);
}

#[test]
fn acks_are_delayed_for_one_segment_and_immediate_for_two() {
    let mut network = Network::pair(45);
    let (client, _, _) = network.establish(80);
    network.settle(SECOND);
    let start = network.capture.len();
    let sent_at = network.now;
    network.send(0, client, b"one small segment").unwrap();
    network.settle(SECOND);
    let ack = network.sent_by(1, start).next().expect("an ACK");
    assert_eq!(ack.at - sent_at, network.delay + 40 * MILLISECOND);
    assert_eq!(network.tcp(1).stats().delayed_acks, 1);
    let start = network.capture.len();
    let sent_at = network.now;
    network.send(0, client, &[0u8; 2 * 1448]).unwrap();
    network.settle(SECOND);
    let ack = network.sent_by(1, start).next().expect("an ACK");
    assert_eq!(
        ack.at - sent_at,
        network.delay,
        "every second full segment is acknowledged at once"
    );
}

fn segments_for_small_writes(no_delay: bool) -> usize {
    let mut network = Network::pair(46);
    let (client, _, server) = network.establish(80);
    network
        .with(0, |tcp, _, _| {
            tcp.set_option(client, SocketOption::NoDelay(no_delay))
        })
        .unwrap();
    let start = network.capture.len();
    for _ in 0..50 {
        network.send(0, client, b"tiny").unwrap();
    }
    network.settle(SECOND);
    assert_eq!(network.read(1, server).unwrap().len(), 200);
    network
        .sent_by(0, start)
        .filter(|segment| segment.payload_length() > 0)
        .count()
}

#[test]
fn nagle_coalesces_small_writes_and_no_delay_does_not() {
    assert_eq!(
        segments_for_small_writes(false),
        2,
        "one segment, then the rest after its ACK"
    );
    assert_eq!(segments_for_small_writes(true), 50);
}

/// Reads `count` bytes at `server` of host 1 and returns how many segments
/// host 1 sent because of it.
fn segments_for_read(network: &mut Network, server: crate::SocketHandle, count: usize) -> u64 {
    let before = network.tcp(1).stats().segments_sent;
    let mut buffer = std::vec![0u8; count];
    let read = network.with(1, |tcp, now, tx| tcp.recv(now, server, &mut buffer, tx));
    assert_eq!(read, Ok(count));
    network.tcp(1).stats().segments_sent - before
}

#[test]
fn reads_announce_the_window_only_when_the_peer_could_stall() {
    let large = TcpConfig {
        receive_buffer: 64 * 1024,
        ..config()
    };
    let mut network = Network::new(44, &[config(), large]);
    let (client, _, server) = network.establish(80);
    // 16 KiB held: the peer may still send 48 KiB, more than half.
    network.send(0, client, &[7u8; 16 * 1024]).unwrap();
    network.run_until(SECOND, |network| {
        network.status(1, server).readable == 16 * 1024
    });
    network.settle(SECOND);
    for _ in 0..4 {
        assert_eq!(segments_for_read(&mut network, server, 4096), 0);
    }
    // 48 KiB held: 16 KiB left to fill. A read that frees 8 KiB (24 KiB
    // open) does not double it; one that frees 24 KiB more does.
    network.send(0, client, &[7u8; 48 * 1024]).unwrap();
    network.run_until(SECOND, |network| {
        network.status(1, server).readable == 48 * 1024
    });
    network.settle(SECOND);
    assert_eq!(segments_for_read(&mut network, server, 8 * 1024), 0);
    assert_eq!(segments_for_read(&mut network, server, 24 * 1024), 1);
}
