//! Two TCP engines on a wire: A, the engine under test, and B, its peer.
//!
//! Segments in flight wait in one queue until the fuzzer pumps or drops
//! them; time moves only when it says so, and then every timer due runs.
//! Each call into an engine is followed by its invariant check, and every
//! segment either engine sends must be well formed: it parses, fits the
//! MTU and carries a valid checksum. What each engine sent is kept as the
//! templates of forged segments.

use std::net::{IpAddr, Ipv4Addr};

use tcp::header::Segment;
use tcp::{Path, Route, Secrets, Tcp, TcpConfig, Transmit, TransmitError};
use wire::Checksum;

/// The engine under test.
pub const A: usize = 0;
/// Its peer.
pub const B: usize = 1;
/// The path MTU of the wire.
pub const MTU: u16 = 1500;
pub const MILLISECOND: u64 = 1_000_000;
pub const SECOND: u64 = 1_000 * MILLISECOND;
/// Templates kept per direction.
const HISTORY: usize = 64;

/// The address of `host`: 10.0.0.1 and 10.0.0.2.
pub fn address(host: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, host as u8 + 1)
}

/// A segment sent by `from`.
#[derive(Clone, Debug)]
pub struct Sent {
    pub from: usize,
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub bytes: Vec<u8>,
}

/// Asserts that `bytes` is a whole TCP segment whose checksum verifies.
pub fn assert_well_formed(source: Ipv4Addr, destination: Ipv4Addr, bytes: &[u8]) {
    assert!(
        Segment::parse(bytes).is_ok(),
        "a malformed segment was sent"
    );
    let length = u16::try_from(bytes.len()).expect("segments fit the MTU");
    let mut sum = Checksum::new();
    sum.add_ipv4_pseudo_header(source, destination, 6, length)
        .add(bytes);
    assert_eq!(sum.finish(), 0, "a segment with a bad checksum was sent");
}

/// The IP layer one engine sees.
struct Wire<'a> {
    from: usize,
    queue: &'a mut Vec<Sent>,
}

impl Transmit for Wire<'_> {
    fn route(&self, destination: IpAddr, zone: u32) -> Option<Route> {
        let IpAddr::V4(destination) = destination else {
            return None;
        };
        let [a, b, c, _] = destination.octets();
        ((a, b, c) == (10, 0, 0)).then_some(Route {
            source: IpAddr::V4(address(self.from)),
            mtu: MTU,
            zone,
            offload: tcp::Offload::NONE,
        })
    }

    fn send(
        &mut self,
        path: Path,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TransmitError> {
        let (IpAddr::V4(source), IpAddr::V4(destination)) = (path.source, path.destination) else {
            panic!("an IPv6 segment on an IPv4 wire: {path:?}");
        };
        assert!(
            length <= usize::from(MTU) - 20,
            "{length} bytes over the MTU"
        );
        let mut bytes = vec![0u8; length];
        fill(&mut bytes);
        assert_well_formed(source, destination, &bytes);
        self.queue.push(Sent {
            from: self.from,
            source,
            destination,
            bytes,
        });
        Ok(())
    }
}

/// Both engines, the clock, the queue and the templates.
pub struct World {
    pub engines: [Tcp; 2],
    pub now: u64,
    pub in_flight: Vec<Sent>,
    /// The last segments each engine sent, newest last.
    pub sent: [Vec<Sent>; 2],
}

/// Small buffers and a short TIME-WAIT keep a run's memory and time small.
pub fn config() -> TcpConfig {
    TcpConfig {
        send_buffer: 16 << 10,
        receive_buffer: 16 << 10,
        maximum_sockets: 64,
        syn_backlog: 8,
        time_wait_ns: 2 * SECOND,
        ..TcpConfig::default()
    }
}

impl World {
    pub fn new() -> Self {
        let engine = |seed: u8| {
            let secrets = Secrets {
                isn_key: [seed; 16],
                port_key: [seed ^ 0x55; 16],
            };
            Tcp::new(config(), secrets)
        };
        Self {
            engines: [engine(1), engine(2)],
            now: SECOND,
            in_flight: Vec::new(),
            sent: [Vec::new(), Vec::new()],
        }
    }

    /// Calls into engine `host`, then checks its invariants.
    pub fn with<R>(
        &mut self,
        host: usize,
        call: impl FnOnce(&mut Tcp, u64, &mut dyn Transmit) -> R,
    ) -> R {
        let first_new = self.in_flight.len();
        let mut wire = Wire {
            from: host,
            queue: &mut self.in_flight,
        };
        let result = call(&mut self.engines[host], self.now, &mut wire);
        assert_eq!(self.engines[host].check_invariants(), Ok(()), "host {host}");
        for new in &self.in_flight[first_new..] {
            let history = &mut self.sent[new.from];
            if history.len() == HISTORY {
                history.remove(0);
            }
            history.push(new.clone());
        }
        result
    }

    /// Hands `bytes` from `source` to engine `to`.
    pub fn deliver(&mut self, to: usize, source: Ipv4Addr, destination: Ipv4Addr, bytes: &[u8]) {
        self.with(to, |tcp, now, tx| {
            tcp.input(now, IpAddr::V4(source), IpAddr::V4(destination), bytes, tx)
        });
    }

    /// Delivers everything in flight, and what that sends, until quiet.
    pub fn pump(&mut self) {
        for _ in 0..1_000 {
            let batch = std::mem::take(&mut self.in_flight);
            if batch.is_empty() {
                return;
            }
            for sent in batch {
                self.deliver(1 - sent.from, sent.source, sent.destination, &sent.bytes);
            }
        }
        panic!("the engines kept sending at one instant");
    }

    /// Loses everything in flight.
    pub fn drop_in_flight(&mut self) {
        self.in_flight.clear();
    }

    /// Moves the clock to `until`, running each engine's timers when due;
    /// after its timers ran, no engine may have a deadline at or before now.
    pub fn advance(&mut self, until: u64) {
        for _ in 0..10_000 {
            let due = (0..2)
                .filter_map(|host| self.engines[host].next_deadline())
                .min()
                .filter(|deadline| *deadline <= until);
            let Some(deadline) = due else { break };
            self.now = self.now.max(deadline);
            for host in [A, B] {
                self.with(host, |tcp, now, tx| tcp.on_timer(now, tx));
                let next = self.engines[host].next_deadline();
                assert!(
                    next.is_none_or(|next| next > self.now),
                    "host {host}: deadline {next:?} not after {} once its timers ran",
                    self.now
                );
            }
        }
        self.now = self.now.max(until);
    }
}
