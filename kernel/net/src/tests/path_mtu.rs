//! Path MTU discovery through the whole stack: a router between two
//! stacks whose next hop takes 1,280 bytes drops bigger packets from
//! 10.0.0.1 and answers with ICMP "fragmentation needed" (RFC 1191) or,
//! as a black hole, with nothing; forged ICMPs change nothing.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::vec;
use std::vec::Vec;

use wire::{EthernetHeader, IcmpKind, IcmpMessage, Ipv4Header};

use super::link::Link;
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::stack::Stack;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The router's address on the link.
const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
const MTU: u16 = 1280;
const MILLISECOND: u64 = 1_000_000;

/// Two stacks and a router on the way from A to B.
struct Routed {
    link: Link,
    /// Answer an oversized packet with an ICMP (else drop it silently).
    icmp: bool,
    /// ICMPs the router sent.
    icmps: usize,
    /// The largest IPv4 packet that got through from A.
    largest: usize,
}

impl Routed {
    fn new(icmp: bool) -> Routed {
        let mut link = Link::new();
        link.sync();
        Routed {
            link,
            icmp,
            icmps: 0,
            largest: 0,
        }
    }

    /// Moves frames both ways until none is in flight.
    fn pump(&mut self) {
        let index = InterfaceIndex(0);
        for _ in 0..10_000 {
            let from_a = self.link.a.take_output(index);
            let from_b = self.link.b.take_output(index);
            if from_a.is_empty() && from_b.is_empty() {
                return;
            }
            for frame in from_a {
                self.route(frame);
            }
            for frame in from_b {
                deliver(&mut self.link.a, frame.data());
            }
        }
        panic!("the link never went quiet");
    }

    /// A frame from A: through, or dropped (with an ICMP) when too big.
    fn route(&mut self, frame: PacketBuffer) {
        let bytes = frame.data();
        let ip_length = bytes.len() - wire::ethernet::HEADER_LEN;
        if ip_length <= usize::from(MTU) {
            self.largest = self.largest.max(ip_length);
            deliver(&mut self.link.b, bytes);
        } else if self.icmp {
            self.icmps += 1;
            let reply = too_big(bytes, MTU);
            deliver(&mut self.link.a, &reply);
        }
    }

    /// Advances time 1 ms at a time up to `until_ns`, with timers.
    fn advance(&mut self, until_ns: u64) {
        while self.link.now_ns < until_ns {
            self.link.now_ns += MILLISECOND;
            self.link.sync();
            self.link.a.on_timer();
            self.link.b.on_timer();
            self.pump();
        }
    }

    /// A connection from A to B:80: (client, server).
    fn connect(&mut self) -> (tcp::SocketHandle, tcp::SocketHandle) {
        let b = &mut self.link.b;
        let listener = b.tcp.open().unwrap();
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80);
        b.tcp.bind(listener, any).unwrap();
        b.tcp.listen(listener, 4).unwrap();
        let client = self.connect_again();
        let server = self.link.b.tcp.accept(listener).expect("a connection");
        (client, server)
    }

    /// One more connection to B:80 (the listener's, not accepted).
    fn connect_again(&mut self) -> tcp::SocketHandle {
        let now = self.link.now_ns;
        let Stack { ip, tcp, .. } = &mut self.link.a;
        let client = tcp.open().unwrap();
        tcp.connect(now, client, SocketAddrV4::new(B, 80), ip)
            .unwrap();
        self.pump();
        client
    }

    /// Sends `data` from A's `client` to B's `server`; true when all of it
    /// arrived, intact, within `limit_ns`.
    fn transfer(
        &mut self,
        (client, server): (tcp::SocketHandle, tcp::SocketHandle),
        data: &[u8],
        limit_ns: u64,
    ) -> bool {
        let (mut sent, mut received) = (0, Vec::new());
        let mut buffer = vec![0u8; 16 * 1024];
        let end = self.link.now_ns + limit_ns;
        while received.len() < data.len() && self.link.now_ns < end {
            let now = self.link.now_ns;
            let Stack { ip, tcp, .. } = &mut self.link.a;
            sent += tcp.send(now, client, &data[sent..], ip).unwrap_or(0);
            self.advance(now + MILLISECOND);
            let Stack { ip, tcp, .. } = &mut self.link.b;
            while let Ok(count @ 1..) = tcp.recv(now, server, &mut buffer, ip) {
                received.extend_from_slice(&buffer[..count]);
            }
        }
        received == data
    }
}

fn deliver(stack: &mut Stack, bytes: &[u8]) {
    let mut copy = stack.ip.pool.allocate().expect("buffer");
    copy.reset(bytes.len())
        .expect("fits")
        .copy_from_slice(bytes);
    stack.input(InterfaceIndex(0), copy);
}

/// The router's ICMP "fragmentation needed" about `frame` (from A), with
/// `mtu` as the next hop's.
fn too_big(frame: &[u8], mtu: u16) -> Vec<u8> {
    let ethernet = wire::ethernet::HEADER_LEN;
    let quote = &frame[ethernet..ethernet + 28];
    icmp_frame(frame, quote, 4, mtu)
}

/// A frame back to A carrying ICMP type 3 `code` with `mtu` in its
/// header and `quote` as its body.
fn icmp_frame(frame: &[u8], quote: &[u8], code: u8, mtu: u16) -> Vec<u8> {
    let ethernet = wire::ethernet::HEADER_LEN;
    let mut message = vec![0u8; 8 + quote.len()];
    message[8..].copy_from_slice(quote);
    let header = IcmpMessage {
        kind: IcmpKind::DestinationUnreachable { code },
    };
    header.write(&mut message);
    // RFC 1191's next-hop MTU, which the checksum covers too.
    message[6..8].copy_from_slice(&mtu.to_be_bytes());
    message[2..4].fill(0);
    let sum = wire::checksum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut out = vec![0u8; ethernet + 20 + message.len()];
    let link = EthernetHeader::parse(frame).expect("an Ethernet frame");
    EthernetHeader {
        destination: link.source,
        source: link.destination,
        ..link
    }
    .write(&mut out);
    Ipv4Header::new(ROUTER, A, wire::ipv4::protocol::ICMP, message.len())
        .write(&mut out[ethernet..]);
    out[ethernet + 20..].copy_from_slice(&message);
    out
}

fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index % 251) as u8).collect()
}

#[test]
fn the_routers_icmp_lowers_the_mtu_and_new_connections_start_below_it() {
    let mut routed = Routed::new(true);
    let connection = routed.connect();
    let data = pattern(400_000);
    assert!(routed.transfer(connection, &data, 30_000 * MILLISECOND));
    let stats = *routed.link.a.tcp.stats();
    assert!(stats.path_mtu_lowered >= 1, "{stats:?}");
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    let now = routed.link.now_ns;
    assert_eq!(routed.link.a.ip.path_mtu.get(B, now), Some(MTU));
    assert_eq!(routed.largest, usize::from(MTU));
    // A new connection takes the learned MTU from the route: it never
    // meets the router's ICMP.
    let icmps = routed.icmps;
    let client = routed.connect_again();
    let Stack { ip, tcp, .. } = &mut routed.link.a;
    tcp.send(now, client, &data[..50_000], ip).unwrap();
    routed.advance(now + 100 * MILLISECOND);
    assert_eq!(routed.icmps, icmps);
}

#[test]
fn a_black_hole_is_found_without_icmp() {
    let mut routed = Routed::new(false);
    let connection = routed.connect();
    let data = pattern(400_000);
    assert!(routed.transfer(connection, &data, 60_000 * MILLISECOND));
    let stats = *routed.link.a.tcp.stats();
    assert_eq!(stats.mtu_black_holes, 1, "{stats:?}");
    assert!(routed.link.a.ip.path_mtu.is_empty(routed.link.now_ns));
}

#[test]
fn forged_fragmentation_needed_messages_are_ignored() {
    let mut routed = Routed::new(true);
    let (client, _) = routed.connect();
    let now = routed.link.now_ns;
    let Stack { ip, tcp, .. } = &mut routed.link.a;
    tcp.send(now, client, &pattern(20_000), ip).unwrap();
    let frames = routed.link.a.take_output(InterfaceIndex(0));
    let frame = frames[0].data().to_vec();
    let ethernet = wire::ethernet::HEADER_LEN;
    let quote = frame[ethernet..ethernet + 28].to_vec();
    let mut wrong_sequence = quote.clone();
    wrong_sequence[24] ^= 0x80;
    let mut wrong_port = quote.clone();
    wrong_port[22] ^= 1;
    let forged = [
        icmp_frame(&frame, &wrong_sequence, 4, 1280),
        icmp_frame(&frame, &wrong_port, 4, 1280),
        icmp_frame(&frame, &quote, 4, 68),
        icmp_frame(&frame, &quote, 4, 400),
        icmp_frame(&frame, &quote, 4, 9000),
        icmp_frame(&frame, &quote[..27], 4, 1280),
    ];
    for bytes in &forged {
        deliver(&mut routed.link.a, bytes);
    }
    let stats = *routed.link.a.tcp.stats();
    assert_eq!((stats.path_mtu_lowered, stats.path_mtu_ignored), (0, 4));
    assert_eq!(routed.link.a.icmp.stats.malformed, 1, "the MTU that fits");
    assert!(routed.link.a.ip.path_mtu.is_empty(now));
    // The genuine message, quoting the same segment, is taken.
    deliver(&mut routed.link.a, &icmp_frame(&frame, &quote, 4, 1280));
    assert_eq!(routed.link.a.tcp.stats().path_mtu_lowered, 1);
    assert_eq!(routed.link.a.ip.path_mtu.get(B, now), Some(1280));
}
