//! TCP and UDP over IPv6 between two stacks: global and link-local peers,
//! a dual-stack listener taking IPv4, port unreachables in ICMPv6 for
//! both transports, the checksum IPv6 makes mandatory for UDP, and a
//! Packet Too Big that shrinks a path and a connection's segments.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::vec;
use std::vec::Vec;

use super::link::{Link, link_local};
use crate::interface::InterfaceIndex;
use crate::stack::Stack;

const SECOND: u64 = 1_000_000_000;
const LAN: InterfaceIndex = InterfaceIndex(0);

fn ip(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

/// Two stacks with IPv6, fd00::1 and fd00::2 through DAD.
fn link() -> Link {
    let mut link = Link::new_ipv6();
    link.a.add_address6(LAN, ip("fd00::1"), 64).unwrap();
    link.b.add_address6(LAN, ip("fd00::2"), 64).unwrap();
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    link
}

/// A TCP listener of `stack` at `local`.
fn listen(stack: &mut Stack, local: SocketAddr) -> tcp::SocketHandle {
    let listener = stack.tcp.open().unwrap();
    stack.tcp.bind(listener, local).unwrap();
    stack.tcp.listen(listener, 4).unwrap();
    listener
}

/// Connects `a` to `remote`, moves the handshake along and returns the
/// client and, if one came, the server's accepted socket.
fn connect(link: &mut Link, listener: tcp::SocketHandle, remote: SocketAddr) -> ConnectedPair {
    let client = link.a.tcp.open().unwrap();
    let now = link.now_ns;
    let Stack { ip, tcp, .. } = &mut link.a;
    tcp.connect(now, client, remote, ip).unwrap();
    link.pump();
    (client, link.b.tcp.accept(listener).ok())
}

type ConnectedPair = (tcp::SocketHandle, Option<tcp::SocketHandle>);

/// Sends `data` from `a`'s `client` to `b`'s `server` and reads it back.
fn carry(link: &mut Link, client: tcp::SocketHandle, server: tcp::SocketHandle, data: &[u8]) {
    let mut sent = 0;
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    for _ in 0..10_000 {
        let now = link.now_ns;
        let Stack { ip, tcp, .. } = &mut link.a;
        if sent < data.len() {
            sent += tcp.send(now, client, &data[sent..], ip).unwrap_or(0);
        }
        link.advance(1_000_000, link.now_ns + 1_000_000);
        let Stack { ip, tcp, .. } = &mut link.b;
        while let Ok(count @ 1..) = tcp.recv(now, server, &mut buffer, ip) {
            received.extend_from_slice(&buffer[..count]);
        }
        if received.len() == data.len() {
            break;
        }
    }
    assert!(
        received == data,
        "{} of {} bytes",
        received.len(),
        data.len()
    );
}

#[test]
fn tcp_carries_data_between_global_ipv6_addresses() {
    let mut link = link();
    let listener = listen(&mut link.b, "[::]:80".parse().unwrap());
    let (client, server) = connect(&mut link, listener, "[fd00::2]:80".parse().unwrap());
    let server = server.expect("accepted over IPv6");
    let peer = link.b.tcp.peer_address(server).unwrap();
    assert_eq!(peer.ip(), IpAddr::V6(ip("fd00::1")));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    carry(&mut link, client, server, &data);
    assert_eq!(link.b.tcp.stats().bad_checksums, 0);
    assert!(link.b.ip.v6.stats.delivered > 200);
    assert_eq!(link.b.ip.stats.delivered, 0, "nothing came over IPv4");
}

#[test]
fn tcp_reaches_a_link_local_peer_by_its_zone() {
    let mut link = link();
    let listener = listen(&mut link.b, "[::]:80".parse().unwrap());
    let peer = link_local(&link.b);
    let named = SocketAddrV6::new(peer, 80, 0, LAN.scope_id());
    let (client, server) = connect(&mut link, listener, SocketAddr::V6(named));
    let server = server.expect("accepted over link-local");
    let remote = link.b.tcp.peer_address(server).unwrap();
    let SocketAddr::V6(remote) = remote else {
        panic!("an IPv6 peer: {remote}");
    };
    assert_eq!(*remote.ip(), link_local(&link.a));
    assert_eq!(remote.scope_id(), LAN.scope_id(), "scoped by its link");
    carry(&mut link, client, server, &[7u8; 20_000]);
    // Without a zone the route picks the interface, and the connection
    // is keyed by it all the same.
    let unnamed = SocketAddr::V6(SocketAddrV6::new(peer, 80, 0, 0));
    let (client, server) = connect(&mut link, listener, unnamed);
    let server = server.expect("accepted without a zone named");
    let local = link.a.tcp.peer_address(client).unwrap();
    assert_eq!(local, SocketAddr::V6(named));
    carry(&mut link, client, server, &[8u8; 20_000]);
}

#[test]
fn a_dual_stack_listener_takes_ipv4_and_a_v6_only_one_refuses_it() {
    let mut link = link();
    let listener = listen(&mut link.b, "[::]:80".parse().unwrap());
    let ipv4 = SocketAddr::from((Ipv4Addr::new(10, 0, 0, 2), 80));
    let (_, server) = connect(&mut link, listener, ipv4);
    let server = server.expect("an IPv4 connection on the IPv6 listener");
    let local = link.b.tcp.local_address(server).unwrap();
    assert_eq!(local, ipv4, "IPv4 inside; the socket layer maps it");

    let only = link.b.tcp.open().unwrap();
    link.b
        .tcp
        .set_option(only, tcp::SocketOption::V6Only(true))
        .unwrap();
    link.b.tcp.bind(only, "[::]:81".parse().unwrap()).unwrap();
    link.b.tcp.listen(only, 4).unwrap();
    let (client, server) = connect(
        &mut link,
        only,
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 2), 81)),
    );
    assert!(server.is_none());
    let error = link.a.tcp.take_error(client);
    assert_eq!(error, Some(tcp::TcpError::ConnectionRefused));
}

#[test]
fn a_syn_to_a_closed_ipv6_port_is_reset() {
    let mut link = link();
    let client = link.a.tcp.open().unwrap();
    let now = link.now_ns;
    let Stack { ip, tcp, .. } = &mut link.a;
    tcp.connect(now, client, "[fd00::2]:4444".parse().unwrap(), ip)
        .unwrap();
    link.pump();
    assert_eq!(
        link.a.tcp.take_error(client),
        Some(tcp::TcpError::ConnectionRefused)
    );
    assert_eq!(link.b.tcp.stats().no_socket, 1);
}

/// A UDP endpoint of `stack` bound to `local`.
fn udp_at(stack: &mut Stack, local: &str) -> crate::udp::UdpHandle {
    let handle = stack.udp.open().unwrap();
    let Stack { ip, udp, ports, .. } = stack;
    udp.bind(ip, ports, handle, local.parse().unwrap()).unwrap();
    handle
}

fn udp_send(stack: &mut Stack, handle: crate::udp::UdpHandle, data: &[u8], to: SocketAddr) {
    let Stack { ip, udp, ports, .. } = stack;
    udp.send_to(ip, ports, handle, data, Some(to)).unwrap();
}

#[test]
fn udp_datagrams_go_both_ways_over_ipv6_and_link_local() {
    let mut link = link();
    let server = udp_at(&mut link.b, "[::]:7");
    let client = udp_at(&mut link.a, "[::]:0");
    udp_send(
        &mut link.a,
        client,
        b"hello six",
        "[fd00::2]:7".parse().unwrap(),
    );
    link.pump();
    let mut buffer = [0u8; 64];
    let (count, from) = link.b.udp.receive_from(server, &mut buffer).unwrap();
    assert_eq!(&buffer[..count], b"hello six");
    assert_eq!(from.ip(), IpAddr::V6(ip("fd00::1")));
    udp_send(&mut link.b, server, &[9u8; 3000], from);
    link.pump();
    let mut big = [0u8; 4000];
    let (count, back) = link.a.udp.receive_from(client, &mut big).unwrap();
    assert_eq!((count, back.port()), (3000, 7), "fragmented and whole");
    // Link-local: the sender's scope is the interface it came in on.
    let peer = SocketAddrV6::new(link_local(&link.b), 7, 0, 0);
    udp_send(&mut link.a, client, b"near", SocketAddr::V6(peer));
    link.pump();
    let (_, from) = link.b.udp.receive_from(server, &mut buffer).unwrap();
    let SocketAddr::V6(from) = from else {
        panic!("an IPv6 sender");
    };
    assert_eq!(
        (*from.ip(), from.scope_id()),
        (link_local(&link.a), LAN.scope_id())
    );
    // A dual-stack endpoint hears IPv4 too.
    udp_send(
        &mut link.a,
        client,
        b"four",
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 2), 7)),
    );
    link.pump();
    let (count, from) = link.b.udp.receive_from(server, &mut buffer).unwrap();
    assert_eq!(&buffer[..count], b"four");
    assert_eq!(from.ip(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), "as IPv4");
}

#[test]
fn an_ipv6_port_nobody_holds_answers_port_unreachable() {
    let mut link = link();
    let client = link.a.udp.open().unwrap();
    let to: SocketAddr = "[fd00::2]:9999".parse().unwrap();
    let Stack { ip, udp, ports, .. } = &mut link.a;
    udp.connect(ip, ports, client, to).unwrap();
    udp_send(&mut link.a, client, b"anyone?", to);
    link.pump();
    assert_eq!(link.b.udp.stats.no_port, 1);
    assert_eq!(link.b.ip.v6.icmp.stats.errors_sent, 1);
    assert!(
        link.a.udp.take_refused(client),
        "the error reached the endpoint"
    );
}

#[test]
fn a_zero_udp_checksum_is_refused_over_ipv6() {
    let mut link = link();
    let server = udp_at(&mut link.b, "[::]:7");
    let client = udp_at(&mut link.a, "[::]:0");
    link.filter = |frame| {
        // Ethernet 14 + IPv6 40: the UDP checksum at 6..8.
        if frame.len() > 62 && frame[20] == 17 {
            frame[60..62].fill(0);
        }
        true
    };
    udp_send(
        &mut link.a,
        client,
        b"unsummed",
        "[fd00::2]:7".parse().unwrap(),
    );
    link.pump();
    assert_eq!(link.b.udp.stats.malformed, 1);
    assert!(!link.b.udp.readable(server));
}

#[test]
fn a_packet_too_big_shrinks_the_path_and_the_connection_s_segments() {
    let mut link = link();
    let listener = listen(&mut link.b, "[::]:80".parse().unwrap());
    let (client, server) = connect(&mut link, listener, "[fd00::2]:80".parse().unwrap());
    let server = server.expect("accepted");
    // A full segment is lost on a path of 1280 bytes, whose router says so.
    let now = link.now_ns;
    let Stack { ip: layer, tcp, .. } = &mut link.a;
    tcp.send(now, client, &[5u8; 3000], layer).unwrap();
    let lost = link.a.take_output(LAN);
    let packet = &lost.first().expect("a segment went out").data()[14..];
    assert!(packet.len() > 1280, "a segment for the link's 1500 bytes");
    let mut message = vec![0u8; 8 + 1232];
    message[8..].copy_from_slice(&packet[..1232]);
    let kind = wire::Icmpv6Kind::PacketTooBig { mtu: 1280 };
    wire::Icmpv6Message { kind }.write(&mut message, ip("fd00::2"), ip("fd00::1"));
    let header = wire::Ipv6Header::new(ip("fd00::2"), ip("fd00::1"), 58, 0);
    let to = super::ipv6::mac_of(&link.a);
    super::ipv6::inject6(&mut link.a, to, header, &message);
    assert_eq!(
        link.a.ip.v6.path_mtus.get(link.now_ns, ip("fd00::2")),
        Some(1280)
    );
    assert_eq!(link.a.tcp.stats().path_mtu_decreases, 1);
    // The lost data comes again in fragments; new data in smaller segments.
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 249) as u8).collect();
    let mut buffer = vec![0u8; 4000];
    let mut first = Vec::new();
    for _ in 0..5_000 {
        link.advance(1_000_000, link.now_ns + 1_000_000);
        let Stack { ip: layer, tcp, .. } = &mut link.b;
        while let Ok(count @ 1..) = tcp.recv(link.now_ns, server, &mut buffer, layer) {
            first.extend_from_slice(&buffer[..count]);
        }
        if first.len() == 3000 {
            break;
        }
    }
    assert_eq!(first, [5u8; 3000], "retransmitted in fragments");
    assert!(link.a.ip.v6.stats.fragments_sent > 0);
    let fragments = link.a.ip.v6.stats.fragments_sent;
    carry(&mut link, client, server, &data);
    let after = link.a.ip.v6.stats.fragments_sent;
    assert_eq!(after, fragments, "new segments fit the path whole");
}
