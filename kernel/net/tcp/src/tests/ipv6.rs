//! TCP over IPv6: bulk data under impairment with segments sized for the
//! IPv6 headers, dual-stack listeners (IPV6_V6ONLY off and on) and the
//! port conflicts between the families, TIME-WAIT records and SYN
//! cookies for IPv6 connections.

use core::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::vec::Vec;

use super::network::{Impairment, Network, SECOND, address, address6, config};
use super::transfer::transfer;
use crate::header::Flags;
use crate::options::Options;
use crate::table::TIME_WAIT_BYTES_6;
use crate::{SocketHandle, SocketOption, State, TcpConfig, TcpError};

#[test]
fn ipv6_transfers_survive_loss_reordering_duplication_and_corruption() {
    let mut network = Network::ipv6(61, &[config(), config()]);
    let (client, _, server) = network.establish(80);
    let peer = network.tcp(1).peer_address(server).unwrap();
    assert_eq!(peer, network.endpoint(0, peer.port()));
    network.impairment = Impairment {
        loss: 100,
        duplicate: 50,
        reorder: 100,
        corrupt: 10,
    };
    assert!(transfer(
        &mut network,
        client,
        server,
        4 << 20,
        600 * SECOND
    ));
    let largest = network
        .sent_by(0, 0)
        .map(|captured| captured.payload_length());
    // 1500 - 40 (IPv6) - 20 (TCP) - 12 (timestamps).
    assert_eq!(largest.max(), Some(1428));
    assert!(network.corrupted > 0);
    let bad = network.tcp(0).stats().bad_checksums + network.tcp(1).stats().bad_checksums;
    assert_eq!(bad, network.corrupted, "the IPv6 pseudo-header checksum");
    assert!(network.tcp(0).stats().retransmitted_segments > 0);
}

#[test]
fn a_small_link_still_gets_the_ipv6_minimum_segment() {
    let mut network = Network::ipv6(62, &[config(), config()]);
    network.mtu = 1280;
    let (client, _, server) = network.establish(80);
    let start = network.capture.len();
    assert!(transfer(&mut network, client, server, 100_000, 30 * SECOND));
    let largest = network
        .sent_by(0, start)
        .map(|captured| captured.payload_length());
    assert_eq!(largest.max(), Some(1220 - 12));
}

/// Two hosts: 0 speaks IPv4 only, 1 is dual-stack (IPv6 with an IPv4
/// alias).
fn dual_stack() -> Network {
    let mut network = Network::new(63, &[config(), config()]);
    network.hosts[1].address = address6(1);
    network.hosts[1].alias = Some(address(1));
    network
}

/// A socket on `host` bound to `local` with `v6_only`, listening.
fn listen_at(network: &mut Network, host: usize, local: &str, v6_only: bool) -> SocketHandle {
    let local: SocketAddr = local.parse().unwrap();
    network.with(host, |tcp, _, _| {
        let handle = tcp.open().unwrap();
        tcp.set_option(handle, SocketOption::V6Only(v6_only))
            .unwrap();
        tcp.bind(handle, local).unwrap();
        tcp.listen(handle, 8).unwrap();
        handle
    })
}

/// Host 0 connects to host 1's IPv4 address, port 80.
fn connect4(network: &mut Network) -> SocketHandle {
    network.with(0, |tcp, now, tx| {
        let handle = tcp.open().unwrap();
        let remote = SocketAddr::new(address(1), 80);
        tcp.connect(now, handle, remote, tx).unwrap();
        handle
    })
}

#[test]
fn a_dual_stack_listener_takes_ipv4_connections_unless_v6_only() {
    let mut network = dual_stack();
    let listener = listen_at(&mut network, 1, "[::]:80", false);
    let client = connect4(&mut network);
    let mut server = None;
    network.run_until(SECOND, |network| {
        server = server.or_else(|| network.with(1, |tcp, _, _| tcp.accept(listener).ok()));
        server.is_some()
    });
    let server = server.expect("the IPv4 client was accepted");
    let tcp = network.tcp(1);
    let local = tcp.local_address(server).unwrap();
    assert_eq!(
        local,
        SocketAddr::new(address(1), 80),
        "in IPv4, as it came"
    );
    assert_eq!(
        tcp.peer_address(server).unwrap().ip(),
        address(0),
        "the socket layer shows it IPv4-mapped"
    );
    assert_eq!(network.status(0, client).state, State::Established);

    let mut network = dual_stack();
    listen_at(&mut network, 1, "[::]:80", true);
    let client = connect4(&mut network);
    network.settle(SECOND);
    let refused = network.with(0, |tcp, _, _| tcp.take_error(client));
    assert_eq!(refused, Some(TcpError::ConnectionRefused));
}

#[test]
fn ports_conflict_across_families_only_through_a_dual_stack_wildcard() {
    let mut network = dual_stack();
    let bind = |network: &mut Network, local: &str, v6_only: bool| {
        let local: SocketAddr = local.parse().unwrap();
        network.with(1, |tcp, _, _| {
            let handle = tcp.open().unwrap();
            tcp.set_option(handle, SocketOption::V6Only(v6_only))?;
            tcp.bind(handle, local)?;
            tcp.listen(handle, 8)
        })
    };
    assert_eq!(bind(&mut network, "0.0.0.0:80", false), Ok(()));
    assert_eq!(
        bind(&mut network, "[::]:80", false),
        Err(TcpError::AddressInUse)
    );
    assert_eq!(bind(&mut network, "[::]:80", true), Ok(()));
    assert_eq!(bind(&mut network, "[fd00::2]:81", false), Ok(()));
    assert_eq!(bind(&mut network, "10.0.0.2:81", false), Ok(()));
    assert_eq!(
        bind(&mut network, "[::ffff:10.0.0.2]:82", false),
        Err(TcpError::AddressNotAvailable),
        "the socket layer binds IPv4-mapped addresses as IPv4"
    );
    let late = network.with(1, |tcp, _, _| {
        let handle = tcp.open().unwrap();
        tcp.bind(handle, "[::]:83".parse().unwrap()).unwrap();
        tcp.set_option(handle, SocketOption::V6Only(true))
    });
    assert_eq!(late, Err(TcpError::InvalidState), "V6ONLY before bind");
}

#[test]
fn an_ipv6_socket_bound_to_one_family_cannot_reach_the_other() {
    let mut network = dual_stack();
    let result = network.with(1, |tcp, now, tx| {
        let handle = tcp.open().unwrap();
        tcp.bind(handle, "[fd00::2]:0".parse().unwrap()).unwrap();
        tcp.connect(now, handle, SocketAddr::new(address(0), 80), tx)
    });
    assert_eq!(result, Err(TcpError::NoRoute));
}

#[test]
fn ipv6_connections_closed_first_become_seventy_two_byte_records() {
    let mut network = Network::ipv6(64, &[config(), config()]);
    let listener = network.listen(1, 80, 64);
    let clients: Vec<SocketHandle> = (0..20).map(|_| network.connect(0, 1, 80)).collect();
    let mut servers = Vec::new();
    network.run_until(5 * SECOND, |network| {
        network.with(1, |tcp, _, _| {
            servers.extend(core::iter::from_fn(|| tcp.accept(listener).ok()));
        });
        servers.len() == clients.len()
    });
    let before = network.tcp(1).memory_held();
    network.with(1, |tcp, now, tx| {
        servers
            .iter()
            .for_each(|server| tcp.close(now, *server, tx));
    });
    network.settle(SECOND / 10);
    network.with(0, |tcp, now, tx| {
        clients
            .iter()
            .for_each(|client| tcp.close(now, *client, tx));
    });
    network.settle(SECOND / 2);
    let table = &network.tcp(1).table;
    assert_eq!(table.time_wait_count(), 20);
    assert_eq!(table.time_wait_charge(), 20 * TIME_WAIT_BYTES_6);
    assert!(network.tcp(1).memory_held() < before, "sockets gave way");
    assert_eq!(network.tcp(1).check_invariants(), Ok(()));
    network.settle(3 * SECOND);
    assert_eq!(network.tcp(1).table.time_wait_count(), 0, "2 MSL passed");
}

#[test]
fn a_full_syn_queue_answers_ipv6_with_cookies_of_ipv6_sizes() {
    let server = TcpConfig {
        syn_backlog: 1,
        ..config()
    };
    let mut network = Network::ipv6(65, &[config(), server]);
    let listener = network.listen(1, 80, 8);
    let ghost = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x77));
    let mut syn = std::vec![0u8; 24];
    let header = crate::header::HeaderFields {
        source_port: 999,
        destination_port: 80,
        sequence: crate::sequence::Sequence(7),
        acknowledgment: crate::sequence::Sequence(0),
        flags: Flags::SYN,
        window: 1000,
    };
    let options = Options {
        maximum_segment_size: Some(1440),
        ..Options::default()
    };
    header.write(&mut syn, 4);
    options.write(&mut syn[20..]);
    network.inject(1, ghost, syn, true);
    let client = network.connect(0, 1, 80);
    let mut accepted = None;
    network.run_until(SECOND, |network| {
        accepted = accepted.or_else(|| network.with(1, |tcp, _, _| tcp.accept(listener).ok()));
        accepted.is_some()
    });
    let server = accepted.expect("the cookie's connection");
    let stats = network.tcp(1).stats();
    assert_eq!((stats.syn_cookies_sent, stats.syn_cookies_valid), (1, 1));
    assert!(transfer(&mut network, client, server, 50_000, 10 * SECOND));
    let start = network.capture.len();
    let data = std::vec![1u8; 5000];
    network.send(1, server, &data).unwrap();
    network.settle(SECOND);
    let largest = network
        .sent_by(1, start)
        .map(|captured| captured.payload_length());
    // The cookie remembered 1440 (IPv6's table), less the timestamps.
    assert_eq!(largest.max(), Some(1428));
    assert!(network.read(0, client).unwrap().len() == 5000);
}
