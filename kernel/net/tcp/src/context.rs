//! Engine-wide state shared by every connection: configuration, secrets,
//! counters, the event queue, the challenge ACK limit and the keyed
//! functions of RFC 6528 (ISNs), RFC 6056 (ephemeral port offsets) and
//! RFC 4987 (SYN cookies).

use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

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
    pub fn initial_sequence(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Sequence {
        let clock = (self.now / ISN_TICK_NS) as u32;
        let hash = siphash_2_4(&self.secrets.isn_key, &endpoints_bytes(local, remote));
        Sequence(clock.wrapping_add(hash as u32))
    }

    /// A per-connection offset for our TSval clock (RFC 7323 5.4).
    pub fn timestamp_offset(&self, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        let hash = siphash_2_4(&self.secrets.isn_key, &endpoints_bytes(local, remote));
        (hash >> 32) as u32
    }

    /// RFC 6056 algorithm 3's offset F(local IP, remote IP, remote port).
    pub fn port_offset(&self, local: Ipv4Addr, remote: SocketAddrV4) -> u32 {
        let mut bytes = [0u8; 10];
        bytes[..4].copy_from_slice(&local.octets());
        bytes[4..8].copy_from_slice(&remote.ip().octets());
        bytes[8..].copy_from_slice(&remote.port().to_be_bytes());
        siphash_2_4(&self.secrets.port_key, &bytes) as u32
    }
}

fn endpoints_bytes(local: SocketAddrV4, remote: SocketAddrV4) -> [u8; 12] {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&local.ip().octets());
    bytes[4..6].copy_from_slice(&local.port().to_be_bytes());
    bytes[6..10].copy_from_slice(&remote.ip().octets());
    bytes[10..].copy_from_slice(&remote.port().to_be_bytes());
    bytes
}
