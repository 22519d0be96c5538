//! A simulated network for engine tests: hosts with their own `Tcp`, a
//! queue of segments in flight with a delay, and seeded loss, duplication,
//! reordering and corruption, optionally a queue that marks ECN-capable
//! segments (and drops others) past a threshold, and a hop with a smaller
//! MTU that drops bigger packets, with or without an ICMP "fragmentation
//! needed" (or ICMPv6 Packet Too Big) back to the sender; time jumps to
//! the next delivery or deadline.

use std::boxed::Box;
use std::vec;
use std::vec::Vec;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub use super::impairment::{Impairment, Rng};
pub use super::ledger::Ledger;
use crate::header::{Flags, Segment};
use crate::{Ecn, Offload, Path, Route, Secrets, Shape, SocketHandle, Tcp, TcpConfig};
use crate::{Transmit, TransmitError};

pub const MILLISECOND: u64 = 1_000_000;
pub const SECOND: u64 = 1_000 * MILLISECOND;

pub struct Host {
    pub address: IpAddr,
    /// A second address, of the other family (a dual-stack host).
    pub alias: Option<IpAddr>,
    pub tcp: Tcp,
}

impl Host {
    fn holds(&self, address: IpAddr) -> bool {
        self.address == address || self.alias == Some(address)
    }

    /// Its address of `peer`'s family.
    fn source_for(&self, peer: IpAddr) -> IpAddr {
        source_for((self.address, self.alias), peer)
    }
}

/// Of a host's (address, alias), the one of `peer`'s family.
fn source_for((address, alias): (IpAddr, Option<IpAddr>), peer: IpAddr) -> IpAddr {
    let alias = alias.filter(|alias| alias.is_ipv4() == peer.is_ipv4());
    alias.unwrap_or(address)
}

struct Packet {
    at: u64,
    order: u64,
    /// Shared by the copies of a duplicated segment.
    transmission: u64,
    corrupted: bool,
    from: usize,
    to: usize,
    source: IpAddr,
    destination: IpAddr,
    ecn: Ecn,
    bytes: Vec<u8>,
}

/// A copy of a segment as it was sent.
#[derive(Clone, Debug)]
pub struct Captured {
    pub from: usize,
    pub at: u64,
    /// The ECN field its IP header would carry.
    pub ecn: Ecn,
    pub bytes: Vec<u8>,
}

impl Captured {
    pub fn segment(&self) -> Segment<'_> {
        Segment::parse(&self.bytes).expect("the engine sends well-formed segments")
    }

    pub fn has(&self, flags: Flags) -> bool {
        self.segment().has(flags)
    }

    pub fn payload_length(&self) -> usize {
        self.segment().payload.len()
    }
}

pub type Filter = Box<dyn FnMut(usize, &Segment<'_>) -> bool>;

/// See [`Network::rewrite`]: (sending host, segment bytes).
pub type Rewrite = Box<dyn FnMut(usize, &mut Vec<u8>)>;

/// Called after every call on a host's engine with the host, its engine
/// and the segments the call sent.
pub type Observer = Box<dyn FnMut(usize, &Tcp, &[Captured])>;

pub struct Network {
    pub now: u64,
    pub hosts: Vec<Host>,
    queue: Vec<Packet>,
    order: u64,
    pub rng: Rng,
    pub impairment: Impairment,
    pub delay: u64,
    pub mtu: u16,
    /// What the hosts' "devices" do for them (checksums, segmentation).
    pub offload: Offload,
    /// Whether they cut TCP/IPv6 bursts too (TSO6), within the same
    /// limit; else routes over IPv6 offer checksums only.
    pub segments_ipv6: bool,
    /// Bursts the devices cut, over each family (IPv4, IPv6).
    pub bursts: [u64; 2],
    /// Drop everything when false.
    pub up: bool,
    /// Drops a segment when it returns true.
    pub filter: Option<Filter>,
    /// Changes a segment's bytes on the way (the checksum is fixed up
    /// after): a middlebox.
    pub rewrite: Option<Rewrite>,
    /// Watches every engine call.
    pub observer: Option<Observer>,
    pub capture: Vec<Captured>,
    pub corrupted: u64,
    pub delivered: u64,
    /// What host 0's data segments brought to host 1.
    pub ledger: Ledger,
    /// Check every host's invariants after each call (off for tests with
    /// so many sockets that the O(n) check would dominate).
    pub check: bool,
    /// A router queue on host 0's way out: while this many of its
    /// segments are on the way, a new one is marked CE if ECN-capable and
    /// dropped if not (RFC 3168's active queue management, crudely).
    pub congestion_threshold: Option<usize>,
    /// A stall: (host, until) holds that host's segments sent before
    /// `until` and lets them go, in order, at `until`.
    pub stall: Option<(usize, u64)>,
    /// A hop with a smaller MTU on the way.
    pub narrow: Option<Narrow>,
    /// A path MTU the hosts' IP layer learned (routes say it, and
    /// segments over it are refused).
    pub path_mtu: Option<u16>,
    /// ICMP "fragmentation needed" or Packet Too Big on their way back
    /// from the hop.
    too_big: Vec<TooBig>,
    outbox: Vec<Outgoing>,
}

/// A hop that drops IP packets over `mtu` bytes, telling the sender by
/// ICMP when `icmp` (else it is a black hole).
#[derive(Clone, Copy, Debug)]
pub struct Narrow {
    pub mtu: u16,
    pub icmp: bool,
}

/// An ICMP "fragmentation needed" or Packet Too Big due at `at` for host
/// `to`, quoting a segment from `local` to `remote` at `sequence`.
#[derive(Clone, Copy, Debug)]
pub struct TooBig {
    pub at: u64,
    pub to: usize,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub sequence: u32,
    pub mtu: u16,
}

/// A segment a host handed to its link.
type Outgoing = (IpAddr, IpAddr, Ecn, Vec<u8>);

struct Link<'a> {
    /// The host's address and alias.
    addresses: (IpAddr, Option<IpAddr>),
    mtu: u16,
    offload: Offload,
    segments_ipv6: bool,
    /// See [`Network::path_mtu`].
    path_mtu: Option<u16>,
    outbox: &'a mut Vec<Outgoing>,
    bursts: &'a mut [u64; 2],
}

/// The IP header's size over `address`'s family.
fn ip_header(address: IpAddr) -> usize {
    if address.is_ipv4() { 20 } else { 40 }
}

/// What a "device" offering `offload` does towards `destination`:
/// checksums for both families, TSO for TCP over IPv4 and, when it
/// `segments_ipv6` (TSO6), over IPv6.
fn offload_for(offload: Offload, segments_ipv6: bool, destination: IpAddr) -> Offload {
    match destination {
        IpAddr::V6(_) if !segments_ipv6 => Offload {
            segment_limit: 0,
            ..offload
        },
        _ => offload,
    }
}

impl Transmit for Link<'_> {
    fn route(&self, destination: IpAddr, zone: u32) -> Option<Route> {
        let source = source_for(self.addresses, destination);
        let reachable = match destination {
            IpAddr::V4(v4) => v4.octets()[..3] == [10, 0, 0],
            IpAddr::V6(v6) => v6.segments()[..7] == [0xfd00, 0, 0, 0, 0, 0, 0],
        };
        (reachable && source.is_ipv4() == destination.is_ipv4()).then_some(Route {
            source,
            mtu: self.path_mtu.map_or(self.mtu, |path| path.min(self.mtu)),
            zone,
            offload: offload_for(self.offload, self.segments_ipv6, destination),
        })
    }

    /// Plays the device: completes partial checksums and cuts bursts with
    /// the reference splitter (`offload.rs`), after checking the engine
    /// asked only for what the route offered.
    fn send_shaped(
        &mut self,
        path: Path,
        (ecn, shape): (Ecn, Shape),
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TransmitError> {
        let offered = offload_for(self.offload, self.segments_ipv6, path.destination);
        assert!(offered.checksum, "a partial checksum nobody offered");
        assert!(shape.partial_checksum, "offloaded segments are partial");
        let mut bytes = vec![0u8; length];
        fill(&mut bytes);
        let (source, destination) = (path.source, path.destination);
        let pieces = super::offload::split(source, destination, &bytes, shape.segment_size);
        if shape.segment_size > 0 {
            let limit = offered.segment_limit as usize;
            assert!(limit > 0, "a burst over {destination}, offered no TSO");
            assert!(
                length - 20 <= limit + 40,
                "a burst of {length} over {limit}"
            );
            assert!(pieces.len() > 1, "a burst of one segment");
            self.bursts[usize::from(destination.is_ipv6())] += 1;
        }
        let room = usize::from(self.mtu) - ip_header(destination);
        for piece in pieces {
            assert!(piece.len() <= room, "a piece over the MTU");
            self.outbox.push((source, destination, ecn, piece));
        }
        Ok(())
    }

    fn send(
        &mut self,
        path: Path,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TransmitError> {
        self.send_marked(path, Ecn::NotCapable, length, fill)
    }

    fn send_marked(
        &mut self,
        path: Path,
        ecn: Ecn,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TransmitError> {
        assert!(
            length <= usize::from(self.mtu) - ip_header(path.destination),
            "segment of {length} bytes over the MTU"
        );
        let path_mtu = self.path_mtu.map_or(usize::MAX, usize::from);
        if length + ip_header(path.destination) > path_mtu {
            // As an IP layer with DF set (or IPv6) refuses it.
            return Err(TransmitError::NoBuffer);
        }
        let mut bytes = vec![0u8; length];
        fill(&mut bytes);
        self.outbox
            .push((path.source, path.destination, ecn, bytes));
        Ok(())
    }
}

/// Host `host`'s IPv4 address.
pub fn address(host: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, host as u8 + 1))
}

/// Host `host`'s IPv6 address, in [`Network::ipv6`].
pub fn address6(host: usize) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, host as u16 + 1))
}

/// Host `host`'s IPv4 address and `port`.
pub fn endpoint(host: usize, port: u16) -> SocketAddr {
    SocketAddr::new(address(host), port)
}

pub fn secrets(seed: u8) -> Secrets {
    Secrets {
        isn_key: [seed; 16],
        port_key: [seed.wrapping_add(1); 16],
    }
}

/// The configuration of most tests: a short TIME-WAIT.
pub fn config() -> TcpConfig {
    TcpConfig {
        time_wait_ns: 2 * SECOND,
        ..TcpConfig::default()
    }
}

impl Network {
    pub fn new(seed: u64, configs: &[TcpConfig]) -> Self {
        let hosts = configs
            .iter()
            .enumerate()
            .map(|(index, config)| Host {
                address: address(index),
                alias: None,
                tcp: Tcp::new(*config, secrets(index as u8)),
            })
            .collect();
        Self {
            now: SECOND,
            hosts,
            queue: Vec::new(),
            order: 0,
            rng: Rng::new(seed),
            impairment: Impairment::default(),
            delay: 5 * MILLISECOND,
            mtu: 1500,
            offload: Offload::NONE,
            segments_ipv6: false,
            bursts: [0; 2],
            up: true,
            filter: None,
            rewrite: None,
            observer: None,
            capture: Vec::new(),
            corrupted: 0,
            delivered: 0,
            ledger: Ledger::default(),
            check: true,
            congestion_threshold: None,
            stall: None,
            narrow: None,
            path_mtu: None,
            too_big: Vec::new(),
            outbox: Vec::new(),
        }
    }

    /// Two hosts with the test configuration.
    pub fn pair(seed: u64) -> Self {
        Self::new(seed, &[config(), config()])
    }

    /// [`Network::new`] with the hosts at IPv6 addresses ([`address6`]).
    pub fn ipv6(seed: u64, configs: &[TcpConfig]) -> Self {
        let mut network = Self::new(seed, configs);
        for (index, host) in network.hosts.iter_mut().enumerate() {
            host.address = address6(index);
        }
        network
    }

    /// Host `host`'s address (of the network's family) and `port`.
    pub fn endpoint(&self, host: usize, port: u16) -> SocketAddr {
        SocketAddr::new(self.hosts[host].address, port)
    }

    /// Runs `f` on host `host`'s engine with a transmitter into the network.
    pub fn with<R>(
        &mut self,
        host: usize,
        f: impl FnOnce(&mut Tcp, u64, &mut dyn Transmit) -> R,
    ) -> R {
        let Host {
            address,
            alias,
            tcp,
        } = &mut self.hosts[host];
        let mut link = Link {
            addresses: (*address, *alias),
            mtu: self.mtu,
            offload: self.offload,
            segments_ipv6: self.segments_ipv6,
            path_mtu: self.path_mtu,
            outbox: &mut self.outbox,
            bursts: &mut self.bursts,
        };
        let result = f(tcp, self.now, &mut link);
        let start = self.capture.len();
        self.flush(host);
        if let Some(observer) = self.observer.as_mut() {
            observer(host, &self.hosts[host].tcp, &self.capture[start..]);
        }
        if self.check {
            let check = self.hosts[host].tcp.check_invariants();
            assert_eq!(check, Ok(()), "invariants of host {host}");
        }
        result
    }

    fn flush(&mut self, from: usize) {
        let outbox = core::mem::take(&mut self.outbox);
        for (source, destination, ecn, bytes) in outbox {
            if from == 0 {
                self.ledger.sent(&bytes);
            }
            self.capture.push(Captured {
                from,
                at: self.now,
                ecn,
                bytes: bytes.clone(),
            });
            self.schedule(from, (source, destination, ecn), bytes);
        }
    }

    fn schedule(
        &mut self,
        from: usize,
        (source, destination, mut ecn): (IpAddr, IpAddr, Ecn),
        mut bytes: Vec<u8>,
    ) {
        let Some(to) = self.hosts.iter().position(|host| host.holds(destination)) else {
            return;
        };
        if !self.up || self.narrowed(from, (source, destination), &bytes) {
            return;
        }
        if let Some(filter) = self.filter.as_mut()
            && let Ok(segment) = Segment::parse(&bytes)
            && filter(from, &segment)
        {
            return;
        }
        if let Some(rewrite) = self.rewrite.as_mut() {
            rewrite(from, &mut bytes);
            fix_checksum(source, destination, &mut bytes);
        }
        let impairment = self.impairment;
        if self.rng.chance(impairment.loss) {
            return;
        }
        if from == 0 && self.congested() {
            if ecn == Ecn::NotCapable {
                return;
            }
            ecn = Ecn::CongestionExperienced;
        }
        let copies = if self.rng.chance(impairment.duplicate) {
            2
        } else {
            1
        };
        let corrupted = self.rng.chance(impairment.corrupt) && !bytes.is_empty();
        if corrupted {
            let position = self.rng.below(bytes.len() as u64) as usize;
            bytes[position] ^= 1 << self.rng.below(8);
            self.corrupted += copies;
        }
        let transmission = self.order;
        let sent = match self.stall {
            Some((host, until)) if host == from => self.now.max(until),
            _ => self.now,
        };
        for _ in 0..copies {
            let mut at = sent + self.delay;
            if self.rng.chance(impairment.reorder) {
                at += self.rng.below(3 * self.delay);
            }
            self.order += 1;
            let packet = Packet {
                at,
                order: self.order,
                transmission,
                corrupted,
                from,
                to,
                source,
                destination,
                ecn,
                bytes: bytes.clone(),
            };
            self.queue.push(packet);
        }
    }

    /// Whether the narrow hop drops this segment (and sends its ICMP).
    fn narrowed(
        &mut self,
        from: usize,
        (source, destination): (IpAddr, IpAddr),
        bytes: &[u8],
    ) -> bool {
        let Some(narrow) = self.narrow else {
            return false;
        };
        if bytes.len() + ip_header(destination) <= usize::from(narrow.mtu) {
            return false;
        }
        if narrow.icmp
            && let Ok(segment) = Segment::parse(bytes)
        {
            self.too_big.push(TooBig {
                at: self.now + self.delay,
                to: from,
                local: SocketAddr::new(source, segment.source_port),
                remote: SocketAddr::new(destination, segment.destination_port),
                sequence: segment.sequence.0,
                mtu: narrow.mtu,
            });
        }
        true
    }

    /// Delivers an ICMP "fragmentation needed" or Packet Too Big now.
    pub fn deliver_too_big(&mut self, report: TooBig) -> bool {
        self.with(report.to, |tcp, now, tx| {
            let (local, remote) = (report.local, report.remote);
            tcp.icmp_too_big(now, local, remote, report.sequence, report.mtu.into(), tx)
        })
    }

    /// Host 0's segments on the way reach the congestion threshold.
    fn congested(&self) -> bool {
        let on_the_way = self.queue.iter().filter(|packet| packet.from == 0).count();
        self.congestion_threshold
            .is_some_and(|threshold| on_the_way >= threshold)
    }

    fn next_event(&self) -> Option<u64> {
        let icmp = self.too_big.iter().map(|report| report.at);
        let packet = self.queue.iter().map(|packet| packet.at).chain(icmp).min();
        let timer = self
            .hosts
            .iter()
            .filter_map(|host| host.tcp.next_deadline())
            .min();
        match (packet, timer) {
            (Some(packet), Some(timer)) => Some(packet.min(timer)),
            (packet, timer) => packet.or(timer),
        }
    }

    /// Advances to the next event and runs it; false when nothing is pending.
    pub fn step(&mut self) -> bool {
        let Some(at) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(at);
        while let Some(position) = self.due_packet() {
            let packet = self.queue.swap_remove(position);
            self.deliver(packet);
        }
        while let Some(position) = self.too_big.iter().position(|report| report.at <= self.now) {
            let report = self.too_big.remove(position);
            self.deliver_too_big(report);
        }
        for host in 0..self.hosts.len() {
            if self.hosts[host]
                .tcp
                .next_deadline()
                .is_some_and(|deadline| deadline <= self.now)
            {
                self.with(host, |tcp, now, tx| tcp.on_timer(now, tx));
            }
        }
        true
    }

    fn due_packet(&self) -> Option<usize> {
        let due = self
            .queue
            .iter()
            .enumerate()
            .filter(|(_, packet)| packet.at <= self.now);
        due.min_by_key(|(_, packet)| (packet.at, packet.order))
            .map(|(position, _)| position)
    }

    fn deliver(&mut self, packet: Packet) {
        self.delivered += 1;
        if packet.from == 0 && packet.to == 1 && !packet.corrupted {
            self.ledger.delivered(packet.transmission, &packet.bytes);
        }
        let (source, destination, ecn) = (packet.source, packet.destination, packet.ecn);
        self.with(packet.to, |tcp, now, tx| {
            tcp.input_marked(now, source, destination, ecn, &packet.bytes, tx)
        });
    }

    /// Steps until `done` holds (checked before every step) or `limit_ns`
    /// of simulated time passed; returns whether `done` held.
    pub fn run_until(&mut self, limit_ns: u64, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        let end = self.now + limit_ns;
        loop {
            if done(self) {
                return true;
            }
            if self.now > end || !self.step() {
                return done(self);
            }
            if self.now > end {
                return done(self);
            }
        }
    }

    /// Runs until no segment is in flight and no timer is due within
    /// `limit_ns`.
    pub fn settle(&mut self, limit_ns: u64) {
        let end = self.now + limit_ns;
        while self.next_event().is_some_and(|at| at <= end) {
            self.step();
        }
    }

    pub fn status(&self, host: usize, handle: SocketHandle) -> crate::SocketStatus {
        self.hosts[host].tcp.status(handle).expect("a live handle")
    }

    pub fn tcp(&self, host: usize) -> &Tcp {
        &self.hosts[host].tcp
    }

    /// Delivers raw segment bytes to host `to` as if sent from `source`,
    /// with the checksum fixed up when `fix_checksum`.
    pub fn inject(&mut self, to: usize, source: IpAddr, mut bytes: Vec<u8>, fix_checksum: bool) {
        let destination = self.hosts[to].source_for(source);
        if fix_checksum {
            self::fix_checksum(source, destination, &mut bytes);
        }
        self.with(to, |tcp, now, tx| {
            tcp.input(now, source, destination, &bytes, tx)
        });
    }

    /// Segments host `from` sent, from `start` on in the capture.
    pub fn sent_by(&self, from: usize, start: usize) -> impl Iterator<Item = &Captured> {
        self.capture
            .iter()
            .skip(start)
            .filter(move |captured| captured.from == from)
    }
}

/// Writes the right checksum into a segment's header.
fn fix_checksum(source: IpAddr, destination: IpAddr, bytes: &mut [u8]) {
    if bytes.len() < 20 {
        return;
    }
    bytes[16..18].fill(0);
    let sum = wire::Checksum::new()
        .add_pseudo_header(source, destination, 6, bytes.len() as u32)
        .add(bytes)
        .finish();
    bytes[16..18].copy_from_slice(&sum.to_be_bytes());
}
