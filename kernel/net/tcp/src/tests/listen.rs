//! Listeners: the accept and SYN queue bounds, and children that never
//! complete their handshake. These are the queues without SYN cookies
//! (`cookies.rs` has them with); cookies change what a full SYN queue
//! does, not the bounds.

use std::vec::Vec;

use core::net::Ipv4Addr;

use super::network::{Network, SECOND, config};
use crate::header::{Flags, HeaderFields};
use crate::sequence::Sequence;
use crate::{State, TcpConfig};

#[test]
fn backlog_overflow_drops_syns_and_clients_get_in_later() {
    let without_cookies = TcpConfig {
        syn_cookies: false,
        ..config()
    };
    let mut network = Network::new(51, &[config(), without_cookies]);
    let listener = network.listen(1, 80, 2);
    let clients: Vec<_> = (0..5).map(|_| network.connect(0, 1, 80)).collect();
    network.settle(SECOND / 2);
    let established = |network: &Network| {
        clients
            .iter()
            .filter(|client| network.status(0, **client).state == State::Established)
            .count()
    };
    assert_eq!(established(&network), 2);
    assert!(network.tcp(1).stats().syn_drops >= 3);
    assert!(network.status(1, listener).acceptable);
    let mut accepted = Vec::new();
    let everyone = network.run_until(30 * SECOND, |network| {
        while let Ok(child) = network.with(1, |tcp, _, _| tcp.accept(listener)) {
            accepted.push(child);
        }
        accepted.len() == 5 && established(network) == 5
    });
    assert!(everyone, "SYN retransmissions bring the rest in");
}

fn raw_syn(port: u16, sequence: u32) -> Vec<u8> {
    let mut bytes = std::vec![0u8; 20];
    HeaderFields {
        source_port: port,
        destination_port: 80,
        sequence: Sequence(sequence),
        acknowledgment: Sequence(0),
        flags: Flags::SYN,
        window: 1000,
    }
    .write(&mut bytes, 0);
    bytes
}

#[test]
fn half_open_children_are_bounded_and_time_out() {
    let limited = TcpConfig {
        syn_backlog: 4,
        syn_cookies: false,
        ..config()
    };
    // The listen backlog (16) is larger: the SYN backlog is the bound.
    let mut network = Network::new(52, &[config(), limited]);
    network.listen(1, 80, 16);
    // SYNs from a host that never answers the SYN-ACKs.
    let ghost = core::net::IpAddr::V4(Ipv4Addr::new(10, 0, 0, 77));
    for port in 0..10 {
        network.inject(1, ghost, raw_syn(1000 + port, port as u32 * 1000), true);
    }
    assert_eq!(network.tcp(1).connection_count(), 4);
    assert_eq!(network.tcp(1).stats().syn_drops, 6);
    network.settle(300 * SECOND);
    assert_eq!(
        network.tcp(1).connection_count(),
        0,
        "SYN-RECEIVED children expired"
    );
    // 6 retransmissions of each SYN-ACK, after the first.
    assert_eq!(network.tcp(1).stats().retransmitted_segments, 4 * 6);
    let client = network.connect(0, 1, 80);
    network.settle(SECOND);
    assert_eq!(network.status(0, client).state, State::Established);
}
