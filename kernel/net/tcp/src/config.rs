//! Configuration and the plain types of the socket interface: options and
//! status (the connection states are in `state.rs`).

use crate::congestion::Algorithm;
use crate::ecn::EcnMode;
use crate::state::State;

const MILLISECOND: u64 = 1_000_000;
const SECOND: u64 = 1_000 * MILLISECOND;

/// The largest send or receive buffer a socket may ask for.
pub const MAXIMUM_BUFFER: usize = 4 << 20;

/// Engine-wide settings; [`TcpConfig::default`] documents every default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// Send buffer of a new socket: 256 KiB (at most [`MAXIMUM_BUFFER`]).
    /// The rings grow only as data waits, so an idle or light connection
    /// holds far less; a bulk one keeps several TSO bursts in flight.
    pub send_buffer: usize,
    /// Receive buffer of a new socket: 256 KiB (at most [`MAXIMUM_BUFFER`]);
    /// the window scale offered in the SYN covers the larger of this and
    /// the socket's own setting.
    pub receive_buffer: usize,
    /// Sockets of all kinds at most, children and TIME-WAIT included:
    /// 16384 (`open` and SYNs fail beyond).
    pub maximum_sockets: usize,
    /// SYN-RECEIVED children per listener at most: 128 (and never more
    /// than the listen backlog).
    pub syn_backlog: usize,
    /// Answer SYNs with SYN cookies (RFC 4987) when the SYN queue is full,
    /// instead of dropping them: on (Linux `tcp_syncookies=1`).
    pub syn_cookies: bool,
    /// TIME-WAIT duration, 2 MSL: 60 s.
    pub time_wait_ns: u64,
    /// How long a closed socket may wait in FIN-WAIT-2 for the peer's FIN:
    /// 60 s (Linux `tcp_fin_timeout`).
    pub fin_wait_2_timeout_ns: u64,
    /// Idle time before the first keepalive probe: 2 h (RFC 1122).
    pub keepalive_idle_ns: u64,
    /// Time between unanswered keepalive probes: 75 s.
    pub keepalive_interval_ns: u64,
    /// Unanswered probes before the connection times out: 9.
    pub keepalive_count: u32,
    /// Delayed ACK timeout: 40 ms (RFC 9293 wants under 500 ms; Linux uses
    /// 40 ms).
    pub delayed_ack_ns: u64,
    /// RTO before any RTT sample: 1 s (RFC 6298).
    pub initial_rto_ns: u64,
    /// Lower RTO bound: 200 ms, like Linux.
    pub minimum_rto_ns: u64,
    /// Upper RTO bound: 60 s.
    pub maximum_rto_ns: u64,
    /// Retransmissions of one segment (or unanswered window probes) before
    /// the connection fails with `TimedOut`: 15 (Linux `tcp_retries2`).
    pub maximum_retransmissions: u32,
    /// SYN or SYN-ACK retransmissions before giving up: 6.
    pub maximum_syn_retransmissions: u32,
    /// Congestion controller of new connections: CUBIC.
    pub congestion: Algorithm,
    /// Offer window scaling (RFC 7323): on.
    pub window_scaling: bool,
    /// Offer timestamps (RFC 7323): on.
    pub timestamps: bool,
    /// Offer SACK (RFC 2018): on.
    pub selective_acknowledgments: bool,
    /// ECN (RFC 3168): [`EcnMode::Accept`], agreed when a peer's SYN asks,
    /// not asked for in our own SYNs, as Linux does by default. A SYN
    /// asking for ECN still meets middleboxes that drop it or reset the
    /// connection; the fallback (a retransmitted SYN asks no more) costs
    /// such a connection a SYN timeout, a second. Turn on
    /// [`EcnMode::Request`] where the paths are known to be clean.
    pub ecn: EcnMode,
    /// Challenge ACKs (RFC 5961) sent per second at most: 100.
    pub challenge_ack_limit: u32,
    /// First ephemeral port: 49152 (RFC 6335).
    pub ephemeral_first: u16,
    /// Last ephemeral port: 65535.
    pub ephemeral_last: u16,
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            send_buffer: 256 << 10,
            receive_buffer: 256 << 10,
            maximum_sockets: 16384,
            syn_backlog: 128,
            syn_cookies: true,
            time_wait_ns: 60 * SECOND,
            fin_wait_2_timeout_ns: 60 * SECOND,
            keepalive_idle_ns: 7200 * SECOND,
            keepalive_interval_ns: 75 * SECOND,
            keepalive_count: 9,
            delayed_ack_ns: 40 * MILLISECOND,
            initial_rto_ns: SECOND,
            minimum_rto_ns: 200 * MILLISECOND,
            maximum_rto_ns: 60 * SECOND,
            maximum_retransmissions: 15,
            maximum_syn_retransmissions: 6,
            congestion: Algorithm::Cubic,
            window_scaling: true,
            timestamps: true,
            selective_acknowledgments: true,
            ecn: EcnMode::Accept,
            challenge_ack_limit: 100,
            ephemeral_first: 49152,
            ephemeral_last: 65535,
        }
    }
}

impl TcpConfig {
    /// The configuration with every value brought into its valid range.
    pub fn sanitized(mut self) -> Self {
        self.send_buffer = self.send_buffer.clamp(1, MAXIMUM_BUFFER);
        self.receive_buffer = self.receive_buffer.clamp(1, MAXIMUM_BUFFER);
        self.syn_backlog = self.syn_backlog.max(1);
        self.minimum_rto_ns = self.minimum_rto_ns.max(MILLISECOND);
        self.maximum_rto_ns = self.maximum_rto_ns.max(self.minimum_rto_ns);
        self.delayed_ack_ns = self.delayed_ack_ns.min(500 * MILLISECOND);
        self.keepalive_count = self.keepalive_count.max(1);
        self.ephemeral_first = self.ephemeral_first.max(1);
        self.ephemeral_last = self.ephemeral_last.max(self.ephemeral_first);
        self
    }
}

/// Keys from the random hypercall: for ISNs (RFC 6528) and ephemeral ports
/// (RFC 6056).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secrets {
    /// SipHash key of the ISN function F.
    pub isn_key: [u8; 16],
    /// SipHash key of the port offset function F.
    pub port_key: [u8; 16],
}

impl core::fmt::Debug for Secrets {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter.write_str("Secrets { .. }")
    }
}

/// Which direction `shutdown` closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving: `recv` returns end of file, arriving data is
    /// acknowledged and dropped.
    Read,
    /// No more sending: a FIN follows the queued data.
    Write,
    /// Both.
    Both,
}

/// A socket option and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketOption {
    /// TCP_NODELAY: disable Nagle's algorithm.
    NoDelay(bool),
    /// SO_KEEPALIVE: probe an idle connection.
    KeepAlive(bool),
    /// SO_REUSEADDR: bind over TIME-WAIT connections (and over bound,
    /// non-listening sockets that also set it).
    ReuseAddress(bool),
    /// SO_RCVBUF in bytes, clamped to [`MAXIMUM_BUFFER`].
    ReceiveBuffer(usize),
    /// SO_SNDBUF in bytes, clamped to [`MAXIMUM_BUFFER`].
    SendBuffer(usize),
    /// SO_LINGER: `Some(0)` resets on close, `Some(seconds)` resets if the
    /// orderly close has not finished by then, `None` closes in the
    /// background.
    Linger(Option<u32>),
    /// IPV6_V6ONLY: a socket bound to the IPv6 wildcard takes IPv6 only
    /// (off: IPv4 too, as Linux's default). Set before bind
    /// (`InvalidState` after).
    V6Only(bool),
}

/// The name of a socket option, for [`crate::Tcp::option`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionName {
    /// [`SocketOption::NoDelay`].
    NoDelay,
    /// [`SocketOption::KeepAlive`].
    KeepAlive,
    /// [`SocketOption::ReuseAddress`].
    ReuseAddress,
    /// [`SocketOption::ReceiveBuffer`].
    ReceiveBuffer,
    /// [`SocketOption::SendBuffer`].
    SendBuffer,
    /// [`SocketOption::Linger`].
    Linger,
    /// [`SocketOption::V6Only`].
    V6Only,
}

/// A snapshot of a socket for poll-style callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketStatus {
    /// The connection state.
    pub state: State,
    /// Bytes `recv` can return now.
    pub readable: usize,
    /// `recv` returns end of file once `readable` bytes are read.
    pub end_of_file: bool,
    /// Bytes `send` can take now (0 when sending is over).
    pub writable: usize,
    /// The pending error (`take_error` returns it).
    pub error: Option<TcpError>,
    /// A listener has a connection for `accept`.
    pub acceptable: bool,
    /// The handshake completed (still true after the peer's FIN).
    pub connected: bool,
}

use crate::TcpError;
