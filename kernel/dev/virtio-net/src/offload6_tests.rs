//! TSO6 on the data path: the kernel's TCP over IPv6 through the fake.
//!
//! The real driver and stack over the fake device offering every offload
//! (`fake_device.rs`); the kernel sends a 2 MiB stream over TCP/IPv6 to a
//! peer on the far side of the "wire" (the stack's own sans-IO engine,
//! driven by this test's pump, which also answers the kernel's neighbor
//! solicitations). The kernel's TCP hands the device 64 KiB bursts under
//! GSO type TCPV6; the test checks each burst's virtio-net header (type,
//! `hdr_len` reaching past the TCP header, `gso_size` within the MSS),
//! that the device's reference splitter found nothing wrong, and that the
//! pieces it cut put the stream together again, byte for byte.

use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use net::wire::nd::{NeighborAdvertisement, write_neighbor_advertisement};
use net::wire::{EtherType, EthernetHeader, Ipv6Header, MacAddress};
use net::{MessageFlags, Shutdown, SocketType};
use tcp::{Secrets, SocketHandle, Tcp, TcpConfig, TcpError, Transmit};

use crate::data_path_tests::{Harness, NIC_MAC, PEER_MAC, ethernet};
use crate::fake_device::OFFLOADING;
use crate::fake_offload::{GSO_TCPV6, NEEDS_CSUM};
use crate::features::Setting;
use crate::offload_tests::{PeerLink, stream_byte};

const NIC6: Ipv6Addr = Ipv6Addr::new(0xfd00, 9, 0, 0, 0, 0, 0, 2);
const PEER6: Ipv6Addr = Ipv6Addr::new(0xfd00, 9, 0, 0, 0, 0, 0, 1);
const PORT: u16 = 5006;
/// Bytes of the stream.
const STREAM: usize = 2 << 20;
/// How long DAD and the whole transfer may take.
const PATIENCE: Duration = Duration::from_secs(60);
/// Ethernet, IPv6 and TCP header bytes before a burst's payload, at least.
const HEADERS: usize = 14 + 40 + 20;

/// An IPv6 packet from `source` to `destination` carrying `payload` of
/// `next_header` with `hop_limit`, in an Ethernet frame to the NIC.
fn ipv6_frame(
    (source, destination): (Ipv6Addr, Ipv6Addr),
    next_header: u8,
    hop_limit: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut frame = vec![0u8; 14 + 40];
    ethernet(MacAddress(NIC_MAC), EtherType::Ipv6).write(&mut frame);
    let mut header = Ipv6Header::new(source, destination, next_header, payload.len());
    header.hop_limit = hop_limit;
    header.write(&mut frame[14..]);
    frame.extend_from_slice(payload);
    frame
}

/// The peer (its engine, the stream it receives) and the wire.
struct Pump<'a> {
    harness: &'a Harness,
    peer: Tcp,
    started: Instant,
    listener: SocketHandle,
    connection: Option<SocketHandle>,
    received: Vec<u8>,
    finished: bool,
}

impl<'a> Pump<'a> {
    fn new(harness: &'a Harness) -> Self {
        let secrets = Secrets {
            isn_key: [7; 16],
            port_key: [8; 16],
        };
        let config = TcpConfig {
            receive_buffer: 1 << 20,
            ..TcpConfig::default()
        };
        let mut peer = Tcp::new(config, secrets);
        let listener = peer.open().expect("open");
        peer.bind(listener, SocketAddr::from((PEER6, PORT)))
            .expect("bind");
        peer.listen(listener, 4).expect("listen");
        Self {
            harness,
            peer,
            started: Instant::now(),
            listener,
            connection: None,
            received: Vec::new(),
            finished: false,
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_nanos() as u64 + 1
    }

    /// Runs `call` on the peer's engine, then puts what it sent on the
    /// wire.
    fn with_peer<R>(&mut self, call: impl FnOnce(&mut Tcp, u64, &mut dyn Transmit) -> R) -> R {
        let now = self.now();
        let mut outbox = Vec::new();
        let result = call(
            &mut self.peer,
            now,
            &mut PeerLink {
                segments: &mut outbox,
                nic: IpAddr::V6(NIC6),
                peer: IpAddr::V6(PEER6),
            },
        );
        for segment in outbox {
            let frame = ipv6_frame((PEER6, NIC6), 6, 64, &segment);
            self.harness.device.inject(&frame);
        }
        result
    }

    /// One turn: the kernel's frames to the peer, its timers, its reads.
    fn turn(&mut self) {
        self.harness.device.wait_for_sent(Duration::from_millis(2));
        for frame in self.harness.device.take_sent() {
            self.take_from_kernel(&frame);
        }
        if self.peer.next_deadline().is_some_and(|at| at <= self.now()) {
            self.with_peer(|peer, now, tx| peer.on_timer(now, tx));
        }
        self.drain();
    }

    fn take_from_kernel(&mut self, frame: &[u8]) {
        let Ok(link) = EthernetHeader::parse(frame) else {
            return;
        };
        if link.ether_type != EtherType::Ipv6 {
            return;
        }
        let Ok(ip) = Ipv6Header::parse(&frame[14..]) else {
            return;
        };
        let payload = frame[54..54 + ip.payload_len].to_vec();
        match ip.next_header {
            6 if ip.source == NIC6 && ip.destination == PEER6 => {
                self.with_peer(|peer, now, tx| {
                    peer.input(now, NIC6.into(), PEER6.into(), &payload, tx)
                });
            }
            58 if payload.first() == Some(&135) && payload.get(8..24) == Some(&PEER6.octets()) => {
                self.advertise(ip.source);
            }
            _ => {}
        }
    }

    /// Answers a solicitation for the peer's address from `asker`.
    fn advertise(&self, asker: Ipv6Addr) {
        let advertisement = NeighborAdvertisement {
            router: false,
            solicited: true,
            override_cache: true,
            target: PEER6,
        };
        let mut message = [0u8; 32];
        let length =
            write_neighbor_advertisement(&mut message, &advertisement, Some(MacAddress(PEER_MAC)));
        let message = &mut message[..length];
        let sum = net::wire::Checksum::new()
            .add_ipv6_pseudo_header(PEER6, asker, 58, length as u32)
            .add(message)
            .finish();
        message[2..4].copy_from_slice(&sum.to_be_bytes());
        let frame = ipv6_frame((PEER6, asker), 58, 255, message);
        self.harness.device.inject(&frame);
    }

    /// Reads what the kernel sent until the end of file.
    fn drain(&mut self) {
        if self.connection.is_none() {
            let listener = self.listener;
            self.connection = self.with_peer(|peer, _, _| peer.accept(listener)).ok();
        }
        let Some(connection) = self.connection else {
            return;
        };
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match self.with_peer(|peer, now, tx| peer.recv(now, connection, &mut buffer, tx)) {
                Ok(0) => return self.finished = true,
                Ok(count) => self.received.extend_from_slice(&buffer[..count]),
                Err(TcpError::WouldBlock) => return,
                Err(error) => panic!("the peer's recv: {error}"),
            }
        }
    }
}

/// Starts IPv6 (no DAD: the pump answers no probes) and gives the NIC
/// `NIC6`/64, waiting (deadline) until it may be used.
fn configure_ipv6(harness: &Harness) {
    let context = harness.context();
    let net = &harness.net;
    let config = net::ipv6::Ipv6Config {
        enabled: true,
        dad_transmits: 0,
        ..Default::default()
    };
    net.with_stack(&context, |stack| stack.set_ipv6_config(config));
    net.add_interface_address6(&context, "vioif0", NIC6, 64)
        .expect("the address");
    let deadline = Instant::now() + PATIENCE;
    let usable = |stack: &mut net::Stack| {
        let mut addresses = stack.ip.interfaces.iter().flat_map(|i| &i.ipv6.addresses);
        addresses.any(|a| a.address == NIC6 && a.usable())
    };
    while !net.with_stack(&context, usable) {
        assert!(Instant::now() < deadline, "the address never became usable");
        context.yield_now();
    }
}

/// The kernel's side: connect to the peer over IPv6, send, close.
fn kernel_sends(harness: &Harness) {
    let context = harness.context();
    let net = &harness.net;
    let fd = net.socket(&context, SocketType::Stream).expect("socket");
    net.connect(&context, fd, SocketAddr::from((PEER6, PORT)))
        .expect("connect");
    let mut sent = 0;
    while sent < STREAM {
        let end = STREAM.min(sent + 256 * 1024);
        let block: Vec<u8> = (sent..end).map(stream_byte).collect();
        sent += net
            .send(&context, fd, &block, MessageFlags::NONE)
            .expect("send");
    }
    net.shutdown(&context, fd, Shutdown::Write)
        .expect("shutdown");
    net.close(&context, fd).expect("close");
}

#[test]
fn tcp_over_ipv6_goes_to_the_device_in_tso6_bursts_that_it_cuts_whole() {
    let harness = Harness::offering(OFFLOADING, Setting::All);
    configure_ipv6(&harness);
    let mut pump = Pump::new(&harness);
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| kernel_sends(&harness));
        let deadline = Instant::now() + PATIENCE;
        while !(worker.is_finished() && pump.finished) {
            assert!(Instant::now() < deadline, "the transfer did not finish");
            pump.turn();
        }
        worker.join().expect("the kernel's side");
    });
    assert_eq!(pump.received.len(), STREAM, "the peer got every byte");
    let expected: Vec<u8> = (0..STREAM).map(stream_byte).collect();
    assert!(
        pump.received == expected,
        "the pieces put the stream together"
    );
    assert_eq!(pump.peer.stats().bad_checksums, 0, "every piece sums");
    let (segmented, faults) = harness.device.offload_report();
    assert_eq!(faults, Vec::<&str>::new(), "the device found nothing wrong");
    let bursts = harness.device.bursts();
    assert!(segmented > 0 && bursts.len() == segmented, "TSO6 bursts");
    for (header, length) in bursts {
        assert_eq!(header.gso_type, GSO_TCPV6, "{header:?}");
        assert_eq!(header.flags & NEEDS_CSUM, NEEDS_CSUM);
        assert_eq!(header.checksum_start, 14 + 40, "the TCP header");
        let headers = usize::from(header.header_length);
        assert!((HEADERS..=HEADERS + 40).contains(&headers), "{header:?}");
        let size = usize::from(header.segment_size);
        assert!(size > 1000 && headers + size <= 14 + 1500, "{header:?}");
        assert!(length > headers + size, "more than one segment's worth");
    }
}
