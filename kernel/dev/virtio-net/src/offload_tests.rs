//! Offloads on the data path: driver and stack against a TCP peer.
//!
//! The offloads on the data path: the real driver and stack over a fake
//! device that offers them (`fake_device.rs`, its reference splitter in
//! `fake_offload.rs`), against a TCP peer on the far side of the "wire":
//! the stack's own sans-IO engine, driven by this test's pump thread.
//!
//! - Sending: the kernel's TCP hands the device 64 KiB bursts with partial
//!   checksums; the device cuts and completes them; the peer's engine
//!   checks every segment's sum and the stream's hash.
//! - Receiving: the pump coalesces the peer's segments into large frames
//!   across merged buffers, marked `NEEDS_CSUM` (partial) or `DATA_VALID`,
//!   and corrupts some plain ones, which the kernel must still catch.
//! - Malformed headers are dropped and counted, and the driver stays in
//!   step with the device.
//!
//! Every wait has a deadline.

use alloc::vec;
use alloc::vec::Vec;
use core::hash::Hasher;
use core::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use net::wire::{ArpOperation, MacAddress};
use net::{MessageFlags, Shutdown, SocketType};
use tcp::{Offload, Route, Secrets, SocketHandle, Tcp, TcpConfig, TcpError, Transmit};

use crate::data_path_tests::{Harness, NIC_IP, PEER_IP, arp, arp_frame, echo_request};
use crate::data_path_tests::{ipv4_frame, ipv4_payload, udp_datagram, wait_readable};
use crate::fake_device::OFFLOADING;
use crate::fake_offload::{DATA_VALID, GSO_TCPV4, NEEDS_CSUM};
use crate::features::Setting;

/// The peer's port.
const PORT: u16 = 5001;
/// Bytes of each stream.
const STREAM: usize = 2 << 20;
/// How long a whole transfer may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// The `index`-th byte of a stream: not a short cycle.
pub(crate) fn stream_byte(index: usize) -> u8 {
    (index.wrapping_mul(0x9e37_79b9) >> 13) as u8 ^ index as u8
}

fn stream_hash(length: usize) -> u64 {
    let mut hash = std::hash::DefaultHasher::new();
    for index in 0..length {
        hash.write_u8(stream_byte(index));
    }
    hash.finish()
}

/// The peer's way to the wire: the segments it sends to `nic`, from
/// `peer` (either family).
pub(crate) struct PeerLink<'a> {
    pub(crate) segments: &'a mut Vec<Vec<u8>>,
    pub(crate) nic: IpAddr,
    pub(crate) peer: IpAddr,
}

impl Transmit for PeerLink<'_> {
    fn route(&self, destination: IpAddr, _zone: u32) -> Option<Route> {
        (destination == self.nic).then_some(Route {
            source: self.peer,
            mtu: 1500,
            zone: 0,
            offload: Offload::NONE,
        })
    }

    fn send(
        &mut self,
        _path: tcp::Path,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), tcp::TransmitError> {
        let mut segment = vec![0u8; length];
        fill(&mut segment);
        self.segments.push(segment);
        Ok(())
    }
}

/// How the pump hands the peer's segments to the device.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// One frame per segment, no header flags.
    Plain,
    /// Runs of data segments coalesced into one frame, with these flags;
    /// every 50th data segment alone, plain and corrupted.
    Coalesced(u8),
}

/// The peer and the wire, run by the pump thread.
struct Pump<'a> {
    harness: &'a Harness,
    peer: Tcp,
    started: Instant,
    outbox: Vec<Vec<u8>>,
    delivery: Delivery,
    plain_frames: usize,
    pub corrupted: u64,
}

impl<'a> Pump<'a> {
    fn new(harness: &'a Harness, delivery: Delivery) -> Self {
        let secrets = Secrets {
            isn_key: [7; 16],
            port_key: [8; 16],
        };
        let config = TcpConfig {
            receive_buffer: 1 << 20,
            send_buffer: 1 << 20,
            ..TcpConfig::default()
        };
        Self {
            harness,
            peer: Tcp::new(config, secrets),
            started: Instant::now(),
            outbox: Vec::new(),
            delivery,
            plain_frames: 0,
            corrupted: 0,
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_nanos() as u64 + 1
    }

    /// Runs `call` on the peer's engine, then puts what it sent on the
    /// wire.
    fn with_peer<R>(&mut self, call: impl FnOnce(&mut Tcp, u64, &mut dyn Transmit) -> R) -> R {
        let now = self.now();
        let mut outbox = core::mem::take(&mut self.outbox);
        let result = call(
            &mut self.peer,
            now,
            &mut PeerLink {
                segments: &mut outbox,
                nic: IpAddr::V4(NIC_IP),
                peer: IpAddr::V4(PEER_IP),
            },
        );
        self.deliver(outbox);
        result
    }

    /// One turn: the kernel's frames to the peer, the peer's timers.
    fn turn(&mut self) {
        self.harness.device.wait_for_sent(Duration::from_millis(2));
        for frame in self.harness.device.take_sent() {
            self.take_from_kernel(&frame);
        }
        if self.peer.next_deadline().is_some_and(|at| at <= self.now()) {
            self.with_peer(|peer, now, tx| peer.on_timer(now, tx));
        }
    }

    fn take_from_kernel(&mut self, frame: &[u8]) {
        if let Some(request) = arp(frame).filter(|p| p.operation == ArpOperation::Request) {
            if request.target_ip == PEER_IP {
                let reply = arp_frame(ArpOperation::Reply, request.sender_mac, request.sender_ip);
                self.harness.device.inject(&reply);
            }
            return;
        }
        if let Some(segment) = ipv4_payload(frame, 6) {
            let segment = segment.to_vec();
            self.with_peer(|peer, now, tx| {
                peer.input(now, NIC_IP.into(), PEER_IP.into(), &segment, tx)
            });
        }
    }

    fn deliver(&mut self, segments: Vec<Vec<u8>>) {
        match self.delivery {
            Delivery::Plain => segments.iter().for_each(|s| self.inject_plain(s)),
            Delivery::Coalesced(flags) => self.coalesce(segments, flags),
        }
    }

    fn inject_plain(&mut self, segment: &[u8]) {
        self.harness.device.inject(&ipv4_frame(6, segment));
    }

    /// Merges runs of consecutive full data segments into one frame, as a
    /// device coalescing a host's TSO output would; the rest go plain.
    /// Every 50th data segment goes alone, corrupted, without flags.
    fn coalesce(&mut self, segments: Vec<Vec<u8>>, flags: u8) {
        let mut run: Vec<Vec<u8>> = Vec::new();
        for segment in segments {
            let data = segment.len() > header_length(&segment);
            self.plain_frames += usize::from(data);
            if data && self.plain_frames.is_multiple_of(50) {
                self.flush_run(core::mem::take(&mut run), flags);
                self.inject_corrupted(&segment);
                continue;
            }
            if !mergeable(&run, &segment) {
                self.flush_run(core::mem::take(&mut run), flags);
            }
            run.push(segment);
        }
        self.flush_run(run, flags);
    }

    fn inject_corrupted(&mut self, segment: &[u8]) {
        let mut frame = ipv4_frame(6, segment);
        let last = frame.len() - 1;
        frame[last] ^= 0x40;
        self.corrupted += 1;
        self.harness.device.inject(&frame);
    }

    fn flush_run(&mut self, run: Vec<Vec<u8>>, flags: u8) {
        if run.len() < 2 {
            run.iter().for_each(|segment| self.inject_plain(segment));
            return;
        }
        let offset = header_length(&run[0]);
        let mut merged = run[0].clone();
        for segment in &run[1..] {
            merged.extend_from_slice(&segment[header_length(segment)..]);
        }
        merged[13] |= run[run.len() - 1][13] & 0x08;
        let mut sum = net::wire::Checksum::new();
        sum.add_ipv4_pseudo_header(PEER_IP, NIC_IP, 6, merged.len() as u16);
        // Partial: the pseudo-header's sum; valid: garbage, never checked.
        let field = if flags & NEEDS_CSUM != 0 {
            sum.fold()
        } else {
            0xdead
        };
        merged[16..18].copy_from_slice(&field.to_be_bytes());
        let frame = ipv4_frame(6, &merged);
        let mut header = [0u8; 12];
        header[0] = flags;
        header[1] = GSO_TCPV4;
        let segment_size = (run[0].len() - offset) as u16;
        header[4..6].copy_from_slice(&segment_size.to_le_bytes());
        header[6..8].copy_from_slice(&34u16.to_le_bytes());
        header[8..10].copy_from_slice(&16u16.to_le_bytes());
        self.harness.device.inject_with(header, &frame);
    }
}

fn header_length(segment: &[u8]) -> usize {
    usize::from(segment[12] >> 4) * 4
}

fn sequence(segment: &[u8]) -> u32 {
    u32::from_be_bytes(segment[4..8].try_into().unwrap())
}

/// Whether `segment` continues `run`: plain ACK(+PSH) data right after it,
/// and the run under 60 KB.
fn mergeable(run: &[Vec<u8>], segment: &[u8]) -> bool {
    let Some(last) = run.last() else {
        return only_ack(segment);
    };
    let size: usize = run.iter().map(|s| s.len()).sum();
    let last_payload = (last.len() - header_length(last)) as u32;
    only_ack(segment)
        && only_ack(last)
        && last[13] & 0x08 == 0
        && sequence(segment) == sequence(last).wrapping_add(last_payload)
        && size + segment.len() < 60_000
}

fn only_ack(segment: &[u8]) -> bool {
    segment[13] & !0x08 == 0x10 && segment.len() > header_length(segment)
}

/// The peer's side of one stream.
#[derive(Default)]
struct PeerStream {
    listener: Option<SocketHandle>,
    connection: Option<SocketHandle>,
    /// Bytes received (kernel to peer) or sent (peer to kernel).
    count: usize,
    hash: std::hash::DefaultHasher,
    finished: bool,
}

impl Pump<'_> {
    fn listen(&mut self) -> PeerStream {
        let listener = self.with_peer(|peer, _, _| {
            let listener = peer.open().unwrap();
            peer.bind(listener, SocketAddr::from((PEER_IP, PORT)))
                .unwrap();
            peer.listen(listener, 4).unwrap();
            listener
        });
        PeerStream {
            listener: Some(listener),
            ..PeerStream::default()
        }
    }

    fn accepted(&mut self, stream: &mut PeerStream) -> Option<SocketHandle> {
        if stream.connection.is_none() {
            let listener = stream.listener?;
            stream.connection = self.with_peer(|peer, _, _| peer.accept(listener)).ok();
        }
        stream.connection
    }

    /// Reads what the kernel sent, hashing it, until the end of file.
    fn drain(&mut self, stream: &mut PeerStream) {
        let Some(connection) = self.accepted(stream) else {
            return;
        };
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match self.with_peer(|peer, now, tx| peer.recv(now, connection, &mut buffer, tx)) {
                Ok(0) => return stream.finished = true,
                Ok(count) => {
                    stream.hash.write(&buffer[..count]);
                    stream.count += count;
                }
                Err(TcpError::WouldBlock) => return,
                Err(error) => panic!("the peer's recv: {error}"),
            }
        }
    }

    /// Writes the stream to the kernel as the window allows, then the FIN.
    fn fill(&mut self, stream: &mut PeerStream) {
        let Some(connection) = self.accepted(stream) else {
            return;
        };
        while stream.count < STREAM {
            let end = STREAM.min(stream.count + 64 * 1024);
            let block: Vec<u8> = (stream.count..end).map(stream_byte).collect();
            match self.with_peer(|peer, now, tx| peer.send(now, connection, &block, tx)) {
                Ok(0) | Err(TcpError::WouldBlock) => return,
                Ok(count) => stream.count += count,
                Err(error) => panic!("the peer's send: {error}"),
            }
        }
        if !stream.finished {
            let how = tcp::Shutdown::Write;
            self.with_peer(|peer, now, tx| peer.shutdown(now, connection, how, tx))
                .expect("the peer's shutdown");
            stream.finished = true;
        }
    }
}

/// Runs `kernel` (the kernel's side, on its own thread) while the pump
/// plays the wire and the peer (`peer` once per turn), until both are
/// done; returns what `kernel` returned.
fn run<R: Send>(
    pump: &mut Pump<'_>,
    kernel: impl FnOnce() -> R + Send,
    mut peer: impl FnMut(&mut Pump<'_>) -> bool,
) -> R {
    std::thread::scope(|scope| {
        let worker = scope.spawn(kernel);
        let deadline = Instant::now() + PATIENCE;
        let mut peer_done = false;
        while !(worker.is_finished() && peer_done) {
            assert!(Instant::now() < deadline, "the transfer did not finish");
            pump.turn();
            peer_done = peer(pump);
        }
        worker.join().expect("the kernel's side")
    })
}

/// The kernel's side sending: connect, write the stream, close.
fn kernel_sends(harness: &Harness) {
    let context = harness.context();
    let net = &harness.net;
    let fd = net.socket(&context, SocketType::Stream).expect("socket");
    net.connect(&context, fd, SocketAddrV4::new(PEER_IP, PORT))
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

/// The kernel's side receiving: connect, read to the end; (bytes, hash).
fn kernel_receives(harness: &Harness) -> (usize, u64) {
    let context = harness.context();
    let net = &harness.net;
    let fd = net.socket(&context, SocketType::Stream).expect("socket");
    net.connect(&context, fd, SocketAddrV4::new(PEER_IP, PORT))
        .expect("connect");
    let mut hash = std::hash::DefaultHasher::new();
    let (mut count, mut buffer) = (0, vec![0u8; 64 * 1024]);
    loop {
        match net.recv(&context, fd, &mut buffer, MessageFlags::NONE) {
            Ok(0) => break,
            Ok(read) => {
                hash.write(&buffer[..read]);
                count += read;
            }
            Err(error) => panic!("recv: {error}"),
        }
    }
    net.close(&context, fd).expect("close");
    (count, hash.finish())
}

/// The kernel sends a stream under `setting`; returns the frames the
/// device cut, after checking the peer got the stream whole.
fn send_stream(setting: Setting) -> usize {
    let harness = Harness::offering(OFFLOADING, setting);
    let mut pump = Pump::new(&harness, Delivery::Plain);
    let mut stream = pump.listen();
    run(
        &mut pump,
        || kernel_sends(&harness),
        |pump| {
            pump.drain(&mut stream);
            stream.finished
        },
    );
    assert_eq!(stream.count, STREAM, "the peer got every byte");
    assert_eq!(stream.hash.finish(), stream_hash(STREAM), "and in order");
    assert_eq!(pump.peer.stats().bad_checksums, 0, "every segment sums");
    let (segmented, faults) = harness.device.offload_report();
    assert_eq!(faults, Vec::<&str>::new(), "the device found nothing wrong");
    segmented
}

#[test]
fn tso_bursts_are_cut_by_the_device_into_segments_that_arrive_whole() {
    assert!(send_stream(Setting::All) > 0, "the device cut bursts");
}

#[test]
fn with_checksums_only_or_nothing_no_burst_reaches_the_device() {
    assert_eq!(send_stream(Setting::Checksum), 0);
    assert_eq!(send_stream(Setting::None), 0);
}

/// The peer sends a stream delivered coalesced with `flags`; checks the
/// kernel got it whole and the plain frames the pump corrupted were
/// caught.
fn receive_coalesced(flags: u8) {
    let harness = Harness::offering(OFFLOADING, Setting::All);
    let mut pump = Pump::new(&harness, Delivery::Coalesced(flags));
    let mut stream = pump.listen();
    let (count, hash) = run(
        &mut pump,
        || kernel_receives(&harness),
        |pump| {
            pump.fill(&mut stream);
            stream.finished
        },
    );
    assert_eq!(
        (count, hash),
        (STREAM, stream_hash(STREAM)),
        "the stream, whole"
    );
    let context = harness.context();
    let counters = harness.nic.receive_counters(&context);
    assert!(
        counters.merged > 0,
        "frames spanned merged buffers: {counters:?}"
    );
    assert!(counters.vouched > 0, "{counters:?}");
    assert_eq!(counters.malformed, 0, "{counters:?}");
    let bad = harness
        .net
        .with_stack(&context, |stack| stack.tcp.stats().bad_checksums);
    assert!(pump.corrupted > 0, "the pump corrupted some plain frames");
    assert_eq!(
        bad, pump.corrupted,
        "every corrupted plain frame was caught"
    );
}

#[test]
fn coalesced_partial_checksum_frames_are_received_whole() {
    receive_coalesced(NEEDS_CSUM);
}

#[test]
fn coalesced_data_valid_frames_skip_verification() {
    receive_coalesced(DATA_VALID);
}

/// A virtio-net header with `flags`, `gso_type` and its sizes.
fn header(flags: u8, gso_type: u8, segment_size: u16, start: u16, offset: u16) -> [u8; 12] {
    let mut header = [0u8; 12];
    header[0] = flags;
    header[1] = gso_type;
    header[4..6].copy_from_slice(&segment_size.to_le_bytes());
    header[6..8].copy_from_slice(&start.to_le_bytes());
    header[8..10].copy_from_slice(&offset.to_le_bytes());
    header
}

/// Waits (with the CPU given up) until the NIC's counters satisfy `done`.
fn wait_counters(harness: &Harness, done: impl Fn(&crate::receive::ReceiveCounters) -> bool) {
    let context = harness.context();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let counters = harness.nic.receive_counters(&context);
        if done(&counters) {
            return;
        }
        assert!(Instant::now() < deadline, "counters stuck at {counters:?}");
        context.yield_now();
    }
}

#[test]
fn malformed_headers_are_dropped_and_counted_and_the_driver_stays_in_step() {
    let harness = Harness::new();
    let ping = |sequence| ipv4_frame(1, &echo_request(0x99, sequence, b"offload"));
    let device = &harness.device;
    // The peer's ARP request teaches the stack its MAC, for the replies.
    device.inject(&arp_frame(
        ArpOperation::Request,
        MacAddress([0; 6]),
        NIC_IP,
    ));
    device.inject_with(header(0, GSO_TCPV4, 0, 0, 0), &ping(1));
    device.inject_with(header(NEEDS_CSUM, 0, 0, 2000, 16), &ping(2));
    device.inject_with(header(NEEDS_CSUM, 0, 0, 34, u16::MAX), &ping(3));
    device.inject_raw(&[0; 5]);
    for count in [0u16, 1000] {
        let mut bytes = header(0, 0, 0, 0, 0).to_vec();
        bytes[10..12].copy_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&ping(4));
        device.inject_raw(&bytes);
    }
    device.inject(&ping(5));
    let reply = device.expect_sent("the echo reply to the good ping", |frame| {
        ipv4_payload(frame, 1).is_some_and(|icmp| icmp.first() == Some(&0))
    });
    let icmp = ipv4_payload(&reply, 1).expect("ICMP");
    assert_eq!(
        &icmp[4..8],
        &[0, 0x99, 0, 5],
        "only the good one is answered"
    );
    wait_counters(&harness, |c| c.malformed == 5 && c.runts == 1);
}

#[test]
fn data_valid_skips_the_udp_checksum_and_without_it_a_bad_one_is_caught() {
    let harness = Harness::new();
    let context = harness.context();
    let net = &harness.net;
    let socket = net.socket(&context, SocketType::Datagram).expect("socket");
    net.bind(&context, socket, SocketAddrV4::new(NIC_IP, 4000))
        .expect("bind");
    let mut datagram = udp_datagram(4000, b"vouched");
    datagram[6..8].copy_from_slice(&0xbad0u16.to_be_bytes());
    let frame = ipv4_frame(17, &datagram);
    harness.device.inject(&frame);
    harness
        .device
        .inject_with(header(DATA_VALID, 0, 0, 0, 0), &frame);
    assert!(wait_readable(net, &context, socket) || wait_readable(net, &context, socket));
    let mut buffer = [0u8; 16];
    let length = net
        .recv(&context, socket, &mut buffer, MessageFlags::DONT_WAIT)
        .expect("the vouched datagram");
    assert_eq!(&buffer[..length], b"vouched");
    let malformed = net.with_stack(&context, |stack| stack.udp.stats.malformed);
    assert_eq!(malformed, 1, "the unvouched one failed its checksum");
    assert!(
        net.recv(&context, socket, &mut buffer, MessageFlags::DONT_WAIT)
            .is_err()
    );
}
