//! UDP between two stacks: SO_BROADCAST, broadcast and multicast fan-out,
//! the reuse options, shutdown.

use core::net::{Ipv4Addr, SocketAddr};
use std::vec::Vec;

use wire::ipv4::protocol;
use wire::{Ipv4Header, UdpHeader};

use super::link::{Link, udp_endpoint};
use crate::stack::Stack;
use crate::udp::{UdpError, UdpFlag, UdpHandle};

const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const SUBNET_BROADCAST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 255);

fn send(
    stack: &mut Stack,
    handle: UdpHandle,
    data: &[u8],
    to: SocketAddr,
) -> Result<usize, UdpError> {
    let Stack { ip, udp, ports, .. } = stack;
    udp.send_to(ip, ports, handle, data, Some(to))
}

/// An endpoint bound to `address:port` with `flags` set first.
fn bound(
    stack: &mut Stack,
    address: Ipv4Addr,
    port: u16,
    flags: &[UdpFlag],
) -> Result<UdpHandle, UdpError> {
    let handle = stack.udp.open()?;
    for flag in flags {
        stack.udp.set_flag(handle, *flag, true)?;
    }
    let Stack { ip, udp, ports, .. } = stack;
    udp.bind(ip, ports, handle, SocketAddr::from((address, port)))?;
    Ok(handle)
}

/// Every datagram queued on `handle`.
fn drain(stack: &mut Stack, handle: UdpHandle) -> Vec<Vec<u8>> {
    let mut buffer = [0u8; 256];
    let mut got = Vec::new();
    while let Ok((count, _)) = stack.udp.receive_from(handle, &mut buffer) {
        got.push(buffer[..count].to_vec());
    }
    got
}

#[test]
fn a_broadcast_needs_so_broadcast_then_reaches_every_endpoint_on_its_port() {
    let mut link = Link::new();
    link.sync();
    let reuse = [UdpFlag::ReuseAddress];
    let first = bound(&mut link.b, Ipv4Addr::UNSPECIFIED, 5000, &reuse).unwrap();
    let second = bound(&mut link.b, Ipv4Addr::UNSPECIFIED, 5000, &reuse).unwrap();
    let unicast_only = bound(&mut link.b, B, 5000, &reuse).unwrap();
    let other_port = bound(&mut link.b, Ipv4Addr::UNSPECIFIED, 5001, &[]).unwrap();
    let client = udp_endpoint(&mut link.a, 0);
    for to in [Ipv4Addr::BROADCAST, SUBNET_BROADCAST] {
        let refused = send(&mut link.a, client, b"x", SocketAddr::from((to, 5000)));
        assert_eq!(refused, Err(UdpError::BroadcastDenied), "{to}");
    }
    link.a
        .udp
        .set_flag(client, UdpFlag::Broadcast, true)
        .unwrap();
    assert_eq!(link.a.udp.flag(client, UdpFlag::Broadcast), Some(true));
    for (to, text) in [(Ipv4Addr::BROADCAST, b"all"), (SUBNET_BROADCAST, b"net")] {
        send(&mut link.a, client, text, SocketAddr::from((to, 5000))).unwrap();
    }
    link.pump();
    let both = [b"all".to_vec(), b"net".to_vec()];
    assert_eq!(drain(&mut link.b, first), both);
    assert_eq!(drain(&mut link.b, second), both);
    assert!(
        drain(&mut link.b, unicast_only).is_empty(),
        "bound to a unicast address"
    );
    assert!(drain(&mut link.b, other_port).is_empty());
    assert_eq!(link.b.udp.stats.copies, 2);
    send(&mut link.a, client, b"one", SocketAddr::from((B, 5000))).unwrap();
    link.pump();
    assert_eq!(
        drain(&mut link.b, unicast_only),
        [b"one".to_vec()],
        "unicast: the best match only"
    );
    assert!(drain(&mut link.b, first).is_empty() && drain(&mut link.b, second).is_empty());
}

#[test]
fn a_broadcast_nobody_hears_earns_no_port_unreachable() {
    let mut link = Link::new();
    link.sync();
    let client = udp_endpoint(&mut link.a, 0);
    link.a
        .udp
        .set_flag(client, UdpFlag::Broadcast, true)
        .unwrap();
    send(
        &mut link.a,
        client,
        b"anyone?",
        SocketAddr::from((Ipv4Addr::BROADCAST, 6000)),
    )
    .unwrap();
    link.pump();
    assert_eq!(link.b.udp.stats.no_port, 1);
    assert_eq!(link.b.icmp.stats.unreachables_sent, 0, "RFC 1122 3.2.2");
}

#[test]
fn sharing_a_port_takes_the_same_reuse_option_on_both_endpoints() {
    let (mut stack, _) = super::link::stack(1);
    let any = Ipv4Addr::UNSPECIFIED;
    bound(&mut stack, any, 7000, &[]).unwrap();
    assert_eq!(
        bound(&mut stack, any, 7000, &[UdpFlag::ReuseAddress]).err(),
        Some(UdpError::AddressInUse)
    );
    bound(&mut stack, any, 7001, &[UdpFlag::ReusePort]).unwrap();
    bound(&mut stack, any, 7001, &[UdpFlag::ReusePort]).unwrap();
    let mixed = bound(&mut stack, any, 7001, &[UdpFlag::ReuseAddress]);
    assert_eq!(mixed.err(), Some(UdpError::AddressInUse));
    bound(&mut stack, any, 7002, &[UdpFlag::ReuseAddress]).unwrap();
    bound(
        &mut stack,
        Ipv4Addr::new(10, 0, 0, 1),
        7002,
        &[UdpFlag::ReuseAddress],
    )
    .unwrap();
}

/// IP does not accept multicast groups yet, so the datagram is handed to
/// UDP as IP would: every endpoint on the port hears it, except one
/// connected to another peer.
#[test]
fn a_multicast_datagram_reaches_every_endpoint_on_its_port() {
    let (mut stack, _) = super::link::stack(1);
    let group = Ipv4Addr::new(224, 0, 0, 251);
    let reuse = [UdpFlag::ReusePort];
    let listeners = [
        bound(&mut stack, Ipv4Addr::UNSPECIFIED, 5353, &reuse).unwrap(),
        bound(&mut stack, Ipv4Addr::UNSPECIFIED, 5353, &reuse).unwrap(),
    ];
    let elsewhere = bound(&mut stack, Ipv4Addr::UNSPECIFIED, 5353, &reuse).unwrap();
    let Stack { ip, udp, ports, .. } = &mut stack;
    udp.connect(
        ip,
        ports,
        elsewhere,
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 9), 5353)),
    )
    .unwrap();
    let source = Ipv4Addr::new(10, 0, 0, 7);
    let payload = b"mdns";
    let mut buffer = stack.ip.pool.allocate().unwrap();
    let bytes = buffer.append(8 + payload.len()).unwrap();
    bytes[8..].copy_from_slice(payload);
    UdpHeader::write(5353, 5353, bytes, source, group);
    let header = Ipv4Header::new(source, group, protocol::UDP, buffer.len());
    let Stack { ip, icmp, udp, .. } = &mut stack;
    udp.input(ip, icmp, &header, buffer);
    for listener in listeners {
        assert_eq!(drain(&mut stack, listener), [payload.to_vec()]);
    }
    assert!(drain(&mut stack, elsewhere).is_empty());
}

#[test]
fn shutdown_for_reading_drops_input_and_reads_end_of_file() {
    let mut link = Link::new();
    link.sync();
    let server = udp_endpoint(&mut link.b, 7);
    let client = udp_endpoint(&mut link.a, 0);
    send(&mut link.a, client, b"queued", SocketAddr::from((B, 7))).unwrap();
    link.pump();
    assert!(link.b.udp.readable(server));
    link.b.udp.shutdown(server, true, false).unwrap();
    let mut events = Vec::new();
    link.b.udp.drain_events(&mut events);
    assert!(events.contains(&server), "readers are woken");
    send(&mut link.a, client, b"later", SocketAddr::from((B, 7))).unwrap();
    link.pump();
    assert_eq!(link.b.udp.stats.shut_down, 1);
    let mut buffer = [0u8; 16];
    let end = link.b.udp.receive_from(server, &mut buffer).unwrap();
    assert_eq!(end, (0, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))));
    assert!(link.b.udp.readable(server), "end of file stays readable");
    assert_eq!(
        link.b.icmp.stats.unreachables_sent, 0,
        "the port is still bound"
    );
    let reply = send(
        &mut link.b,
        server,
        b"still",
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 1), 9)),
    );
    assert!(reply.is_ok(), "reading ended, writing did not");
}

#[test]
fn shutdown_for_writing_fails_sends_and_keeps_receiving() {
    let mut link = Link::new();
    link.sync();
    let server = udp_endpoint(&mut link.b, 7);
    let client = udp_endpoint(&mut link.a, 0);
    link.a.udp.shutdown(client, false, true).unwrap();
    let refused = send(&mut link.a, client, b"no", SocketAddr::from((B, 7)));
    assert_eq!(refused, Err(UdpError::Shutdown));
    let client_address = link.a.udp.local_address(client).unwrap();
    let to = SocketAddr::from((Ipv4Addr::new(10, 0, 0, 1), client_address.port()));
    send(&mut link.b, server, b"yes", to).unwrap();
    link.pump();
    assert_eq!(drain(&mut link.a, client), [b"yes".to_vec()]);
}
