//! Fuzz targets for IPv6: its parsers (fixed header, extension-header
//! walk, ICMPv6, Neighbor Discovery, MLD) and IPv6, ICMPv6 and ND frames
//! into `Stack::input`.
//!
//! Parsers: no input makes one panic or allocate; what parses writes
//! back to what parses the same. The stack: two stacks with IPv6 running
//! trade real traffic (DAD, MLD, router solicitations, ping6 whole and
//! fragmented) while a router played by the test advertises a prefix
//! with DNS servers; each step then mutates one of those frames, or
//! builds a packet from generated parts (addresses from the link, a
//! chain of extension headers, an ICMPv6 message of a chosen type with
//! a valid checksum), or lets time pass. Properties: no panic; every
//! frame the stack sends is well formed (IPv6 header, ICMPv6 checksum);
//! its neighbor cache, addresses, routers, DNS servers, packet buffers
//! and heap stay bounded; fragments are given back by the timeout.

use std::net::Ipv6Addr;
use std::sync::Arc;

use base::Context;
use base::memory::Memory;
use bolero::{TypeGenerator, check};
use fuzz::{CountingAllocator, measure};
use hypercall_posix::{Posix, PosixConfig};
use net::ipv6::Ipv6Config;
use net::{
    DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, MacAddress, NetworkDevice, PacketBuffer,
    PacketPool, Stack,
};
use wire::ipv6::{addresses, next_header};
use wire::mld::MldQuery;
use wire::nd::{PrefixInformation, RouterAdvertisement, RouterAdvertisementOptions};
use wire::{EtherType, EthernetHeader, Icmpv6Message, Ipv6Header, NdPacket};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const LAN: InterfaceIndex = InterfaceIndex(0);
const MILLISECOND: u64 = 1_000_000;
const POOL_MEMORY: usize = 8 << 20;
const HEAP_BOUND: usize = 48 << 20;
const ROUTER_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 0xfe]);

fn without_allocating<R>(parse: impl FnOnce() -> R) -> R {
    let (result, usage) = measure(parse);
    assert_eq!(usage.allocations, 0, "a parser allocated");
    result
}

#[test]
fn ipv6_parsers_never_panic_and_headers_write_back() {
    let source: Ipv6Addr = "fe80::1".parse().unwrap();
    let destination: Ipv6Addr = "ff02::1".parse().unwrap();
    check!().for_each(|bytes: &[u8]| {
        without_allocating(|| {
            let _ = wire::extension::walk(bytes, bytes.first().copied().unwrap_or(0), 1, 0, false);
            let _ = wire::extension::skip(bytes, bytes.first().copied().unwrap_or(0), 1);
            let _ = Icmpv6Message::parse(bytes, source, destination);
            if let Ok(packet) = NdPacket::parse(bytes) {
                let servers: usize = packet.options().map(|o| o.servers().count()).sum();
                assert!(servers <= bytes.len() / 16);
            }
            let _ = MldQuery::parse(bytes);
        });
        let Ok(header) = without_allocating(|| Ipv6Header::parse(bytes)) else {
            return;
        };
        let mut written = [0u8; 40];
        header.write(&mut written);
        assert_eq!(written[..], bytes[..40]);
    });
}

/// A device the stack never calls.
struct Unused;

impl NetworkDevice for Unused {
    fn transmit(&self, _: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy> {
        Err(DeviceBusy(frame))
    }
}

fn stack(host: u8, posix: &Arc<Posix>) -> Stack {
    let memory = Arc::new(Memory::new(posix.clone(), POOL_MEMORY));
    let pool = PacketPool::new(&memory).expect("a packet pool");
    let seeds = net::stack::StackSeeds {
        tcp: tcp::Secrets {
            isn_key: [host; 16],
            port_key: [host ^ 0x55; 16],
        },
        ports: [host ^ 0xaa; 16],
        identification: u16::from(host),
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
    stack.set_now(MILLISECOND);
    stack.set_up(index, true).expect("up");
    stack.set_ipv6_config(Ipv6Config {
        enabled: true,
        ..Ipv6Config::default()
    });
    stack
}

/// Asserts that A sent an IPv6 frame B can parse, ICMPv6 sealed.
fn assert_well_formed(frame: &[u8]) {
    let header = EthernetHeader::parse(frame).expect("an Ethernet header");
    if header.ether_type != EtherType::Ipv6 {
        return;
    }
    let packet = &frame[14..];
    let ip = Ipv6Header::parse(packet).expect("an IPv6 header");
    let packet = &packet[..40 + ip.payload_len];
    let chain = wire::extension::walk(packet, ip.next_header, 40, 6, false).expect("a chain");
    // A fragment holds part of a message: its checksum is the whole's.
    if chain.protocol == next_header::ICMPV6 && chain.fragment.is_none() {
        let message = &packet[chain.offset..];
        Icmpv6Message::parse(message, ip.source, ip.destination).expect("a sealed message");
    }
}

struct Link {
    a: Stack,
    b: Stack,
    now: u64,
    templates: Vec<Vec<u8>>,
}

impl Link {
    fn input(stack: &mut Stack, bytes: &[u8]) {
        let Ok(mut buffer) = stack.ip.pool.allocate() else {
            return;
        };
        if let Ok(data) = buffer.reset(bytes.len()) {
            data.copy_from_slice(bytes);
            stack.input(LAN, buffer);
        }
    }

    fn pump(&mut self) {
        for _ in 0..1_000 {
            let from_a = self.a.take_output(LAN);
            let from_b = self.b.take_output(LAN);
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

    fn advance(&mut self, step: u64) {
        self.now += step;
        for stack in [&mut self.a, &mut self.b] {
            stack.set_now(self.now);
            stack.on_timer();
        }
        self.pump();
    }

    fn check(&self) {
        let v6 = &self.a.ip.v6;
        assert!(v6.neighbors.len() <= net::ipv6::neighbor::TABLE_LIMIT);
        assert!(v6.routes.routers().len() <= net::ipv6::MAX_ROUTERS);
        assert!(v6.routes.prefixes().len() <= net::ipv6::MAX_PREFIXES);
        assert!(self.a.ipv6_dns_servers().len() <= net::ipv6::dns::MAX_SERVERS);
        let interface = self.a.ip.interface(LAN).expect("the interface");
        assert!(interface.ipv6.addresses.len() <= net::ipv6::address::MAX_ADDRESSES);
        assert_eq!(self.a.tcp.check_invariants(), Ok(()));
    }
}

/// A router advertisement for fd00:1::/64 with a DNS server, as a frame.
fn router_advertisement() -> Vec<u8> {
    let fixed = RouterAdvertisement {
        hop_limit: 64,
        lifetime_s: 1800,
        ..RouterAdvertisement::default()
    };
    let prefixes = [PrefixInformation {
        prefix_length: 64,
        on_link: true,
        autonomous: true,
        valid_s: 600,
        preferred_s: 300,
        prefix: "fd00:1::".parse().unwrap(),
    }];
    let servers = ["fd00:1::53".parse().unwrap()];
    let options = RouterAdvertisementOptions {
        source_link: Some(ROUTER_MAC),
        prefixes: &prefixes,
        mtu: Some(1480),
        dns_servers: Some((600, &servers)),
    };
    let mut message = vec![0u8; options.message_len()];
    wire::nd::write_router_advertisement(&mut message, &fixed, &options);
    let router: Ipv6Addr = "fe80::1".parse().unwrap();
    packet_frame(
        router,
        addresses::ALL_NODES,
        255,
        next_header::ICMPV6,
        &[],
        message,
        true,
    )
}

/// An Ethernet frame holding an IPv6 packet from the parts; the ICMPv6
/// message (when `next` ends the chain as ICMPv6) sealed if `seal`.
fn packet_frame(
    source: Ipv6Addr,
    destination: Ipv6Addr,
    hop_limit: u8,
    next: u8,
    chain: &[u8],
    mut message: Vec<u8>,
    seal: bool,
) -> Vec<u8> {
    if seal && message.len() >= 4 {
        wire::icmpv6::seal(&mut message, source, destination);
    }
    let mut header = Ipv6Header::new(source, destination, next, chain.len() + message.len());
    header.hop_limit = hop_limit;
    let to = match destination.is_multicast() {
        true => MacAddress::ipv6_multicast(destination),
        false => MacAddress([2, 0, 0, 0, 0, 1]),
    };
    let mut frame = vec![0u8; 54];
    EthernetHeader {
        destination: to,
        source: ROUTER_MAC,
        ether_type: EtherType::Ipv6,
    }
    .write(&mut frame);
    header.write(&mut frame[14..]);
    frame.extend_from_slice(chain);
    frame.extend_from_slice(&message);
    frame
}

/// Traffic of every IPv6 kind: DAD, MLD, RS, a router's RA, ping6 whole
/// and in fragments.
fn traffic(link: &mut Link) {
    link.advance(1_500 * MILLISECOND);
    link.advance(1_500 * MILLISECOND);
    let advertisement = router_advertisement();
    link.templates.push(advertisement.clone());
    Link::input(&mut link.a, &advertisement);
    Link::input(&mut link.b, &advertisement);
    link.advance(1_500 * MILLISECOND);
    link.advance(1_500 * MILLISECOND);
    let a = link.a.ip.interface(LAN).and_then(|i| i.ipv6.link_local());
    let a = a.expect("A's link-local address");
    link.b
        .ip
        .send_echo_request6(a, None, (1, 1), b"ping6", None)
        .expect("sent");
    link.b
        .ip
        .send_echo_request6(a, None, (1, 2), &[0x42; 3000], None)
        .expect("sent");
    link.pump();
    // A resolves B's SLAAC address: B advertises it.
    let b = link.b.ip.interface(LAN).expect("B's interface");
    let formed = b.ipv6.addresses.iter();
    let mut formed = formed.filter(|a| a.origin == net::ipv6::address::Origin::Slaac);
    let b_global = formed.next().expect("B's SLAAC address").address;
    let sent = link
        .a
        .ip
        .send_echo_request6(b_global, None, (2, 1), b"to B", None);
    sent.expect("sent");
    link.pump();
}

mod crafted;

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
    match mutation.kind % 5 {
        0 if at < frame.len() => frame[at] ^= 1 << (mutation.value % 8),
        1 => frame.truncate(at),
        2 if at < frame.len() => frame[at] = mutation.value,
        3 => {
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
    Crafted(crafted::Crafted),
    Pump,
    Advance(u16),
}

#[test]
fn ipv6_frames_never_break_the_stack() {
    let posix = Posix::new(PosixConfig::default());
    check!().with_type::<Vec<Step>>().for_each(|steps| {
        let ((), usage) = measure(|| {
            let mut link = Link {
                a: stack(1, &posix),
                b: stack(2, &posix),
                now: MILLISECOND,
                templates: Vec::new(),
            };
            traffic(&mut link);
            for step in steps.iter().take(64) {
                match step {
                    Step::Frame(mutation) => {
                        let frame = mutate(&link.templates, mutation);
                        Link::input(&mut link.a, &frame);
                    }
                    Step::Crafted(parts) => {
                        let frame = parts.frame(&link.a);
                        Link::input(&mut link.a, &frame);
                    }
                    Step::Pump => link.pump(),
                    Step::Advance(ms) => link.advance(u64::from(*ms) * MILLISECOND),
                }
                link.check();
            }
            link.advance(70_000 * MILLISECOND);
            assert_eq!(
                link.a.ip.v6.reassembly.held(),
                0,
                "fragments outlived the timeout"
            );
        });
        assert!(usage.peak_bytes <= HEAP_BOUND, "{usage:?}");
    });
}

#[test]
fn the_templates_hold_every_ipv6_message_the_stack_speaks() {
    let posix = Posix::new(PosixConfig::default());
    let mut link = Link {
        a: stack(1, &posix),
        b: stack(2, &posix),
        now: MILLISECOND,
        templates: Vec::new(),
    };
    traffic(&mut link);
    let mut seen = Vec::new();
    for frame in &link.templates {
        let packet = &frame[14..];
        let ip = Ipv6Header::parse(packet).expect("B's packets parse");
        let upper = wire::extension::skip(packet, ip.next_header, 40);
        seen.push(match upper {
            _ if ip.next_header == next_header::FRAGMENT => 44,
            Some((next_header::ICMPV6, at)) => packet[at],
            _ => 0,
        });
    }
    // NS, NA, RS, RA, MLDv2 report, echo request, and fragments.
    for kind in [135, 136, 133, 134, 143, 128, 44] {
        assert!(seen.contains(&kind), "no template of {kind}: {seen:?}");
    }
}
