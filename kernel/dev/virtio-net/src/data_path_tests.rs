//! The virtio-net data path on the host: a hosted kernel, the real driver
//! (preflight, rings, NIC) on a fake device thread (`fake_device.rs`).
//!
//! Frames cross the virtqueues both ways exactly as they would in QEMU:
//! descriptors in device memory, buffers lent from the packet pool,
//! interrupts raised by the device and served in the NIC's interrupt
//! thread. Every wait has a deadline.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use base::interrupt::Interrupt;
use base::{BootConfig, Context, Kernel};
use dev::fake::FakeDeviceMemory;
use hypercall_posix::{Posix, PosixConfig};
use net::config::parse_address;
use net::wire::{ArpOperation, ArpPacket, EtherType, EthernetHeader, Ipv4Header, MacAddress};
use net::{Errno, MessageFlags, Net, PollEvents, PollFd, SocketOption, SocketType};
use virtio::Started;
use virtio::fake::SoftInterrupt;

use crate::fake_device::{self, FakeDevice, FakeTransport};
use crate::features::Setting;
use crate::nic::VirtioNic;
use crate::preflight;

pub(crate) const NIC_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
pub(crate) const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
pub(crate) const NIC_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 9, 2);
pub(crate) const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 9, 1);

/// A hosted kernel with one virtio NIC on a fake device.
pub(crate) struct Harness {
    pub(crate) device: FakeDevice,
    pub(crate) net: Arc<Net>,
    pub(crate) nic: Arc<VirtioNic<FakeTransport>>,
    // Dropped in this order: the interrupt thread ends before the kernel.
    _interrupt: Arc<Interrupt>,
    kernel: Arc<Kernel>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self::offering(fake_device::OFFLOADING, Setting::All)
    }

    /// A harness whose device offers `features`, the driver taking what
    /// `setting` allows.
    pub(crate) fn offering(features: u64, setting: Setting) -> Self {
        virtio::hal::install_for_tests(Arc::new(FakeDeviceMemory::default()));
        let host = Posix::new(PosixConfig::default());
        let components = net::components::ALL;
        let kernel = Kernel::boot(
            host,
            BootConfig {
                components: &components,
            },
        )
        .expect("boot");
        let context = kernel.enter().expect("enter");
        let net = Net::of(&context).expect("the net faction");
        let raise = SoftInterrupt::default();
        let (device, transport) = FakeDevice::start(NIC_MAC, features, raise.raiser());
        let started = preflight::start(transport, setting).expect("the fake starts");
        let nic = VirtioNic::start(&context, String::from("fake"), started).expect("start");
        let interrupt = raise.establish(&kernel, "vioif fake", nic.clone());
        nic.attach(&context, "software interrupt").expect("attach");
        net.set_interface_up(&context, "vioif0", true).expect("up");
        let address = parse_address("10.0.9.2/24").expect("an address");
        net.set_interface_address(&context, "vioif0", Some(address))
            .expect("address");
        drop(context);
        Self {
            device,
            net,
            nic,
            _interrupt: interrupt,
            kernel,
        }
    }

    pub(crate) fn context(&self) -> Context<'_> {
        self.kernel.enter().expect("enter")
    }

    /// Answers the NIC's ARP request for the peer. The caller holds no
    /// context: the NIC's interrupt thread must run meanwhile.
    pub(crate) fn answer_arp(&self) {
        let request = self
            .device
            .expect_sent("an ARP request for the peer", |frame| {
                arp(frame)
                    .is_some_and(|p| p.operation == ArpOperation::Request && p.target_ip == PEER_IP)
            });
        let request = arp(&request).expect("picked as ARP");
        self.device.inject(&arp_frame(
            ArpOperation::Reply,
            request.sender_mac,
            request.sender_ip,
        ));
    }
}

/// The ARP packet in `frame`, if it is one.
pub(crate) fn arp(frame: &[u8]) -> Option<ArpPacket> {
    let header = EthernetHeader::parse(frame).ok()?;
    (header.ether_type == EtherType::Arp)
        .then(|| ArpPacket::parse(&frame[14..]).ok())
        .flatten()
}

/// An ARP packet from the peer to `target`.
pub(crate) fn arp_frame(
    operation: ArpOperation,
    target_mac: MacAddress,
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    let destination = match operation {
        ArpOperation::Request => MacAddress([0xff; 6]),
        ArpOperation::Reply => target_mac,
    };
    let mut frame = vec![0u8; 14 + 28];
    ethernet(destination, EtherType::Arp).write(&mut frame);
    let packet = ArpPacket {
        operation,
        sender_mac: MacAddress(PEER_MAC),
        sender_ip: PEER_IP,
        target_mac,
        target_ip,
    };
    packet.write(&mut frame[14..]);
    frame
}

pub(crate) fn ethernet(destination: MacAddress, ether_type: EtherType) -> EthernetHeader {
    EthernetHeader {
        destination,
        source: MacAddress(PEER_MAC),
        ether_type,
    }
}

/// An IPv4 packet from the peer to the NIC carrying `payload` of
/// `protocol`, in an Ethernet frame.
pub(crate) fn ipv4_frame(protocol: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 14 + 20];
    ethernet(MacAddress(NIC_MAC), EtherType::Ipv4).write(&mut frame);
    Ipv4Header::new(PEER_IP, NIC_IP, protocol, payload.len()).write(&mut frame[14..]);
    frame.extend_from_slice(payload);
    frame
}

/// An ICMP echo request with `data`, checksum filled in.
pub(crate) fn echo_request(identifier: u16, sequence: u16, data: &[u8]) -> Vec<u8> {
    let mut message = vec![8, 0, 0, 0];
    message.extend_from_slice(&identifier.to_be_bytes());
    message.extend_from_slice(&sequence.to_be_bytes());
    message.extend_from_slice(data);
    let sum = net::wire::checksum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    message
}

/// A UDP datagram from the peer's port 9000 to `port` (checksum 0: none).
pub(crate) fn udp_datagram(port: u16, data: &[u8]) -> Vec<u8> {
    let length = (8 + data.len()) as u16;
    let mut datagram = Vec::new();
    for field in [9000, port, length, 0] {
        datagram.extend_from_slice(&u16::to_be_bytes(field));
    }
    datagram.extend_from_slice(data);
    datagram
}

/// The data of the UDP datagram in `frame`, if it is one from the NIC.
fn udp_data(frame: &[u8]) -> Option<&[u8]> {
    ipv4_payload(frame, 17)?.get(8..)
}

/// The IPv4 payload of `frame` if it is IPv4 of `protocol` from the NIC.
pub(crate) fn ipv4_payload(frame: &[u8], protocol: u8) -> Option<&[u8]> {
    let header = EthernetHeader::parse(frame).ok()?;
    if header.ether_type != EtherType::Ipv4 {
        return None;
    }
    let ip = Ipv4Header::parse(&frame[14..]).ok()?;
    let end = 14 + ip.total_len;
    (ip.protocol == protocol && ip.source == NIC_IP).then(|| &frame[14 + ip.header_len..end])
}

#[test]
fn arp_and_ping_cross_both_rings() {
    let harness = Harness::new();
    let request = arp_frame(ArpOperation::Request, MacAddress([0; 6]), NIC_IP);
    harness.device.inject(&request);
    let reply = harness.device.expect_sent("an ARP reply", |frame| {
        arp(frame).is_some_and(|p| p.operation == ArpOperation::Reply)
    });
    let reply = arp(&reply).expect("ARP");
    assert_eq!(
        (reply.sender_mac, reply.sender_ip),
        (MacAddress(NIC_MAC), NIC_IP)
    );
    assert_eq!(
        (reply.target_mac, reply.target_ip),
        (MacAddress(PEER_MAC), PEER_IP)
    );

    let data: Vec<u8> = (0..56).collect();
    harness
        .device
        .inject(&ipv4_frame(1, &echo_request(0x77, 3, &data)));
    let echo = harness.device.expect_sent("an echo reply", |frame| {
        ipv4_payload(frame, 1).is_some_and(|icmp| icmp.first() == Some(&0))
    });
    let icmp = ipv4_payload(&echo, 1).expect("ICMP");
    assert_eq!(net::wire::checksum(icmp), 0, "a valid checksum");
    assert_eq!(&icmp[4..8], &[0, 0x77, 0, 3]);
    assert_eq!(&icmp[8..], &data[..]);
}

#[test]
fn a_burst_four_times_the_ring_is_received_through_recycled_buffers() {
    const DATAGRAMS: usize = 1_024;
    let harness = Harness::new();
    let context = harness.context();
    let net = &harness.net;
    let socket = net.socket(&context, SocketType::Datagram).expect("socket");
    net.bind(&context, socket, SocketAddrV4::new(NIC_IP, 4000))
        .expect("bind");
    let room = SocketOption::ReceiveBuffer(8 << 20);
    net.set_option(&context, socket, room)
        .expect("a large receive buffer");
    for index in 0..DATAGRAMS {
        let data = (index as u32).to_be_bytes();
        harness
            .device
            .inject(&ipv4_frame(17, &udp_datagram(4000, &data)));
    }
    let device = &harness.device;
    context.block_on_host(|| device.wait_received(DATAGRAMS));
    // Every frame is in a receive buffer; now each reaches the socket or
    // is counted where the stack refused it. None may be lost silently.
    let mut seen = vec![false; DATAGRAMS];
    let mut buffer = [0u8; 64];
    let deadline = context.now_ns() + 10_000_000_000;
    let refused = || udp_queue_full(net, &context) + net.input_dropped(&context);
    let mut delivered = 0;
    while delivered as u64 + refused() < DATAGRAMS as u64 {
        assert!(
            context.now_ns() < deadline,
            "{delivered} delivered, {} refused",
            refused()
        );
        if !wait_readable(net, &context, socket) {
            continue;
        }
        let length = net
            .recv(&context, socket, &mut buffer, MessageFlags::DONT_WAIT)
            .expect("ready");
        assert_eq!(length, 4);
        let index = u32::from_be_bytes(buffer[..4].try_into().unwrap()) as usize;
        assert!(
            !core::mem::replace(&mut seen[index], true),
            "datagram {index} twice"
        );
        delivered += 1;
    }
    assert_eq!(refused(), 0, "the socket had room for all: nothing refused");
}

#[test]
fn a_send_burst_waits_for_the_ring_and_leaves_in_order() {
    const DATAGRAMS: usize = 2_000;
    let harness = Harness::new();
    let context = harness.context();
    let net = &harness.net;
    let socket = net.socket(&context, SocketType::Datagram).expect("socket");
    let peer = SocketAddrV4::new(PEER_IP, 9000);
    net.send_to(&context, socket, b"hello", peer)
        .expect("first send");
    // The burst starts once the neighbour is resolved: until then the
    // stack queues only a few datagrams per neighbour (and counts the
    // rest as dropped), as any stack does.
    context.block_on_host(|| {
        harness.answer_arp();
        let hello = |frame: &[u8]| udp_data(frame) == Some(&b"hello"[..]);
        harness
            .device
            .expect_sent("the datagram that waited for ARP", hello);
    });
    for index in 0..DATAGRAMS as u32 {
        send_when_ready(net, &context, socket, &index.to_be_bytes(), peer);
    }
    let device = &harness.device;
    let last = (DATAGRAMS as u32 - 1).to_be_bytes();
    context.block_on_host(|| {
        device.expect_sent("the last datagram", |frame| {
            udp_data(frame) == Some(&last[..])
        });
    });
    let sent: Vec<u32> = device
        .take_sent()
        .iter()
        .filter_map(|frame| udp_data(frame)?.try_into().ok())
        .map(u32::from_be_bytes)
        .collect();
    // The last was taken above.
    let in_order = sent.iter().copied().eq(0..DATAGRAMS as u32 - 1);
    assert!(
        in_order,
        "{} datagrams, first {:?}",
        sent.len(),
        sent.first()
    );
}

/// Waits up to 100 ms for `socket` to become readable.
pub(crate) fn wait_readable(net: &Net, context: &Context<'_>, socket: net::Fd) -> bool {
    let mut fds = [PollFd::new(socket, PollEvents::READABLE)];
    net.poll(context, &mut fds, Some(100_000_000))
        .expect("poll")
        > 0
}

/// Sends, yielding to the NIC's interrupt thread while the interface's
/// queue is full (as a program polling for POLLOUT would).
fn send_when_ready(
    net: &Net,
    context: &Context<'_>,
    socket: net::Fd,
    data: &[u8],
    to: SocketAddrV4,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match net.send_to(context, socket, data, to) {
            Ok(_) => return,
            Err(Errno::NoBuffers) if std::time::Instant::now() < deadline => context.yield_now(),
            Err(error) => panic!("send: {error}"),
        }
    }
}

fn udp_queue_full(net: &Net, context: &Context<'_>) -> u64 {
    net.with_stack(context, |stack| stack.udp.stats.queue_full)
}
