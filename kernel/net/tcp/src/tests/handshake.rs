//! Opening connections: the handshake, options, simultaneous open,
//! refused and unroutable connects, ports and events.

use std::vec::Vec;

use core::net::{Ipv4Addr, SocketAddr};

use super::network::{Network, SECOND, address, endpoint};
use crate::header::Flags;
use crate::{State, TcpError};

#[test]
fn handshake_then_data_both_ways() {
    let mut network = Network::pair(1);
    let (client, _listener, server) = network.establish(80);
    assert_eq!(network.status(0, client).state, State::Established);
    assert_eq!(network.status(1, server).state, State::Established);
    let server_tcp = network.tcp(1);
    assert_eq!(
        server_tcp.peer_address(server),
        Ok(network.tcp(0).local_address(client).unwrap())
    );
    assert_eq!(network.send(0, client, b"hello server"), Ok(12));
    assert_eq!(network.send(1, server, b"hello client"), Ok(12));
    network.settle(SECOND);
    assert_eq!(network.read(1, server).unwrap(), b"hello server");
    assert_eq!(network.read(0, client).unwrap(), b"hello client");
    assert_eq!(network.tcp(0).stats().active_opens, 1);
    assert_eq!(network.tcp(1).stats().passive_opens, 1);
}

#[test]
fn syn_carries_and_negotiates_every_option() {
    let mut network = Network::pair(2);
    network.establish(80);
    let syn = network.sent_by(0, 0).next().expect("the SYN");
    let options = syn.segment().options;
    assert!(syn.has(Flags::SYN) && !syn.has(Flags::ACK));
    assert_eq!(options.maximum_segment_size, Some(1460));
    assert_eq!(options.window_scale, Some(3), "256 KiB needs a shift of 3");
    assert!(options.sack_permitted);
    assert!(options.timestamp.is_some());
    let syn_ack = network.sent_by(1, 0).next().expect("the SYN-ACK");
    assert!(syn_ack.has(Flags::SYN) && syn_ack.has(Flags::ACK));
    assert_eq!(
        syn_ack.segment().acknowledgment,
        syn.segment().sequence.add(1)
    );
    assert!(syn_ack.segment().options.sack_permitted);
}

#[test]
fn options_the_peer_does_not_offer_are_not_used() {
    let plain = crate::TcpConfig {
        timestamps: false,
        selective_acknowledgments: false,
        window_scaling: false,
        ..super::network::config()
    };
    let mut network = Network::new(3, &[super::network::config(), plain]);
    let (client, _, server) = network.establish(80);
    network.send(0, client, &[7u8; 5000]).unwrap();
    network.settle(SECOND);
    assert_eq!(network.read(1, server).unwrap().len(), 5000);
    let data = network
        .sent_by(0, 0)
        .find(|segment| segment.payload_length() > 0)
        .unwrap();
    assert_eq!(data.segment().options.timestamp, None);
    // No timestamps: a full segment is the whole MSS.
    assert_eq!(data.payload_length(), 1460);
}

#[test]
fn simultaneous_open_connects_both_sides() {
    let mut network = Network::pair(4);
    let mut handles = Vec::new();
    for (host, peer) in [(0, 1), (1, 0)] {
        let handle = network.with(host, |tcp, _, _| {
            let handle = tcp.open().unwrap();
            tcp.bind(handle, endpoint(host, 5000)).unwrap();
            handle
        });
        handles.push((host, peer, handle));
    }
    for &(host, peer, handle) in &handles {
        network
            .with(host, |tcp, now, tx| {
                tcp.connect(now, handle, endpoint(peer, 5000), tx)
            })
            .unwrap();
    }
    let connected = network.run_until(10 * SECOND, |network| {
        handles
            .iter()
            .all(|&(host, _, handle)| network.status(host, handle).state == State::Established)
    });
    assert!(connected);
    let (_, _, first) = handles[0];
    let (_, _, second) = handles[1];
    network.send(0, first, b"ping").unwrap();
    network.settle(SECOND);
    assert_eq!(network.read(1, second).unwrap(), b"ping");
}

#[test]
fn a_closed_port_answers_with_reset_and_connect_is_refused() {
    let mut network = Network::pair(5);
    let client = network.connect(0, 1, 81);
    let refused = network.run_until(5 * SECOND, |network| {
        network.status(0, client).state == State::Closed
    });
    assert!(refused);
    assert_eq!(
        network.with(0, |tcp, _, _| tcp.take_error(client)),
        Some(TcpError::ConnectionRefused)
    );
    assert_eq!(network.tcp(1).stats().resets_sent, 1);
    assert_eq!(network.tcp(1).stats().no_socket, 1);
    let reset = network.sent_by(1, 0).next().unwrap();
    assert!(reset.has(Flags::RST) && reset.has(Flags::ACK));
    // A reset is never answered with a reset.
    let before = network.tcp(0).stats().resets_sent;
    network.inject(0, address(1), reset.bytes.clone(), false);
    assert_eq!(network.tcp(0).stats().resets_sent, before);
}

#[test]
fn no_route_and_bad_arguments_fail_connect() {
    let mut network = Network::pair(6);
    let far = SocketAddr::from((Ipv4Addr::new(192, 168, 1, 1), 80));
    let result = network.with(0, |tcp, now, tx| {
        let handle = tcp.open().unwrap();
        let zero = tcp.connect(now, handle, SocketAddr::new(address(1), 0), tx);
        (zero, tcp.connect(now, handle, far, tx))
    });
    assert_eq!(
        result,
        (Err(TcpError::InvalidArgument), Err(TcpError::NoRoute))
    );
}

#[test]
fn ports_conflict_and_ephemeral_ports_differ() {
    let mut network = Network::pair(7);
    network.listen(1, 80, 8);
    let first = network.connect(0, 1, 80);
    let second = network.connect(0, 1, 80);
    let (first_port, second_port) = (
        network.tcp(0).local_address(first).unwrap().port(),
        network.tcp(0).local_address(second).unwrap().port(),
    );
    assert_ne!(first_port, second_port);
    assert!(first_port >= 49152 && second_port >= 49152);
    let conflict = network.with(1, |tcp, _, _| {
        let handle = tcp.open().unwrap();
        tcp.bind(handle, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)))
    });
    assert_eq!(conflict, Err(TcpError::AddressInUse));
    let elsewhere = network.with(1, |tcp, _, _| {
        let handle = tcp.open().unwrap();
        tcp.bind(handle, endpoint(1, 81))?;
        tcp.local_address(handle)
    });
    assert_eq!(elsewhere, Ok(endpoint(1, 81)));
}

#[test]
fn events_report_each_changed_handle_once() {
    let mut network = Network::pair(8);
    let listener = network.listen(1, 80, 8);
    let client = network.connect(0, 1, 80);
    network.settle(SECOND);
    let mut events = Vec::new();
    network.with(0, |tcp, _, _| tcp.drain_events(&mut events));
    assert_eq!(events, [client]);
    events.clear();
    network.with(1, |tcp, _, _| tcp.drain_events(&mut events));
    assert_eq!(events, [listener]);
    events.clear();
    network.with(1, |tcp, _, _| tcp.drain_events(&mut events));
    assert!(events.is_empty());
}

#[test]
fn handles_of_closed_sockets_are_stale() {
    let mut network = Network::pair(9);
    let handle = network.with(0, |tcp, now, tx| {
        let handle = tcp.open().unwrap();
        tcp.close(now, handle, tx);
        handle
    });
    let reused = network.with(0, |tcp, _, _| tcp.open().unwrap());
    assert_ne!(handle, reused);
    assert_eq!(handle.index(), reused.index());
    assert_eq!(
        network.tcp(0).status(handle).err(),
        Some(TcpError::InvalidHandle)
    );
    assert!(network.tcp(0).status(reused).is_ok());
}

#[test]
fn icmp_port_unreachable_refuses_and_soft_errors_explain_timeouts() {
    let mut network = Network::pair(10);
    network.up = false;
    let client = network.connect(0, 1, 80);
    let local = network.tcp(0).local_address(client).unwrap();
    let syn = network.sent_by(0, 0).next().unwrap().segment().sequence.0;
    let mut other = None;
    network.with(0, |tcp, now, tx| {
        tcp.icmp_unreachable(
            now,
            local,
            endpoint(1, 80),
            syn.wrapping_add(7),
            crate::Unreachable::Port,
        );
        assert_eq!(
            tcp.status(client).unwrap().state,
            State::SynSent,
            "not for a segment in flight"
        );
        tcp.icmp_unreachable(now, local, endpoint(1, 80), syn, crate::Unreachable::Port);
        let handle = tcp.open().unwrap();
        tcp.connect(now, handle, endpoint(1, 80), tx).unwrap();
        other = Some(handle);
    });
    assert_eq!(
        network.status(0, client).error,
        Some(TcpError::ConnectionRefused)
    );
    let other = other.unwrap();
    let other_local = network.tcp(0).local_address(other).unwrap();
    let other_syn = network.sent_by(0, 0).last().unwrap().segment().sequence.0;
    network.with(0, |tcp, now, _| {
        tcp.icmp_unreachable(
            now,
            other_local,
            endpoint(1, 80),
            other_syn,
            crate::Unreachable::Host,
        );
    });
    assert_eq!(
        network.status(0, other).state,
        State::SynSent,
        "a soft error"
    );
    network.run_until(600 * SECOND, |network| {
        network.status(0, other).state == State::Closed
    });
    assert_eq!(
        network.status(0, other).error,
        Some(TcpError::HostUnreachable)
    );
    assert_eq!(network.tcp(0).stats().icmp_errors, 2);
}
