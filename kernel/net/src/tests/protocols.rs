//! ARP, ICMP, UDP, fragments and TCP between two stacks.

use core::net::{Ipv4Addr, SocketAddr};
use std::vec;
use std::vec::Vec;

use super::link::{Link, udp_endpoint};
use crate::interface::InterfaceIndex;
use crate::stack::Stack;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn udp_send(stack: &mut Stack, handle: crate::udp::UdpHandle, data: &[u8], to: SocketAddr) {
    let Stack { ip, udp, ports, .. } = stack;
    udp.send_to(ip, ports, handle, data, Some(to)).unwrap();
}

#[test]
fn ping_resolves_both_neighbours_and_gets_its_reply() {
    let mut link = Link::new();
    link.sync();
    let Stack { ip, icmp, .. } = &mut link.a;
    icmp.send_echo_request(ip, B, (7, 1), b"hello", 64).unwrap();
    link.pump();
    let reply = link.a.icmp.replies.back().copied().expect("a reply");
    assert_eq!((reply.source, reply.identifier, reply.sequence), (B, 7, 1));
    let now = link.now_ns;
    assert!(link.a.ip.arp.lookup(now, InterfaceIndex(0), B).is_some());
    assert!(link.b.ip.arp.lookup(now, InterfaceIndex(0), A).is_some());
    assert_eq!(link.b.icmp.stats.echo_replies, 1);
}

#[test]
fn a_broadcast_ping_goes_unanswered() {
    let mut link = Link::new();
    link.sync();
    let Stack { ip, icmp, .. } = &mut link.a;
    icmp.send_echo_request(ip, Ipv4Addr::BROADCAST, (7, 1), b"anyone", 64)
        .unwrap();
    link.pump();
    assert_eq!(
        link.b.ip.stats.not_for_us, 1,
        "only datagrams go to a broadcast"
    );
    assert_eq!(link.b.icmp.stats.echo_replies, 0);
}

#[test]
fn udp_reaches_its_port_and_a_closed_port_gets_port_unreachable() {
    let mut link = Link::new();
    link.sync();
    let server = udp_endpoint(&mut link.b, 7);
    let client = udp_endpoint(&mut link.a, 0);
    udp_send(&mut link.a, client, b"datagram", SocketAddr::from((B, 7)));
    link.pump();
    let mut buffer = [0u8; 64];
    let (count, from) = link.b.udp.receive_from(server, &mut buffer).unwrap();
    assert_eq!(&buffer[..count], b"datagram");
    assert_eq!(from.ip(), core::net::IpAddr::V4(A));
    assert!(from.port() >= crate::ports::FIRST, "ephemeral: {from}");
    udp_send(&mut link.a, client, b"nobody", SocketAddr::from((B, 9)));
    link.pump();
    assert_eq!(link.b.icmp.stats.unreachables_sent, 1);
    assert_eq!(link.a.icmp.stats.unreachables_received, 1);
}

#[test]
fn a_datagram_larger_than_the_mtu_is_fragmented_and_reassembled() {
    let mut link = Link::new();
    link.sync();
    let server = udp_endpoint(&mut link.b, 7);
    let client = udp_endpoint(&mut link.a, 0);
    let data: Vec<u8> = (0..6000u32).map(|i| (i * 7 % 251) as u8).collect();
    udp_send(&mut link.a, client, &data, SocketAddr::from((B, 7)));
    link.pump();
    assert_eq!(link.a.ip.stats.fragments_sent, 5);
    let mut buffer = vec![0u8; 8000];
    let (count, _) = link.b.udp.receive_from(server, &mut buffer).unwrap();
    assert_eq!(&buffer[..count], &data[..]);
    assert_eq!(link.b.ip.reassembly.stats.reassembled, 1);
    assert_eq!(link.b.ip.reassembly.held(), 0);
}

#[test]
fn lost_fragments_time_out_and_free_their_memory() {
    let mut link = Link::new();
    link.sync();
    udp_endpoint(&mut link.b, 7);
    let client = udp_endpoint(&mut link.a, 0);
    // Resolve first, so that the only frames later are the fragments.
    let Stack { ip, icmp, .. } = &mut link.a;
    icmp.send_echo_request(ip, B, (1, 1), b"arp", 64).unwrap();
    link.pump();
    link.filter = |frame| {
        // Drop the fragment at offset 0 (its offset field is zero and MF
        // is set).
        !(frame.len() > 34 && frame[20] == 0x20 && frame[21] == 0)
    };
    udp_send(&mut link.a, client, &[1u8; 4000], SocketAddr::from((B, 7)));
    link.pump();
    assert_eq!(link.b.ip.reassembly.held(), 2);
    let later = link.now_ns + crate::ipv4::reassembly::TIMEOUT_NS + 1;
    link.advance(1_000_000_000, later);
    assert_eq!(link.b.ip.reassembly.held(), 0);
    assert_eq!(link.b.ip.reassembly.stats.dropped, 1);
}

#[test]
fn tcp_connects_transfers_and_closes_between_two_stacks() {
    let mut link = Link::new();
    link.sync();
    let listener = link.b.tcp.open().unwrap();
    link.b
        .tcp
        .bind(listener, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)))
        .unwrap();
    link.b.tcp.listen(listener, 4).unwrap();
    let client = link.a.tcp.open().unwrap();
    let now = link.now_ns;
    let Stack { ip, tcp, .. } = &mut link.a;
    tcp.connect(now, client, SocketAddr::from((B, 80)), ip)
        .unwrap();
    link.pump();
    let server = link.b.tcp.accept(listener).expect("a connection");
    assert!(link.a.tcp.status(client).unwrap().connected);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let mut sent = 0;
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    while received.len() < data.len() {
        let now = link.now_ns;
        let Stack { ip, tcp, .. } = &mut link.a;
        if sent < data.len() {
            sent += tcp.send(now, client, &data[sent..], ip).unwrap_or(0);
        }
        link.advance(1_000_000, link.now_ns + 1_000_000);
        let Stack { ip, tcp, .. } = &mut link.b;
        while let Ok(count) = tcp.recv(now, server, &mut buffer, ip) {
            if count == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..count]);
        }
        link.pump();
    }
    assert_eq!(received, data);
    let now = link.now_ns;
    let Stack { ip, tcp, .. } = &mut link.a;
    tcp.close(now, client, ip);
    link.pump();
    let Stack { ip, tcp, .. } = &mut link.b;
    assert_eq!(
        tcp.recv(now, server, &mut buffer, ip),
        Ok(0),
        "end of stream"
    );
    tcp.close(now, server, ip);
    link.pump();
    link.advance(100_000_000, link.now_ns + 3_000_000_000);
    assert_eq!(link.a.tcp.connection_count(), 0, "TIME_WAIT ended");
    assert_eq!(
        link.b.tcp.connection_count(),
        0,
        "the server side is closed too"
    );
}

#[test]
fn an_unknown_protocol_gets_protocol_unreachable() {
    let mut link = Link::new();
    link.sync();
    let mut buffer = link.a.ip.pool.allocate().unwrap();
    buffer.append(8).unwrap().copy_from_slice(&[0; 8]);
    link.a.ip.output(A, B, 99, buffer).unwrap();
    link.pump();
    assert_eq!(link.b.ip.stats.unknown_protocol, 1);
    assert_eq!(link.a.icmp.stats.unreachables_received, 1);
}
