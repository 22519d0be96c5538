//! The TCP protocol engine of the net faction (sans-IO, RFC 9293).
//!
//! [`Tcp`] is a pure, deterministic state machine holding every TCP socket
//! of one network stack. It never reads a clock, takes a lock or touches a
//! device: time comes in as `now_ns` (monotonic nanoseconds), segments come
//! in as byte slices through [`Tcp::input`], and go out through the
//! [`Transmit`] trait the caller implements. The kernel glue calls it
//! under the network lock and
//!
//! 1. feeds every TCP payload of a checked IPv4 or IPv6 packet to
//!    [`Tcp::input`] ([`Tcp::input_marked`] with the header's ECN field);
//! 2. keeps one timer armed at [`Tcp::next_deadline`] and calls
//!    [`Tcp::on_timer`] when it fires (an index of each socket's earliest
//!    deadline makes the first O(1) and the second visit only the sockets
//!    whose timers expired, however many sit in TIME-WAIT);
//! 3. after every call, drains [`Tcp::drain_events`] and wakes the threads
//!    waiting on those handles; the socket calls never block but return
//!    [`TcpError::WouldBlock`].
//!
//! Both families, one table: endpoints are `SocketAddr`s of the family
//! their packets travel in, with the IPv6 pseudo-header, MSS and SYN
//! cookie sizes, and link-local zones (`address.rs`); a listener on the
//! IPv6 wildcard takes IPv4 too unless IPV6_V6ONLY ([`SocketOption::V6Only`]).
//!
//! What is implemented: the RFC 9293 state machine with simultaneous open
//! and close and TIME-WAIT reuse (RFC 6191); SYN cookies when a listener's
//! SYN queue is full (RFC 4987, `listen.rs`); MSS, window scaling,
//! timestamps with PAWS (RFC 7323); SACK and D-SACK both ways (RFC 2018,
//! RFC 2883) with an RFC 6675 scoreboard of the segments in flight; RACK
//! loss detection and tail loss probes (RFC 8985); RTO per RFC 6298 with
//! Karn's rule and recovery from the scoreboard after a timeout; undo of
//! spurious timeouts and recoveries by timestamps (Eifel, RFC 3522 and
//! RFC 4015), and of spurious timeouts without them (F-RTO, RFC 5682); fast retransmit, limited transmit and NewReno without SACK
//! (RFC 5681, RFC 3042, RFC 6582); proportional rate reduction in fast
//! recovery with SACK (RFC 6937); NewReno or CUBIC (RFC 9438) behind
//! [`CongestionControl`]; Nagle, delayed ACKs, keepalive, persist; RFC 5961
//! challenge ACKs; ECN (RFC 3168, `ecn.rs`); RFC 6528 ISNs and RFC 6056 ephemeral ports with
//! SipHash-2-4. Memory: one box per socket, two byte rings per connection
//! that grow up to the buffer sizes and one ring of flight records that
//! grows to the largest flight; nothing is allocated per segment once they
//! have grown. A TIME-WAIT connection nobody holds gives up its socket for
//! a 40-byte record (`time_wait.rs`; 60 bytes with its map entry, about 90
//! on the heap, where a socket takes 1.1 KiB; an IPv6 one 72 and 120). Every byte of it is charged to the
//! caller's [`MemoryBudget`] (`memory.rs`), and under memory pressure
//! [`Tcp::shrink_idle`] gives back the buffers of idle connections.
//!
//! Reading order: `state.rs` names the states a socket moves between (the
//! RFC 9293 state, its role in the engine's tables and queues, its loss
//! recovery, the negotiated options) and where each transition happens;
//! `tcb.rs` holds one socket; `engine.rs` the table of them.
//!
//! Segments are untrusted: nothing here panics on any bytes.

#![no_std]
// The engine has no unsafe code; only its tests install a counting
// allocator (`tests/heap.rs`), which is the one item allowed it.
#![cfg_attr(not(test), forbid(unsafe_code))]
#![cfg_attr(test, deny(unsafe_code))]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(test)]
extern crate std;

mod acknowledgment;
pub mod address;
mod arrival;
mod closing;
mod config;
mod congestion;
mod context;
mod cookie;
mod cubic;
mod ecn;
mod engine;
mod error;
mod flight;
mod forward;
mod handshake;
pub mod header;
mod icmp;
mod invariants;
mod listen;
mod loss;
mod memory;
pub mod options;
mod output;
mod ports;
mod probe;
mod prr;
mod query;
mod rack;
mod receive;
mod ring;
mod rtt;
mod send;
mod sender;
pub mod sequence;
mod shrink;
mod siphash;
mod socket;
mod state;
mod stats;
mod table;
mod tcb;
mod time_wait;
mod timers;

#[cfg(test)]
mod tests;

use core::net::IpAddr;

pub use address::{Binding, Path, scoped};
pub use config::{
    MAXIMUM_BUFFER, OptionName, Secrets, Shutdown, SocketOption, SocketStatus, TcpConfig,
};
pub use congestion::{Algorithm, CongestionControl, NewReno};
pub use cubic::Cubic;
pub use ecn::{Ecn, EcnMode};
pub use engine::Tcp;
pub use error::{TcpError, Unreachable};
pub use memory::{MemoryBudget, TABLE_BYTES_PER_SOCKET};
pub use siphash::siphash_2_4;
pub use state::State;
pub use stats::TcpStats;

/// What the engine needs from the IP layer below it, for both families.
pub trait Transmit {
    /// Route to `destination` (`zone`: the scope id of a link-local
    /// destination, 0 for none): the source address to use, the path MTU
    /// (IP packet size, e.g. 1500) and the zone the IP layer chose.
    /// `None` = no route (connect fails with [`TcpError::NoRoute`]).
    fn route(&self, destination: IpAddr, zone: u32) -> Option<Route>;

    /// Sends one TCP segment of `length` bytes (TCP header and payload)
    /// along `path`. The IP layer allocates a packet buffer with headroom
    /// and calls `fill` once with exactly `length` bytes to write the
    /// segment into, checksum included (computed by the engine with the
    /// pseudo-header of the path's family). `Err` means the segment was
    /// not sent (no buffer, no route, queue full); the engine treats it
    /// like a loss.
    fn send(
        &mut self,
        path: Path,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TransmitError>;

    /// [`Transmit::send`] with the ECN field to put in the IP header (RFC
    /// 3168): the engine asks for ECT(0) on the new data of connections
    /// that negotiated ECN, and uses `send` (Not-ECT) for everything
    /// else. The default drops the mark, which only means no router will
    /// mark the segment instead of dropping it.
    fn send_marked(
        &mut self,
        path: Path,
        ecn: Ecn,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TransmitError> {
        let _ = ecn;
        self.send(path, length, fill)
    }

    /// [`Transmit::send_marked`] for a segment shaped for the device
    /// (`shape`: its checksum left partial, or to be cut into segments of
    /// `shape.segment_size` payload bytes), which the engine asks for
    /// only where [`Transmit::route`] offered it ([`Offload`]). The
    /// default refuses anything but a plain segment.
    fn send_shaped(
        &mut self,
        path: Path,
        (ecn, shape): (Ecn, Shape),
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TransmitError> {
        if shape != Shape::PLAIN {
            return Err(TransmitError::NoBuffer);
        }
        self.send_marked(path, ecn, length, fill)
    }

    /// Whether the device vouched for the transport checksum of the IP
    /// packet whose payload [`Tcp::input`] is serving (checked in
    /// hardware, or from a host that never computed it): the engine then
    /// skips its own check. False by default.
    fn arriving_checksum_valid(&self) -> bool {
        false
    }

    /// The ECN field of the IP packet whose payload [`Tcp::input`] is
    /// serving, for an IP layer that remembers it from the header it just
    /// checked (Not-ECT by default). A caller that knows it can pass it to
    /// [`Tcp::input_marked`] instead.
    fn arriving_ecn(&self) -> Ecn {
        Ecn::NotCapable
    }

    /// The zone (scope id) of the interface the packet [`Tcp::input`] is
    /// serving came in on: what a link-local peer's address is scoped by
    /// (0 by default: one link).
    fn arriving_zone(&self) -> u32 {
        0
    }
}

/// A route to a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The source address to use.
    pub source: IpAddr,
    /// The path MTU: the largest IP packet, headers included.
    pub mtu: u16,
    /// The zone of a link-local destination (the one asked for, or the
    /// one the IP layer chose); 0 for any other.
    pub zone: u32,
    /// What the interface's device does for segments on this route.
    pub offload: Offload,
}

/// What a route's device does for TCP segments (see [`Shape`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offload {
    /// It completes checksums left partial (over the pseudo-header of the
    /// route's family).
    pub checksum: bool,
    /// It cuts segments of up to this many payload bytes into segments of
    /// the connection's MSS (TSO); 0 when it does not, or not for the
    /// route's family.
    pub segment_limit: u32,
}

impl Offload {
    /// A device that does nothing for TCP.
    pub const NONE: Self = Self {
        checksum: false,
        segment_limit: 0,
    };
}

/// How one segment is handed to the device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// The checksum field holds the folded pseudo-header sum (over the
    /// whole segment's length, RFC 1071 not complemented): the device sums
    /// the segment into it and stores the complement.
    pub partial_checksum: bool,
    /// Payload bytes per segment the device cuts this one into (its
    /// headers copied, sequence numbers advanced, FIN and PSH on the last
    /// only); 0 when it goes as is.
    pub segment_size: u16,
}

impl Shape {
    /// A segment the engine finished itself.
    pub const PLAIN: Self = Self {
        partial_checksum: false,
        segment_size: 0,
    };
}

/// Why the IP layer did not send a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransmitError {
    /// No packet buffer was free.
    NoBuffer,
    /// The route went away.
    NoRoute,
    /// The interface queue is full.
    QueueFull,
}

/// Names one socket of a [`Tcp`]. Generation-checked: a handle of a closed
/// socket never reaches a later socket in the same slot.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SocketHandle {
    index: u32,
    generation: u32,
}

impl SocketHandle {
    /// A number unique among the live sockets (for the glue's tables).
    pub const fn index(self) -> u32 {
        self.index
    }
}
