//! The transmission control block: all state of one socket, from the user's
//! options to the RFC 9293 sequence variables.
//!
//! Field names spell out RFC 9293's variables (SND.UNA is
//! `send_unacknowledged`, RCV.NXT is `receive.next()`, …). Invariants:
//! `send_unacknowledged <= send_next <= send_maximum` (sequence order);
//! the send buffer starts at SND.UNA once the SYN is acknowledged.
//!
//! The states a socket moves between are enums in `state.rs`: the RFC
//! [`State`], its [`Role`] (which tables and queues hold it), its loss
//! [`Recovery`] and the [`Negotiated`] options. Four flags remain, each
//! independent of the rest (see their fields): `event_pending`,
//! `fin_queued`, `read_shutdown` and `acknowledge_now`.

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::SocketHandle;
use crate::address::Binding;
use crate::config::TcpConfig;
use crate::congestion::Congestion;
use crate::ecn::Signals;
use crate::flight::Flight;
use crate::memory::{Charges, TABLE_BYTES_PER_SOCKET};
use crate::rack::Rack;
use crate::receive::ReceiveBuffer;
use crate::rtt::RttEstimator;
use crate::send::SendBuffer;
use crate::sequence::Sequence;
use crate::state::{Listener, Negotiated, Recovery, Role, State};
pub use crate::timers::Timers;

/// What every socket is charged for from open to free: its box and its
/// share of the engine's tables.
pub const SOCKET_BYTES: usize = core::mem::size_of::<Tcb>() + TABLE_BYTES_PER_SOCKET;

/// The user-settable options of one socket.
#[derive(Clone, Copy, Debug)]
pub struct UserOptions {
    /// TCP_NODELAY.
    pub no_delay: bool,
    /// SO_KEEPALIVE.
    pub keep_alive: bool,
    /// SO_REUSEADDR.
    pub reuse_address: bool,
    /// SO_RCVBUF.
    pub receive_buffer: usize,
    /// SO_SNDBUF.
    pub send_buffer: usize,
    /// SO_LINGER in seconds.
    pub linger: Option<u32>,
    /// IPV6_V6ONLY: bound to the IPv6 wildcard, take no IPv4.
    pub v6_only: bool,
}

/// One socket.
#[derive(Debug)]
pub struct Tcb {
    /// This socket's own handle.
    pub handle: SocketHandle,
    /// The connection state.
    pub state: State,
    /// Local address (0.0.0.0:0 until bound), in the family its packets
    /// travel in (see `crate::address`).
    pub local: SocketAddr,
    /// Peer address (0.0.0.0:0 until connected).
    pub remote: SocketAddr,
    /// Who holds it and which table or queue it is in.
    pub role: Role,
    /// The user options.
    pub options: UserOptions,
    /// The pending error (SO_ERROR).
    pub error: Option<TcpError>,
    /// The last ICMP error: reported instead of `TimedOut` if the
    /// connection times out.
    pub soft_error: Option<TcpError>,
    /// Its handle is in the engine's event queue (so it is queued once);
    /// cleared when the events are drained.
    pub event_pending: bool,

    /// ISS.
    pub initial_send: Sequence,
    /// SND.UNA.
    pub send_unacknowledged: Sequence,
    /// SND.NXT.
    pub send_next: Sequence,
    /// The highest sequence number sent plus one (differs from SND.NXT
    /// after a timeout rewinds it).
    pub send_maximum: Sequence,
    /// SND.WND in bytes, scaled.
    pub send_window: u32,
    /// SND.WL1.
    pub send_window_sequence: Sequence,
    /// SND.WL2.
    pub send_window_acknowledgment: Sequence,
    /// The largest window the peer offered.
    pub maximum_send_window: u32,
    /// The SYN options offered, then in use.
    pub negotiated: Negotiated,
    /// Shift applied to the peer's window field.
    pub send_scale: u8,
    /// Shift applied to our window field.
    pub receive_scale: u8,
    /// Payload bytes per full segment (SMSS less fixed options).
    pub segment_size: u32,
    /// The MSS we announce.
    pub announced_segment_size: u16,
    /// What the route's device does for our segments, as of the last
    /// output pass.
    pub offload: crate::Offload,
    /// Queued data.
    pub send_buffer: SendBuffer,
    /// The user shut down sending: a FIN follows the data. In the
    /// synchronized states the state says as much (FIN-WAIT-1 and later);
    /// it is news only in SYN-SENT and SYN-RECEIVED, where the handshake
    /// then leads to FIN-WAIT-1, and at CLOSED, where `send` reports
    /// `Shutdown`.
    pub fin_queued: bool,
    /// Received data.
    pub receive: ReceiveBuffer,
    /// IRS.
    pub initial_receive: Sequence,
    /// RCV.NXT + RCV.WND as last advertised (never moves left).
    pub receive_advertised: Sequence,
    /// The user shut down receiving (shutdown(Read), or close): arriving
    /// data is dropped, or reset once nobody holds the socket. Independent
    /// of the state and of `fin_queued` (shutdown takes either direction).
    pub read_shutdown: bool,

    /// TS.Recent.
    pub timestamp_recent: u32,
    /// Per-connection offset of our TSval clock.
    pub timestamp_offset: u32,
    /// Last.ACK.sent.
    pub last_acknowledgment_sent: Sequence,
    /// Received data that was already there, for a D-SACK (RFC 2883) in
    /// the next ACK.
    pub duplicate_received: Option<crate::options::SackBlock>,
    /// The segments in flight: the SACK scoreboard and send times.
    pub flight: Flight,
    /// RACK loss detection state.
    pub rack: Rack,

    /// The RTT estimator.
    pub rtt: RttEstimator,
    /// The segment being timed: (end sequence, send time).
    pub timed: Option<(Sequence, u64)>,
    /// Consecutive timeouts (RTO doubles for each).
    pub backoff: u32,
    /// The congestion controller.
    pub congestion: Congestion,
    /// Duplicate ACKs in a row.
    pub duplicate_acks: u32,
    /// Loss recovery: open, probing, fast recovery or after a timeout.
    pub recovery: Recovery,
    /// RFC 6582 `recover`: no new recovery until SND.UNA passes it.
    pub recover: Sequence,
    /// ECN signals owed (with `negotiated.ecn` only).
    pub ecn: Signals,

    /// The timers.
    pub timers: Timers,
    /// The largest segment payload received (for ACK every second
    /// full-sized segment).
    pub receive_segment_size: u32,
    /// Bytes received since our last ACK.
    pub unacknowledged_bytes: u32,
    /// An ACK is owed now: the next segment sent pays it, and the output
    /// pass that ends the engine call sends a pure ACK if none did, so it
    /// never outlives the call. It is the only output work that input
    /// processing leaves to the output pass besides a fast retransmission
    /// (kept in `Recovery::Fast`, where it is legal); the persist and
    /// probe allowances are arguments of the pass.
    pub acknowledge_now: bool,
    /// Keepalive probes sent without an answer.
    pub keepalive_probes: u32,
    /// Window probes sent without an answer.
    pub window_probes: u32,
    /// When we last answered a segment without data outside the window.
    pub last_out_of_window_ack_ns: Option<u64>,
    /// When the last segment arrived.
    pub last_received_ns: u64,
}

impl Tcb {
    /// A CLOSED socket with the engine defaults.
    pub fn new(handle: SocketHandle, config: &TcpConfig) -> Self {
        let options = UserOptions {
            no_delay: false,
            keep_alive: false,
            reuse_address: false,
            receive_buffer: config.receive_buffer,
            send_buffer: config.send_buffer,
            linger: None,
            v6_only: false,
        };
        let unspecified = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        Self {
            handle,
            state: State::Closed,
            local: unspecified,
            remote: unspecified,
            role: Role::Unbound,
            options,
            error: None,
            soft_error: None,
            event_pending: false,
            initial_send: Sequence(0),
            send_unacknowledged: Sequence(0),
            send_next: Sequence(0),
            send_maximum: Sequence(0),
            send_window: 0,
            send_window_sequence: Sequence(0),
            send_window_acknowledgment: Sequence(0),
            maximum_send_window: 0,
            negotiated: Negotiated::default(),
            send_scale: 0,
            receive_scale: 0,
            segment_size: 536,
            announced_segment_size: 536,
            offload: crate::Offload::NONE,
            send_buffer: SendBuffer::new(options.send_buffer),
            fin_queued: false,
            receive: ReceiveBuffer::new(options.receive_buffer, Sequence(0)),
            initial_receive: Sequence(0),
            receive_advertised: Sequence(0),
            read_shutdown: false,
            timestamp_recent: 0,
            timestamp_offset: 0,
            last_acknowledgment_sent: Sequence(0),
            duplicate_received: None,
            flight: Flight::default(),
            rack: Rack::default(),
            rtt: RttEstimator::new(
                config.initial_rto_ns,
                config.minimum_rto_ns,
                config.maximum_rto_ns,
            ),
            timed: None,
            backoff: 0,
            congestion: Congestion::new(config.congestion, 536),
            duplicate_acks: 0,
            recovery: Recovery::Open,
            recover: Sequence(0),
            ecn: Signals::default(),
            timers: Timers::default(),
            receive_segment_size: 536,
            unacknowledged_bytes: 0,
            acknowledge_now: false,
            keepalive_probes: 0,
            window_probes: 0,
            last_out_of_window_ack_ns: None,
            last_received_ns: 0,
        }
    }

    /// Sets up the send sequence space from ISS.
    pub fn start_sending(&mut self, initial: Sequence) {
        self.initial_send = initial;
        self.send_unacknowledged = initial;
        self.send_next = initial;
        self.send_maximum = initial;
        self.recover = initial;
        self.ecn.until = initial;
        self.send_buffer.synchronize(initial.add(1));
        self.send_buffer.set_limit(self.options.send_buffer);
    }

    /// Sets up the receive sequence space from the peer's SYN.
    pub fn start_receiving(&mut self, initial: Sequence) {
        self.initial_receive = initial;
        self.receive.set_limit(self.options.receive_buffer);
        self.receive.synchronize(initial.add(1));
        self.receive_advertised = initial.add(1);
        self.last_acknowledgment_sent = initial.add(1);
    }

    /// RCV.WND as advertised: room up to the advertised right edge.
    pub fn receive_window(&self) -> u32 {
        self.receive_advertised
            .saturating_since(self.receive.next())
    }

    /// The FIN's sequence number once queued.
    pub fn fin_sequence(&self) -> Option<Sequence> {
        self.fin_queued.then(|| self.send_buffer.end())
    }

    /// Our FIN was sent.
    pub fn fin_sent(&self) -> bool {
        self.fin_sequence()
            .is_some_and(|fin| self.send_maximum.after(fin))
    }

    /// Our FIN was acknowledged.
    pub fn fin_acknowledged(&self) -> bool {
        self.fin_sequence()
            .is_some_and(|fin| self.send_unacknowledged.after(fin))
    }

    /// Bytes sent and not acknowledged (SYN and FIN included).
    pub fn outstanding(&self) -> u32 {
        self.send_maximum.since(self.send_unacknowledged)
    }

    /// Our TSval at `now_ns`: a millisecond clock with a per-connection
    /// offset (RFC 7323 5.4).
    pub fn timestamp_value(&self, now_ns: u64) -> u32 {
        ((now_ns / 1_000_000) as u32).wrapping_add(self.timestamp_offset)
    }

    /// The current retransmission timeout.
    pub fn retransmission_timeout(&self) -> u64 {
        self.rtt.timeout(self.backoff)
    }

    /// The handshake completed (and, once CLOSED, had completed).
    pub fn connected(&self) -> bool {
        self.state.is_synchronized() || matches!(self.role, Role::Finished)
    }

    /// Frees buffer memory a connection no longer needs (TIME-WAIT and
    /// CLOSED): the send buffer once empty, the receive buffer once no
    /// user can read it.
    pub fn release_storage(&mut self, charges: &mut Charges) {
        self.send_buffer.release(charges);
        self.flight.release(charges);
        if !self.role.is_user_held() {
            self.receive.discard();
        }
        self.receive.release(charges);
    }

    /// Whether the connection holds no data at all: nothing queued, in
    /// flight, readable or out of order (its buffers can go).
    pub fn holds_no_data(&self) -> bool {
        self.send_buffer.len() == 0
            && self.flight.len() == 0
            && self.receive.readable() == 0
            && !self.receive.has_holes()
    }

    /// Gives back the buffers of a connection that holds no data; they
    /// are allocated again when data comes. Returns the bytes freed.
    pub fn shrink(&mut self, charges: &mut Charges) -> usize {
        if !self.holds_no_data() {
            return 0;
        }
        let before = self.storage_bytes();
        self.send_buffer.release(charges);
        self.flight.release(charges);
        self.receive.release(charges);
        before - self.storage_bytes()
    }

    /// Heap bytes held besides the box itself: buffers, flight records
    /// and a listener's accept side.
    pub fn storage_bytes(&self) -> usize {
        let listener = self.role.listener().map_or(0, Listener::footprint);
        self.send_buffer.capacity() + self.receive.capacity() + self.flight.capacity() + listener
    }

    /// Every byte this socket holds, as charged: the box, its share of the
    /// tables and its storage.
    pub fn footprint(&self) -> usize {
        SOCKET_BYTES + self.storage_bytes()
    }

    /// The local address as bound, with IPV6_V6ONLY.
    pub fn binding(&self) -> Binding {
        Binding {
            address: self.local.ip(),
            v6_only: self.options.v6_only,
        }
    }

    /// Forgets every timer (CLOSED).
    pub fn stop_timers(&mut self) {
        self.timers = Timers::default();
    }
}

use crate::TcpError;
