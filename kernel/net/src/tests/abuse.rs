//! Abuse from the link, found in review and kept out for good: floods
//! that would pin memory, spoofed broadcast sources, fragment tricks,
//! bursts that overflow queues, and boot parameters that do not fit.

use core::net::{Ipv4Addr, SocketAddr};
use std::vec;
use std::vec::Vec;

use wire::ipv4::protocol;
use wire::{EtherType, EthernetHeader, IcmpKind, IcmpMessage, Ipv4Header, MacAddress, UdpHeader};

use super::link::{Link, stack, udp_endpoint};
use crate::interface::InterfaceIndex;
use crate::stack::Stack;

const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const ATTACKER_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 0x66]);
const LAN: InterfaceIndex = InterfaceIndex(0);

/// An Ethernet frame to `stack`'s MAC carrying `header` + `payload`.
fn inject(stack: &mut Stack, mut header: Ipv4Header, payload: &[u8]) {
    let own = stack.ip.interface(LAN).unwrap().spec.mac;
    let mut bytes = vec![0u8; 14 + 20 + payload.len()];
    let ethernet = EthernetHeader {
        destination: own,
        source: ATTACKER_MAC,
        ether_type: EtherType::Ipv4,
    };
    ethernet.write(&mut bytes);
    header.total_len = 20 + payload.len();
    header.write(&mut bytes[14..]);
    bytes[34..].copy_from_slice(payload);
    let mut frame = stack.ip.pool.allocate().unwrap();
    frame.reset(bytes.len()).unwrap().copy_from_slice(&bytes);
    stack.input(LAN, frame);
}

fn udp_datagram(source: Ipv4Addr, destination: Ipv4Addr, port: u16, data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 8 + data.len()];
    bytes[8..].copy_from_slice(data);
    UdpHeader::write(4000, port, &mut bytes, source, destination);
    bytes
}

fn echo_request(sequence: u16) -> Vec<u8> {
    let mut echo = vec![0u8; 12];
    let kind = IcmpKind::EchoRequest {
        identifier: 1,
        sequence,
    };
    IcmpMessage { kind }.write(&mut echo);
    echo
}

fn fragment(source: Ipv4Addr, identification: u16, offset: usize, more: bool) -> Ipv4Header {
    let mut header = Ipv4Header::new(source, B, protocol::UDP, 8);
    header.identification = identification;
    header.dont_fragment = false;
    header.more_fragments = more;
    header.fragment_offset = offset;
    header
}

#[test]
fn a_flood_of_empty_datagrams_is_bounded_by_the_receive_buffer() {
    let (mut b, _) = stack(2);
    b.set_now(1);
    let server = udp_endpoint(&mut b, 9999);
    let before = b.ip.pool.in_use();
    let source = Ipv4Addr::new(10, 0, 0, 7);
    for _ in 0..10_000 {
        let datagram = udp_datagram(source, B, 9999, &[]);
        inject(
            &mut b,
            Ipv4Header::new(source, B, protocol::UDP, 8),
            &datagram,
        );
    }
    let held = b.ip.pool.in_use() - before;
    let bound = crate::udp::DEFAULT_RECEIVE_BUFFER / crate::buffer::BLOCK_SIZE;
    assert!(
        held <= bound,
        "{held} blocks held, the buffer allows {bound}"
    );
    assert!(b.udp.stats.queue_full >= 10_000 - bound as u64);
    assert!(b.udp.readable(server));
}

#[test]
fn broadcast_sources_get_no_replies_at_all() {
    let (mut b, _) = stack(2);
    b.set_now(1);
    udp_endpoint(&mut b, 7);
    for spoofed in [
        Ipv4Addr::new(10, 0, 0, 255),
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        B,
    ] {
        let datagram = udp_datagram(spoofed, B, 5555, b"x");
        inject(
            &mut b,
            Ipv4Header::new(spoofed, B, protocol::UDP, datagram.len()),
            &datagram,
        );
        let echo = echo_request(1);
        inject(
            &mut b,
            Ipv4Header::new(spoofed, B, protocol::ICMP, echo.len()),
            &echo,
        );
        let datagram = udp_datagram(spoofed, B, 7, b"loop");
        inject(
            &mut b,
            Ipv4Header::new(spoofed, B, protocol::UDP, datagram.len()),
            &datagram,
        );
    }
    let ipv4_out = b
        .take_output(LAN)
        .iter()
        .filter(|f| f.data()[12..14] == [8, 0])
        .count();
    assert_eq!(ipv4_out, 0, "nothing answers a martian source");
    assert_eq!(b.ip.stats.martian_source, 12);
}

fn syn(source: Ipv4Addr, destination: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    bytes[0..2].copy_from_slice(&4321u16.to_be_bytes());
    bytes[2..4].copy_from_slice(&port.to_be_bytes());
    bytes[4..8].copy_from_slice(&1000u32.to_be_bytes());
    bytes[12] = 5 << 4;
    bytes[13] = 0x02;
    bytes[14..16].copy_from_slice(&65535u16.to_be_bytes());
    let sum = wire::Checksum::new()
        .add_ipv4_pseudo_header(source, destination, protocol::TCP, 20)
        .add(&bytes)
        .finish();
    bytes[16..18].copy_from_slice(&sum.to_be_bytes());
    bytes
}

#[test]
fn tcp_ignores_syns_to_or_from_the_subnet_broadcast() {
    let (mut b, _) = stack(2);
    b.set_now(1);
    let listener = b.tcp.open().unwrap();
    b.tcp
        .bind(listener, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)))
        .unwrap();
    b.tcp.listen(listener, 8).unwrap();
    b.take_output(LAN);
    let directed = Ipv4Addr::new(10, 0, 0, 255);
    let peer = Ipv4Addr::new(10, 0, 0, 1);
    b.ip.arp
        .learn(1, LAN, peer, MacAddress([2, 0, 0, 0, 0, 1]), true);
    inject(
        &mut b,
        Ipv4Header::new(peer, directed, protocol::TCP, 20),
        &syn(peer, directed, 80),
    );
    inject(
        &mut b,
        Ipv4Header::new(directed, B, protocol::TCP, 20),
        &syn(directed, B, 80),
    );
    assert!(
        b.take_output(LAN).is_empty(),
        "no SYN-ACK to or from a broadcast"
    );
    assert_eq!(b.tcp.stats().passive_opens, 0);
}

#[test]
fn a_fragment_flood_cannot_lock_out_honest_datagrams() {
    let (mut b, _) = stack(2);
    b.set_now(1);
    let server = udp_endpoint(&mut b, 7);
    let attacker = Ipv4Addr::new(10, 0, 0, 9);
    for id in 0..8u16 {
        for piece in 0..16usize {
            inject(
                &mut b,
                fragment(attacker, id, 8 + piece * 16, true),
                &[0u8; 8],
            );
        }
    }
    let honest = Ipv4Addr::new(10, 0, 0, 1);
    let data = udp_datagram(honest, B, 7, &[7u8; 24]);
    inject(&mut b, fragment(honest, 999, 0, true), &data[..16]);
    inject(&mut b, fragment(honest, 999, 16, false), &data[16..]);
    assert_eq!(b.ip.reassembly.stats.reassembled, 1);
    assert!(b.udp.readable(server), "the honest datagram arrives");
}

#[test]
fn a_duplicated_fragment_does_not_kill_its_datagram() {
    let (mut b, _) = stack(2);
    b.set_now(1);
    let server = udp_endpoint(&mut b, 7);
    let honest = Ipv4Addr::new(10, 0, 0, 1);
    let data = udp_datagram(honest, B, 7, &[7u8; 24]);
    inject(&mut b, fragment(honest, 5, 0, true), &data[..16]);
    inject(&mut b, fragment(honest, 5, 0, true), &data[..16]);
    inject(&mut b, fragment(honest, 5, 16, false), &data[16..]);
    assert!(b.udp.readable(server));
    let mut overlapping = data.clone();
    overlapping[20] ^= 1;
    inject(&mut b, fragment(honest, 6, 0, true), &data[..16]);
    inject(&mut b, fragment(honest, 6, 8, false), &overlapping[8..]);
    assert_eq!(
        b.ip.reassembly.stats.reassembled, 1,
        "a real overlap still discards"
    );
}

#[test]
fn answers_to_a_long_burst_are_not_lost_in_the_send_queue() {
    // Net hands output to the drivers every 64 input frames; the stack
    // alone must at least count what it could not queue.
    let (mut b, _) = stack(2);
    b.set_now(1);
    let peer = Ipv4Addr::new(10, 0, 0, 1);
    b.ip.arp
        .learn(1, LAN, peer, MacAddress([2, 0, 0, 0, 0, 1]), true);
    for sequence in 0..600u16 {
        let echo = echo_request(sequence);
        inject(
            &mut b,
            Ipv4Header::new(peer, B, protocol::ICMP, echo.len()),
            &echo,
        );
    }
    let counters = b.ip.interface(LAN).unwrap().counters;
    let frames = b.take_output(LAN);
    let replies = frames.iter().filter(|f| f.data()[12..14] == [8, 0]).count() as u64;
    assert_eq!(
        b.icmp.stats.echo_replies, replies,
        "only queued replies count as sent"
    );
    // The queue also holds the gratuitous ARP of the address set at boot.
    assert_eq!(
        counters.sent_dropped + replies,
        600,
        "and the drops are counted"
    );
}

#[test]
fn a_large_datagram_waits_whole_for_an_unresolved_neighbour() {
    let mut link = Link::new();
    link.sync();
    let server = udp_endpoint(&mut link.b, 7);
    let client = udp_endpoint(&mut link.a, 0);
    let Stack { ip, udp, ports, .. } = &mut link.a;
    udp.send_to(
        ip,
        ports,
        client,
        &[1u8; 20_000],
        Some(SocketAddr::from((B, 7))),
    )
    .unwrap();
    link.pump();
    let mut buffer = vec![0u8; 20_000];
    assert_eq!(
        link.b.udp.receive_from(server, &mut buffer).map(|r| r.0),
        Ok(20_000)
    );
}

#[test]
fn a_gateway_off_the_subnet_costs_the_gateway_not_the_interface() {
    use crate::config::AddressConfig;
    use crate::interface::{InterfaceAddress, InterfaceSpec, LinkKind};
    let (mut b, _) = stack(2);
    let config = AddressConfig::Static {
        address: InterfaceAddress {
            address: Ipv4Addr::new(10, 9, 0, 2),
            prefix_length: 24,
        },
        gateway: Some(Ipv4Addr::new(192, 168, 1, 1)),
    };
    b.set_pending_config(config);
    let spec = InterfaceSpec {
        name_prefix: "vioif",
        kind: LinkKind::Ethernet,
        mac: MacAddress([2, 0, 0, 0, 0, 9]),
        mtu: 1500,
        offloads: crate::offload::Offloads::NONE,
    };
    struct Unused;
    impl crate::interface::NetworkDevice for Unused {
        fn transmit(
            &self,
            _: &base::Context<'_>,
            frame: crate::PacketBuffer,
        ) -> Result<(), crate::DeviceBusy> {
            Err(crate::DeviceBusy(frame))
        }
    }
    assert!(b.attach(spec, std::sync::Arc::new(Unused)).is_ok());
    assert_eq!(
        b.ip.routes.lookup(Ipv4Addr::new(8, 8, 8, 8)),
        None,
        "no default route"
    );
}

#[test]
fn an_unreachable_for_a_connecting_socket_refuses_it() {
    let (mut a, _) = stack(1);
    a.set_now(1);
    let far = Ipv4Addr::new(10, 0, 0, 3);
    a.ip.arp
        .learn(1, LAN, far, MacAddress([2, 0, 0, 0, 0, 3]), true);
    a.take_output(LAN);
    let client = a.tcp.open().unwrap();
    let Stack { ip, tcp, .. } = &mut a;
    tcp.connect(1, client, SocketAddr::from((far, 4444)), ip)
        .unwrap();
    let syn = a.take_output(LAN).pop().expect("the SYN");
    // A firewall in front of 10.0.0.3 answers with port unreachable,
    // quoting the SYN's IPv4 header and first 8 TCP bytes.
    let quote = &syn.data()[14..14 + 28];
    let mut message = vec![0u8; 8 + quote.len()];
    message[8..].copy_from_slice(quote);
    IcmpMessage {
        kind: IcmpKind::DestinationUnreachable { code: 3 },
    }
    .write(&mut message);
    let own = Ipv4Addr::new(10, 0, 0, 1);
    let header = Ipv4Header::new(far, own, protocol::ICMP, message.len());
    let ethernet_to_a = |stack: &mut Stack| {
        let mac = stack.ip.interface(LAN).unwrap().spec.mac;
        let mut bytes = vec![0u8; 14 + 20 + message.len()];
        let ethernet = EthernetHeader {
            destination: mac,
            source: ATTACKER_MAC,
            ether_type: EtherType::Ipv4,
        };
        ethernet.write(&mut bytes);
        let mut header = header;
        header.total_len = 20 + message.len();
        header.write(&mut bytes[14..]);
        bytes[34..].copy_from_slice(&message);
        let mut frame = stack.ip.pool.allocate().unwrap();
        frame.reset(bytes.len()).unwrap().copy_from_slice(&bytes);
        stack.input(LAN, frame);
    };
    ethernet_to_a(&mut a);
    assert_eq!(
        a.tcp.take_error(client),
        Some(tcp::TcpError::ConnectionRefused)
    );
}
