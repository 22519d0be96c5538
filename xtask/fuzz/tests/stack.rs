//! Fuzz target for the network stack's input path, `Stack::input`: frames
//! into a stack that has neighbours, UDP and TCP sockets, a fragmented
//! datagram and an ICMP exchange behind it, and that routes (forwarding
//! on, a second interface at 10.0.1.1/24), so what is not for it goes
//! through the forwarding checks and out.
//!
//! The templates are the frames its peer really sent while that traffic
//! ran (ARP, ICMP, UDP, fragments, TCP), and an ICMP "fragmentation
//! needed" quoting a segment of the stack's own still in flight (its path
//! MTU discovery); each step mutates one (bits
//! flipped, cut short, bytes overwritten, a field set to an extreme, a
//! random tail) or sends raw bytes, and time passes with every timer
//! run. Properties: no frame makes the stack panic; its TCP engine keeps
//! its invariants; every frame it sends, on either interface, is well
//! formed (Ethernet, then ARP or an IPv4 header with a valid checksum); its packet buffers and
//! its heap stay bounded, and the reassembly timeout gives fragments back.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use base::Context;
use base::memory::Memory;
use bolero::{TypeGenerator, check};
use fuzz::{CountingAllocator, measure};
use hypercall_posix::{Posix, PosixConfig};
use net::interface::InterfaceAddress;
use net::{
    DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, MacAddress, NetworkDevice, PacketBuffer,
    PacketPool, Stack,
};
use wire::{ArpPacket, EtherType, EthernetHeader, Ipv4Header};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const INTERFACE: InterfaceIndex = InterfaceIndex(0);
/// A's second interface, where it forwards to 10.0.1.0/24.
const BEYOND: InterfaceIndex = InterfaceIndex(1);
const MILLISECOND: u64 = 1_000_000;
/// What one stack's packet pool may draw from the host.
const POOL_MEMORY: usize = 8 << 20;
/// How far a run's heap may rise on this thread (the pools' pages come
/// from the host's page allocator, which is the heap here).
const HEAP_BOUND: usize = 48 << 20;

/// A device the stack never calls: frames are taken from its queue.
struct Unused;

impl NetworkDevice for Unused {
    fn transmit(&self, _: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy> {
        Err(DeviceBusy(frame))
    }
}

fn address(host: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, host)
}

/// A stack at 10.0.0.`host`/24 on one Ethernet interface.
fn stack(host: u8, posix: &Arc<Posix>) -> Stack {
    let memory = Arc::new(Memory::new(posix.clone(), POOL_MEMORY));
    let pool = PacketPool::new(&memory).expect("a packet pool");
    let seeds = net::stack::StackSeeds {
        tcp: tcp::Secrets {
            isn_key: [host; 16],
            port_key: [host ^ 0x55; 16],
        },
        ports: [host ^ 0xaa; 16],
        identification: u16::from(host) * 100,
        dhcp: u64::from(host),
    };
    let mut stack = Stack::new(pool, seeds, tcp::TcpConfig::default());
    let spec = InterfaceSpec {
        name_prefix: "vif",
        kind: LinkKind::Ethernet,
        mac: MacAddress([2, 0, 0, 0, 0, host]),
        mtu: 1500,
        offloads: net::Offloads::NONE,
    };
    let index = stack.attach(spec, Arc::new(Unused)).expect("attached");
    stack.set_up(index, true).expect("up");
    let configured = InterfaceAddress {
        address: address(host),
        prefix_length: 24,
    };
    stack
        .set_address(index, Some(configured))
        .expect("addressed");
    stack
}

/// The stack under test (A), its peer (B), the clock and B's frames.
struct Link {
    a: Stack,
    b: Stack,
    now: u64,
    templates: Vec<Vec<u8>>,
}

/// Asserts that A sent a frame the other side can parse.
fn assert_well_formed(frame: &[u8]) {
    let header = EthernetHeader::parse(frame).expect("an Ethernet header");
    let payload = &frame[wire::ethernet::HEADER_LEN..];
    match header.ether_type {
        EtherType::Arp => drop(ArpPacket::parse(payload).expect("an ARP packet")),
        EtherType::Ipv4 => drop(Ipv4Header::parse(payload).expect("an IPv4 header")),
        EtherType::Ipv6 => drop(wire::Ipv6Header::parse(payload).expect("an IPv6 header")),
        EtherType::Other(kind) => panic!("a frame of EtherType {kind:#06x}"),
    }
}

impl Link {
    fn new(posix: &Arc<Posix>) -> Self {
        let mut link = Self {
            a: stack(1, posix),
            b: stack(2, posix),
            now: 1_000 * MILLISECOND,
            templates: Vec::new(),
        };
        link.a.set_now(link.now);
        link.b.set_now(link.now);
        link.route_beyond();
        link
    }

    /// Makes A a router with a second interface at 10.0.1.1/24.
    fn route_beyond(&mut self) {
        let spec = InterfaceSpec {
            name_prefix: "vif",
            kind: LinkKind::Ethernet,
            mac: MacAddress([2, 0, 0, 0, 1, 1]),
            mtu: 1280,
            offloads: net::Offloads::NONE,
        };
        let index = self.a.attach(spec, Arc::new(Unused)).expect("attached");
        assert_eq!(index, BEYOND);
        self.a.set_up(index, true).expect("up");
        let beyond = InterfaceAddress {
            address: Ipv4Addr::new(10, 0, 1, 1),
            prefix_length: 24,
        };
        self.a.set_address(index, Some(beyond)).expect("addressed");
        self.a.set_forwarding(true);
    }

    fn input(stack: &mut Stack, bytes: &[u8]) {
        let Ok(mut buffer) = stack.ip.pool.allocate() else {
            return;
        };
        if let Ok(data) = buffer.reset(bytes.len()) {
            data.copy_from_slice(bytes);
            stack.input(INTERFACE, buffer);
        }
    }

    /// Frames in flight both ways until quiet; B's are kept as templates.
    fn pump(&mut self) {
        for _ in 0..1_000 {
            for frame in self.a.take_output(BEYOND) {
                assert_well_formed(frame.data());
            }
            let from_a = self.a.take_output(INTERFACE);
            let from_b = self.b.take_output(INTERFACE);
            if from_a.is_empty() && from_b.is_empty() {
                return;
            }
            for frame in from_a {
                assert_well_formed(frame.data());
                Self::input(&mut self.b, frame.data());
            }
            for frame in from_b {
                if self.templates.len() < 256 {
                    self.templates.push(frame.data().to_vec());
                }
                Self::input(&mut self.a, frame.data());
            }
        }
        panic!("the stacks kept sending at one instant");
    }

    /// Moves the clock by `step` and runs both stacks' timers.
    fn advance(&mut self, step: u64) {
        self.now += step;
        for stack in [&mut self.a, &mut self.b] {
            stack.set_now(self.now);
            stack.on_timer();
        }
        self.pump();
    }

    fn check(&self) {
        assert_eq!(self.a.tcp.check_invariants(), Ok(()));
        assert!(
            self.a.ip.pool.in_use() <= POOL_MEMORY,
            "the pool outgrew its memory"
        );
    }
}

/// Traffic from B to A of every kind the stack speaks: ARP and ping,
/// UDP to an open and a closed port, a datagram in fragments, TCP.
fn traffic(link: &mut Link) {
    let Stack { ip, udp, ports, .. } = &mut link.a;
    let echo = udp.open().expect("a UDP socket");
    let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 7));
    udp.bind(ip, ports, echo, any).expect("bound");
    let listener = link.a.tcp.open().expect("a TCP socket");
    let port_80 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80));
    link.a.tcp.bind(listener, port_80).expect("bound");
    link.a.tcp.listen(listener, 8).expect("listening");
    let Stack {
        ip,
        icmp,
        udp,
        ports,
        tcp,
        ..
    } = &mut link.b;
    icmp.send_echo_request(ip, address(1), (7, 1), b"ping", 64)
        .expect("sent");
    let client = udp.open().expect("a UDP socket");
    udp.bind(
        ip,
        ports,
        client,
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
    )
    .expect("bound");
    for (port, size) in [(7, 16), (9, 16), (7, 4_000)] {
        let to = SocketAddr::from((address(1), port));
        udp.send_to(ip, ports, client, &vec![0x42; size], Some(to))
            .expect("sent");
    }
    let connection = tcp.open().expect("a TCP socket");
    let to = SocketAddr::from((address(1), 80));
    tcp.connect(link.now, connection, to, ip)
        .expect("connecting");
    link.pump();
    let Stack { ip, tcp, .. } = &mut link.b;
    tcp.send(link.now, connection, &[0x17; 3_000], ip)
        .expect("sent");
    link.pump();
    // A answers with data that is lost on the way: it stays in flight,
    // and a router's "fragmentation needed" quoting it is a template.
    let server = link.a.tcp.accept(listener).expect("accepted");
    let Stack { ip, tcp, .. } = &mut link.a;
    tcp.send(link.now, server, &[0x18; 20_000], ip)
        .expect("sent");
    let lost = link.a.take_output(INTERFACE);
    let first = lost.first().expect("a segment").data();
    link.templates.push(fragmentation_needed(first, 1280));
}

/// B's ICMP "fragmentation needed" (RFC 1191) about A's `frame`, naming
/// `mtu` as the next hop's.
fn fragmentation_needed(frame: &[u8], mtu: u16) -> Vec<u8> {
    let ethernet = wire::ethernet::HEADER_LEN;
    let quote = &frame[ethernet..ethernet + 28];
    let mut message = vec![0u8; 8 + quote.len()];
    message[8..].copy_from_slice(quote);
    let kind = wire::IcmpKind::DestinationUnreachable { code: 4 };
    wire::IcmpMessage { kind }.write(&mut message);
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
    Ipv4Header::new(
        address(2),
        address(1),
        wire::ipv4::protocol::ICMP,
        message.len(),
    )
    .write(&mut out[ethernet..]);
    out[ethernet + 20..].copy_from_slice(&message);
    out
}

/// One mutation of a template, or raw bytes, by `kind`.
#[derive(Debug, TypeGenerator)]
struct Mutation {
    kind: u8,
    template: u16,
    at: u16,
    value: u8,
    bytes: Vec<u8>,
}

fn mutate(templates: &[Vec<u8>], mutation: &Mutation) -> Vec<u8> {
    let Some(template) = templates.get(usize::from(mutation.template) % templates.len().max(1))
    else {
        return mutation.bytes.clone();
    };
    let mut frame = template.clone();
    let body = frame.len().saturating_sub(14).max(1);
    let at = 14 + usize::from(mutation.at) % body;
    match mutation.kind % 6 {
        0 if at < frame.len() => frame[at] ^= 1 << (mutation.value % 8),
        1 => frame.truncate(at),
        2 if at < frame.len() => frame[at] = mutation.value,
        3 if at < frame.len() => frame[at] = [0, 0xff, 0x7f, 0x80][usize::from(mutation.value % 4)],
        4 => {
            frame.truncate(at);
            frame.extend_from_slice(&mutation.bytes);
        }
        _ => return mutation.bytes.clone(),
    }
    frame
}

#[derive(Debug, TypeGenerator)]
enum Step {
    Frame(Mutation),
    Pump,
    Advance(u16),
}

#[test]
fn mutated_frames_never_break_the_stack() {
    let posix = Posix::new(PosixConfig::default());
    check!().with_type::<Vec<Step>>().for_each(|steps| {
        let ((), usage) = measure(|| {
            let mut link = Link::new(&posix);
            traffic(&mut link);
            for step in steps.iter().take(64) {
                match step {
                    Step::Frame(mutation) => {
                        let frame = mutate(&link.templates, mutation);
                        link.a.set_now(link.now);
                        Link::input(&mut link.a, &frame);
                    }
                    Step::Pump => link.pump(),
                    Step::Advance(milliseconds) => {
                        link.advance(u64::from(*milliseconds) * MILLISECOND)
                    }
                }
                link.check();
            }
            link.advance(60_000 * MILLISECOND);
            assert_eq!(
                link.a.ip.reassembly.held(),
                0,
                "fragments outlived their timeout"
            );
        });
        assert!(usage.peak_bytes <= HEAP_BOUND, "{usage:?}");
    });
}

#[test]
fn the_templates_hold_every_protocol_the_stack_speaks() {
    let posix = Posix::new(PosixConfig::default());
    let mut link = Link::new(&posix);
    traffic(&mut link);
    let mut seen = Vec::new();
    for frame in &link.templates {
        let header = EthernetHeader::parse(frame).expect("B's frames parse");
        let payload = &frame[wire::ethernet::HEADER_LEN..];
        match header.ether_type {
            EtherType::Arp => seen.push("arp"),
            EtherType::Ipv4 => {
                let ip = Ipv4Header::parse(payload).expect("B's packets parse");
                seen.push(match ip.protocol {
                    _ if ip.is_fragment() => "fragment",
                    wire::ipv4::protocol::ICMP => "icmp",
                    wire::ipv4::protocol::UDP => "udp",
                    wire::ipv4::protocol::TCP => "tcp",
                    _ => "other",
                });
            }
            EtherType::Ipv6 => seen.push("ipv6"),
            EtherType::Other(_) => seen.push("other"),
        }
    }
    for protocol in ["arp", "icmp", "udp", "fragment", "tcp"] {
        assert!(seen.contains(&protocol), "no {protocol} template: {seen:?}");
    }
    assert_eq!(link.a.tcp.connection_count(), 1, "the connection is up");
    // The "fragmentation needed" template reaches path MTU discovery.
    let template = link.templates.last().expect("templates").clone();
    Link::input(&mut link.a, &template);
    assert_eq!(link.a.tcp.stats().path_mtu_lowered, 1);
}
