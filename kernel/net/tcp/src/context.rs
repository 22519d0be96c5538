//! Engine-wide state shared by every connection: configuration, secrets,
//! counters, the event queue, the challenge ACK limit and the keyed
//! functions of RFC 6528 (ISNs), RFC 6056 (ephemeral port offsets) and
//! RFC 4987 (SYN cookies).

use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use crate::SocketHandle;
use crate::config::{Secrets, TcpConfig};
use crate::cookie::Cookies;
use crate::ecn::Ecn;
use crate::memory::Charges;
use crate::sequence::Sequence;
use crate::siphash::siphash_2_4;
use crate::stats::TcpStats;
use crate::tcb::Tcb;

/// The ISN clock M of RFC 6528 ticks every 4 microseconds.
const ISN_TICK_NS: u64 = 4_000;

/// The challenge ACK budget is counted per second.
const CHALLENGE_WINDOW_NS: u64 = 1_000_000_000;

/// Everything but the socket table.
#[derive(Debug)]
pub struct Context {
    /// Settings.
    pub config: TcpConfig,
    /// Keys.
    pub secrets: Secrets,
    /// SYN cookies, keyed from the ISN secret.
    pub cookies: Cookies,
    /// Counters.
    pub stats: TcpStats,
    /// The time of the call being served.
    pub now: u64,
    /// The ECN field of the segment being served (by `input`).
    pub arriving: Ecn,
    /// Sockets with news for the user, each once.
    pub events: Vec<SocketHandle>,
    /// What the engine holds, charged to the caller's budget.
    pub memory: Charges,
    /// Start of the current challenge ACK second.
    challenge_start: u64,
    /// Challenge ACKs sent in it.
    challenge_count: u32,
    /// RFC 6056 algorithm 3's `next_ephemeral`.
    pub ephemeral_counter: u32,
}

impl Context {
    /// A fresh context.
    pub fn new(config: TcpConfig, secrets: Secrets) -> Self {
        Self {
            config,
            secrets,
            cookies: Cookies::new(&secrets.isn_key),
            stats: TcpStats::default(),
            now: 0,
            arriving: Ecn::NotCapable,
            events: Vec::with_capacity(64),
            memory: Charges::default(),
            challenge_start: 0,
            challenge_count: 0,
            ephemeral_counter: 0,
        }
    }

    /// Queues a wakeup for `tcb` unless one is queued or no user holds it.
    pub fn notify(&mut self, tcb: &mut Tcb) {
        if tcb.role.is_user_held() && !tcb.event_pending {
            tcb.event_pending = true;
            self.events.push(tcb.handle);
        }
    }

    /// Takes one challenge ACK from the per-second budget (RFC 5961 7).
    pub fn allow_challenge(&mut self) -> bool {
        if self.now.saturating_sub(self.challenge_start) >= CHALLENGE_WINDOW_NS {
            self.challenge_start = self.now;
            self.challenge_count = 0;
        }
        if self.challenge_count < self.config.challenge_ack_limit {
            self.challenge_count += 1;
            self.stats.challenge_acks += 1;
            true
        } else {
            self.stats.challenge_acks_suppressed += 1;
            false
        }
    }

    /// RFC 6528: ISN = M + F(local, remote, key), M a 4 µs clock.
    pub fn initial_sequence(&self, local: SocketAddr, remote: SocketAddr) -> Sequence {
        let clock = (self.now / ISN_TICK_NS) as u32;
        let hash = siphash_2_4(
            &self.secrets.isn_key,
            endpoints_bytes(local, remote).bytes(),
        );
        Sequence(clock.wrapping_add(hash as u32))
    }

    /// A per-connection offset for our TSval clock (RFC 7323 5.4).
    pub fn timestamp_offset(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        let hash = siphash_2_4(
            &self.secrets.isn_key,
            endpoints_bytes(local, remote).bytes(),
        );
        (hash >> 32) as u32
    }

    /// RFC 6056 algorithm 3's offset F(local IP, remote IP, remote port).
    pub fn port_offset(&self, local: IpAddr, remote: SocketAddr) -> u32 {
        let mut message = Message::default();
        message
            .address(local)
            .address(remote.ip())
            .port(remote.port());
        siphash_2_4(&self.secrets.port_key, message.bytes()) as u32
    }
}

/// A hash input of addresses and ports, each family at its own length
/// (an IPv4 4-tuple hashes as the same 12 bytes as always).
pub struct Message {
    bytes: [u8; 64],
    length: usize,
}

impl Default for Message {
    fn default() -> Self {
        Self {
            bytes: [0; 64],
            length: 0,
        }
    }
}

impl Message {
    /// Appends `data` (the callers stay within the 64 bytes).
    pub fn push(&mut self, data: &[u8]) -> &mut Self {
        let end = (self.length + data.len()).min(self.bytes.len());
        let taken = end - self.length;
        self.bytes[self.length..end].copy_from_slice(&data[..taken]);
        self.length = end;
        self
    }

    /// Appends an address: 4 or 16 bytes.
    pub fn address(&mut self, address: IpAddr) -> &mut Self {
        match address {
            IpAddr::V4(v4) => self.push(&v4.octets()),
            IpAddr::V6(v6) => self.push(&v6.octets()),
        }
    }

    /// Appends a port.
    pub fn port(&mut self, port: u16) -> &mut Self {
        self.push(&port.to_be_bytes())
    }

    /// What was appended.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

fn endpoints_bytes(local: SocketAddr, remote: SocketAddr) -> Message {
    let mut message = Message::default();
    message.address(local.ip()).port(local.port());
    message.address(remote.ip()).port(remote.port());
    message
}
