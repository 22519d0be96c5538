//! A router between two stacks, for the path MTU tests: its next hop
//! takes 1,280 bytes, so it drops bigger packets from A and answers with
//! ICMP "fragmentation needed" (RFC 1191) or ICMPv6 Packet Too Big (RFC
//! 8201), or, as a black hole, with nothing. Over IPv4 (10.0.0.1 to
//! 10.0.0.2) or IPv6 (fd00::1 to fd00::2).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::vec;
use std::vec::Vec;

use wire::{EthernetHeader, IcmpKind, IcmpMessage, Ipv4Header};

use super::link::Link;
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::stack::Stack;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub(super) const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The router's address on the link.
const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
pub(super) const MTU: u16 = 1280;
pub(super) const MILLISECOND: u64 = 1_000_000;
/// A and B over IPv6, and the router.
pub(super) const A6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
pub(super) const B6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
const ROUTER6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0xfe);

/// Two stacks and a router on the way from A to B.
pub(super) struct Routed {
    pub link: Link,
    /// Answer an oversized packet with an ICMP (else drop it silently).
    icmp: bool,
    /// Over IPv6 (else IPv4).
    ipv6: bool,
    /// ICMPs the router sent.
    pub icmps: usize,
    /// The largest IP packet that got through from A.
    pub largest: usize,
    /// B's listener on port 80, once [`Routed::connect`] made it.
    listener: Option<tcp::SocketHandle>,
}

impl Routed {
    pub(super) fn new(icmp: bool) -> Routed {
        let mut link = Link::new();
        link.sync();
        Routed {
            link,
            icmp,
            ipv6: false,
            icmps: 0,
            largest: 0,
            listener: None,
        }
    }

    /// The same over IPv6: A at fd00::1 and B at fd00::2, through DAD.
    pub(super) fn new_ipv6(icmp: bool) -> Routed {
        let mut link = Link::new_ipv6();
        let lan = InterfaceIndex(0);
        link.a.add_address6(lan, A6, 64).unwrap();
        link.b.add_address6(lan, B6, 64).unwrap();
        link.advance(100 * MILLISECOND, link.now_ns + 3_000 * MILLISECOND);
        Routed {
            link,
            icmp,
            ipv6: true,
            icmps: 0,
            largest: 0,
            listener: None,
        }
    }

    /// Fragments A sent, either family (TCP's segments never are).
    pub(super) fn fragments_sent(&self) -> u64 {
        let ip = &self.link.a.ip;
        ip.stats.fragments_sent + ip.v6.stats.fragments_sent
    }

    /// B's address in the router's family.
    pub(super) fn server(&self) -> IpAddr {
        if self.ipv6 { B6.into() } else { B.into() }
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
            let reply = if self.ipv6 {
                packet_too_big(bytes, MTU)
            } else {
                too_big(bytes, MTU)
            };
            deliver(&mut self.link.a, &reply);
        }
    }

    /// Advances time 1 ms at a time up to `until_ns`, with timers.
    pub(super) fn advance(&mut self, until_ns: u64) {
        while self.link.now_ns < until_ns {
            self.link.now_ns += MILLISECOND;
            self.link.sync();
            self.link.a.on_timer();
            self.link.b.on_timer();
            self.pump();
        }
    }

    /// A connection from A to B:80: (client, server).
    pub(super) fn connect(&mut self) -> (tcp::SocketHandle, tcp::SocketHandle) {
        let any = tcp::address::unspecified_like(self.server());
        let b = &mut self.link.b;
        let listener = b.tcp.open().unwrap();
        b.tcp.bind(listener, SocketAddr::new(any, 80)).unwrap();
        b.tcp.listen(listener, 4).unwrap();
        self.listener = Some(listener);
        self.connect_accepted()
    }

    /// One more connection to B:80, accepted: (client, server).
    pub(super) fn connect_accepted(&mut self) -> (tcp::SocketHandle, tcp::SocketHandle) {
        let client = self.connect_again();
        let listener = self.listener.expect("the listener of connect()");
        let server = self.link.b.tcp.accept(listener).expect("a connection");
        (client, server)
    }

    /// One more connection to B:80 (the listener's, not accepted).
    pub(super) fn connect_again(&mut self) -> tcp::SocketHandle {
        let (now, server) = (self.link.now_ns, SocketAddr::new(self.server(), 80));
        let Stack { ip, tcp, .. } = &mut self.link.a;
        let client = tcp.open().unwrap();
        tcp.connect(now, client, server, ip).unwrap();
        self.pump();
        client
    }

    /// Sends `data` from A's `client` to B's `server`; true when all of it
    /// arrived, intact, within `limit_ns`.
    pub(super) fn transfer(
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

pub(super) fn deliver(stack: &mut Stack, bytes: &[u8]) {
    let mut copy = stack.ip.pool.allocate().expect("buffer");
    copy.reset(bytes.len())
        .expect("fits")
        .copy_from_slice(bytes);
    stack.input(InterfaceIndex(0), copy);
}

/// The router's ICMP "fragmentation needed" about `frame` (from A), with
/// `mtu` as the next hop's.
pub(super) fn too_big(frame: &[u8], mtu: u16) -> Vec<u8> {
    let ethernet = wire::ethernet::HEADER_LEN;
    let quote = &frame[ethernet..ethernet + 28];
    icmp_frame(frame, quote, 4, mtu)
}

/// A frame back to A carrying ICMP type 3 `code` with `mtu` in its
/// header and `quote` as its body.
pub(super) fn icmp_frame(frame: &[u8], quote: &[u8], code: u8, mtu: u16) -> Vec<u8> {
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
    let header = Ipv4Header::new(ROUTER, A, wire::ipv4::protocol::ICMP, message.len());
    reply(frame, 20, |out| header.write(out), &message)
}

/// The router's ICMPv6 Packet Too Big about `frame` (from A), with `mtu`
/// as the next hop's and as much of the packet as fits in 1280 bytes.
pub(super) fn packet_too_big(frame: &[u8], mtu: u16) -> Vec<u8> {
    let ethernet = wire::ethernet::HEADER_LEN;
    let packet = &frame[ethernet..];
    let quote = &packet[..packet.len().min(1280 - 48)];
    let mut message = vec![0u8; 8 + quote.len()];
    message[8..].copy_from_slice(quote);
    let kind = wire::Icmpv6Kind::PacketTooBig { mtu: mtu.into() };
    wire::Icmpv6Message { kind }.write(&mut message, ROUTER6, A6);
    let protocol = wire::ipv6::next_header::ICMPV6;
    let header = wire::Ipv6Header::new(ROUTER6, A6, protocol, message.len());
    reply(frame, 40, |out| header.write(out), &message)
}

/// A frame from the router back to A: `frame`'s Ethernet header turned
/// around, an IP header of `header_length` bytes that `write` fills in,
/// and `message`.
fn reply(
    frame: &[u8],
    header_length: usize,
    write: impl FnOnce(&mut [u8]),
    message: &[u8],
) -> Vec<u8> {
    let ethernet = wire::ethernet::HEADER_LEN;
    let mut out = vec![0u8; ethernet + header_length + message.len()];
    let link = EthernetHeader::parse(frame).expect("an Ethernet frame");
    EthernetHeader {
        destination: link.source,
        source: link.destination,
        ..link
    }
    .write(&mut out);
    write(&mut out[ethernet..]);
    out[ethernet + header_length..].copy_from_slice(message);
    out
}

pub(super) fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index % 251) as u8).collect()
}
