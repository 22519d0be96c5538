//! The plain types a lookup exchanges with the kernel glue.
//!
//! All are `Copy`, so the glue can keep, log or forward them freely.

use core::net::IpAddr;

use crate::Family;
use crate::response::{Answer, Failure};

/// The schedule of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LookupConfig {
    /// The wait for a UDP answer in round 0; doubled in each later round.
    pub timeout_ns: u64,
    /// Rounds over all servers.
    pub rounds: u8,
    /// The wait for a whole TCP exchange (connect, query, answer).
    pub tcp_timeout_ns: u64,
    /// Whether queries carry an EDNS0 OPT record (RFC 6891).
    pub edns: bool,
}

impl Default for LookupConfig {
    /// 1 s, 2 s, 4 s per server over UDP; 5 s for TCP; EDNS0 on.
    fn default() -> Self {
        Self {
            timeout_ns: 1_000_000_000,
            rounds: 3,
            tcp_timeout_ns: 5_000_000_000,
            edns: true,
        }
    }
}

/// How a query travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One datagram to port 53, from a fresh socket.
    Udp,
    /// A TCP connection to port 53, the message after a 16-bit length.
    Tcp,
}

/// One of the (at most two) questions of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuestionIndex(u8);

impl QuestionIndex {
    pub(super) fn new(index: usize) -> Self {
        Self(index as u8)
    }

    /// 0 or 1, to index the glue's sockets.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A query written into the caller's buffer, to send now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The question it asks (the glue keeps one socket per question).
    pub question: QuestionIndex,
    /// The family it asks for.
    pub family: Family,
    /// The server to send it to (port 53).
    pub server: IpAddr,
    /// How.
    pub transport: Transport,
    /// Bytes of the buffer that hold it.
    pub length: usize,
}

/// Why a question got no answer: how its last step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// There was no server to ask.
    NoServers,
    /// The last server asked did not answer in time.
    TimedOut,
    /// The last server asked could not be reached: no route, an ICMP
    /// refusal, a TCP connection refused or reset.
    Unreachable,
    /// The last server asked answered with a failure.
    ServerFailure(Failure),
    /// The glue's buffer was smaller than [`super::MINIMUM_BUFFER`].
    BufferTooSmall,
}

/// How a question ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A server answered (with addresses or without).
    Answered(Answer),
    /// None did.
    Failed(LookupError),
}

/// What a lookup saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupStats {
    /// Queries sent over UDP.
    pub sent_udp: u32,
    /// Queries sent over TCP.
    pub sent_tcp: u32,
    /// Messages from the right server that failed [`crate::parse_response`]:
    /// malformed, another id, another question (spoofing, or late).
    pub rejected: u32,
    /// Messages for a question not waiting, or from another server or
    /// transport than the current step's.
    pub unexpected: u32,
    /// Steps that ended waiting.
    pub timeouts: u32,
    /// Answers with TC set.
    pub truncated: u32,
    /// Answers that were failures, and transports that failed.
    pub failures: u32,
}
