//! Device offloads over IPv6: partial checksums, TSO6, vouched receives.
//!
//! Two stacks whose devices offer checksum completion and TSO: TCP over
//! IPv6 leaves its checksums partial (the IPv6 pseudo-header's sum) and
//! hands the device bursts when it cuts TCP/IPv6 (TSO6), which arrive
//! whole (coalesced) and intact, and never when it cuts only TCP/IPv4,
//! whose routes then still offer TSO; UDP leaves its sums
//! partial in both families, and a datagram that must be fragmented goes
//! with its sum completed. On receive, a TCP or UDP checksum over IPv6
//! that the device vouched for is not verified again, and one it did not
//! vouch for still is.

use core::cell::Cell;
use core::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::vec;
use std::vec::Vec;

use super::link::Link;
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::offload::Offloads;
use crate::stack::Stack;

type Connected = (tcp::SocketHandle, Option<tcp::SocketHandle>);

const SECOND: u64 = 1_000_000_000;
const LAN: InterfaceIndex = InterfaceIndex(0);
/// Where an untagged Ethernet frame's IPv6 next header and transport
/// header are (no extension headers in these tests).
const NEXT_HEADER: usize = 14 + 6;
const TRANSPORT: usize = 14 + 40;

fn ip(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

/// Two IPv6 stacks, fd00::1 and fd00::2, over devices with `offloads`.
fn link(offloads: Offloads) -> Link {
    let mut link = Link::with_ipv6(Link::offloading(offloads));
    link.a.add_address6(LAN, ip("fd00::1"), 64).unwrap();
    link.b.add_address6(LAN, ip("fd00::2"), 64).unwrap();
    link.advance(100_000_000, link.now_ns + 3 * SECOND);
    link
}

/// The transport protocol of an IPv6 frame without extension headers.
fn ipv6_transport(frame: &[u8]) -> Option<u8> {
    let ipv6 = frame.get(12..14) == Some(&[0x86, 0xdd]);
    ipv6.then(|| frame.get(NEXT_HEADER).copied()).flatten()
}

/// A listener of `b` on port 80.
fn listen(link: &mut Link) -> tcp::SocketHandle {
    let listener = link.b.tcp.open().unwrap();
    link.b
        .tcp
        .bind(listener, "[::]:80".parse().unwrap())
        .unwrap();
    link.b.tcp.listen(listener, 4).unwrap();
    listener
}

/// A client of `a` connected to `listener`, and the accepted socket if
/// the handshake got through.
fn connect(link: &mut Link, listener: tcp::SocketHandle) -> Connected {
    let client = link.a.tcp.open().unwrap();
    let now = link.now_ns;
    let Stack { ip, tcp, .. } = &mut link.a;
    let remote: SocketAddr = "[fd00::2]:80".parse().unwrap();
    tcp.connect(now, client, remote, ip).unwrap();
    link.advance(1_000_000, link.now_ns + 10_000_000);
    (client, link.b.tcp.accept(listener).ok())
}

/// Sends `data` from `a`'s `client` to `b`'s `server`; what arrived.
fn carry(link: &mut Link, client: tcp::SocketHandle, server: tcp::SocketHandle, data: &[u8]) {
    let (mut sent, mut received) = (0, Vec::new());
    let mut buffer = vec![0u8; 64 * 1024];
    for _ in 0..10_000 {
        let now = link.now_ns;
        let Stack { ip, tcp, .. } = &mut link.a;
        sent += tcp.send(now, client, &data[sent..], ip).unwrap_or(0);
        link.advance(1_000_000, link.now_ns + 1_000_000);
        let Stack { ip, tcp, .. } = &mut link.b;
        while let Ok(count @ 1..) = tcp.recv(now, server, &mut buffer, ip) {
            received.extend_from_slice(&buffer[..count]);
        }
        if received.len() == data.len() {
            break;
        }
    }
    assert!(received == data, "{} of {}", received.len(), data.len());
}

std::thread_local! {
    /// TCP/IPv6 bursts (frames over the MTU) seen by `partial`.
    static BURSTS: Cell<usize> = const { Cell::new(0) };
}

/// Every TCP frame over IPv6 with data goes partial; a burst (counted)
/// carries its segment size, and a frame without one fits the MTU.
fn partial(frame: &PacketBuffer) {
    let data = frame.data();
    if ipv6_transport(data) != Some(6) {
        return;
    }
    if frame.segment_size() > 0 {
        BURSTS.with(|bursts| bursts.set(bursts.get() + 1));
        assert!(frame.segment_size() <= 1440, "cut to the MSS");
    } else {
        assert!(frame.len() <= 1514, "a frame of {} bytes", frame.len());
    }
    let headers = TRANSPORT + usize::from(data[TRANSPORT + 12] >> 4) * 4;
    if data.len() > headers {
        let partial = frame.partial_checksum();
        assert_eq!(partial, Some((TRANSPORT, 16)), "the device completes it");
    }
}

/// Carries 400,000 bytes over IPv6 between devices with `offloads`,
/// each TCP frame checked by `partial`; the bursts that went.
fn bursts_carried(offloads: Offloads) -> usize {
    BURSTS.with(|bursts| bursts.set(0));
    let mut link = link(offloads);
    let six = tcp::Transmit::route(&link.a.ip, IpAddr::V6(ip("fd00::2")), 0).unwrap();
    assert!(six.offload.checksum);
    let four = IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 2));
    let four = tcp::Transmit::route(&link.a.ip, four, 0).unwrap();
    assert!(four.offload.segment_limit > 60_000, "TSO for IPv4");
    let offered = six.offload.segment_limit > 60_000;
    assert_eq!(offered, offloads.segmentation_ipv6, "TSO6 as the device");
    link.inspect = partial;
    let listener = listen(&mut link);
    let (client, server) = connect(&mut link, listener);
    let server = server.expect("connected over IPv6");
    let data: Vec<u8> = (0..400_000u32).map(|i| (i % 253) as u8).collect();
    carry(&mut link, client, server, &data);
    assert_eq!(link.b.tcp.stats().bad_checksums, 0, "completed right");
    assert_eq!(link.a.ip.stats.sent, 0, "nothing went over IPv4");
    BURSTS.with(Cell::get)
}

#[test]
fn tcp_over_ipv6_goes_in_bursts_to_a_device_with_tso6() {
    assert!(bursts_carried(Offloads::ALL) > 0, "no burst over IPv6");
}

#[test]
fn tcp_over_ipv6_never_bursts_to_a_device_with_tso4_only() {
    let tso4 = Offloads {
        segmentation_ipv6: false,
        ..Offloads::ALL
    };
    assert_eq!(bursts_carried(tso4), 0, "a TSO burst over IPv6");
}

/// Spoils the TCP and UDP checksums of IPv6 frames (not their data).
fn spoil_checksums(frame: &mut [u8]) -> bool {
    let field = match ipv6_transport(frame) {
        Some(6) => TRANSPORT + 16,
        Some(17) => TRANSPORT + 6,
        _ => return true,
    };
    frame[field] ^= 0x55;
    true
}

#[test]
fn a_tcp_checksum_over_ipv6_is_verified_unless_the_device_vouched() {
    let mut link = link(Offloads::NONE);
    link.filter = |frame| spoil_checksums(frame);
    let listener = listen(&mut link);
    let (_, server) = connect(&mut link, listener);
    assert!(server.is_none(), "a spoiled SYN opened nothing");
    assert!(link.b.tcp.stats().bad_checksums > 0);
    link.vouch = true;
    let (client, server) = connect(&mut link, listener);
    let server = server.expect("the device vouched for the SYN");
    carry(&mut link, client, server, &[5u8; 50_000]);
}

#[test]
fn a_udp_checksum_over_ipv6_is_verified_unless_the_device_vouched() {
    let mut link = link(Offloads::NONE);
    link.filter = |frame| spoil_checksums(frame);
    let server = udp_at(&mut link.b, "[::]:7");
    let client = udp_at(&mut link.a, "[::]:0");
    let to: SocketAddr = "[fd00::2]:7".parse().unwrap();
    let send = |link: &mut Link| {
        let Stack { ip, udp, ports, .. } = &mut link.a;
        udp.send_to(ip, ports, client, b"six", Some(to)).unwrap();
        link.pump();
    };
    let mut buffer = [0u8; 16];
    send(&mut link);
    assert!(link.b.udp.receive_from(server, &mut buffer).is_err());
    assert_eq!(link.b.udp.stats.malformed, 1);
    link.vouch = true;
    send(&mut link);
    let (count, from) = link.b.udp.receive_from(server, &mut buffer).unwrap();
    assert_eq!(
        (&buffer[..count], from.ip()),
        (&b"six"[..], ip("fd00::1").into())
    );
}

/// Every UDP datagram goes partial, unless it had to be fragmented.
fn udp_partial(frame: &PacketBuffer) {
    let data = frame.data();
    let udp = match data.get(12..14) {
        Some([0x08, 0x00]) => data[14 + 9] == 17 && data[14 + 6] & 0x3f == 0,
        Some([0x86, 0xdd]) => data[NEXT_HEADER] == 17,
        _ => false,
    };
    if udp {
        let start = if data[12] == 0x08 { 14 + 20 } else { TRANSPORT };
        assert_eq!(frame.partial_checksum(), Some((start, 6)), "partial UDP");
    }
}

#[test]
fn udp_goes_partial_in_both_families_and_whole_when_fragmented() {
    let mut link = link(Offloads::ALL);
    link.inspect = udp_partial;
    let server = udp_at(&mut link.b, "[::]:7");
    let client = udp_at(&mut link.a, "[::]:0");
    let mut buffer = [0u8; 4000];
    for (to, size) in [
        ("[fd00::2]:7", 100),
        ("10.0.0.2:7", 100),
        ("[fd00::2]:7", 3000),
    ] {
        let to: SocketAddr = to.parse().unwrap();
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let Stack { ip, udp, ports, .. } = &mut link.a;
        udp.send_to(ip, ports, client, &data, Some(to)).unwrap();
        link.pump();
        let (count, _) = link.b.udp.receive_from(server, &mut buffer).unwrap();
        assert_eq!(&buffer[..count], &data[..], "to {to}");
    }
    assert_eq!(link.b.udp.stats.malformed, 0, "every sum completed right");
    assert!(
        link.a.ip.v6.stats.fragments_sent > 0,
        "one went in fragments"
    );
}

/// A UDP endpoint of `stack` bound to `local`.
fn udp_at(stack: &mut Stack, local: &str) -> crate::udp::UdpHandle {
    let handle = stack.udp.open().unwrap();
    let Stack { ip, udp, ports, .. } = stack;
    udp.bind(ip, ports, handle, local.parse().unwrap()).unwrap();
    handle
}
