//! The plain types the client exchanges with the kernel glue.
//!
//! All are `Copy` and hold no references except the static host name, so
//! the glue can keep, log or forward them freely.

use crate::Lease;
use core::net::Ipv4Addr;

/// What the client needs to know about its interface, fixed at creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The interface's Ethernet address: `chaddr` and the client identifier.
    pub mac: [u8; 6],
    /// Sent as option 12 when present and not empty; at most its first 255
    /// bytes are sent.
    pub hostname: Option<&'static str>,
    /// Seeds the transaction ids and the retransmit jitter; take it from the
    /// random hypercall so that two clients never share xids.
    pub random_seed: u64,
}

/// The client states of RFC 2131 §4.4 (figure 5); INIT-REBOOT and
/// REBOOTING are not implemented: a client always starts from INIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No address and no exchange: a DISCOVER is due (or, after
    /// [`crate::DhcpClient::release`], nothing is).
    Init,
    /// DISCOVER sent; waiting for the first acceptable OFFER.
    Selecting,
    /// REQUEST for an offer sent; waiting for ACK or NAK.
    Requesting,
    /// The lease is valid; nothing to send until T1.
    Bound,
    /// Past T1: renewing by unicast with the leasing server.
    Renewing,
    /// Past T2: asking any server by broadcast to extend the lease.
    Rebinding,
}

/// A message written into the caller's buffer, to be sent as one UDP
/// datagram from port 68 to port 67.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Bytes of the buffer that hold the message.
    pub length: usize,
    /// IP source: 0.0.0.0 until an address is leased, then that address.
    pub source: Ipv4Addr,
    /// IP destination: 255.255.255.255, or the server when renewing or
    /// releasing (link-layer: broadcast, or the server's or router's MAC).
    pub destination: Ipv4Addr,
}

/// What the glue must do to the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new address: configure it (and the router and DNS), replacing any
    /// address from an earlier lease.
    Bound(Lease),
    /// The same address with new times (and possibly new router or DNS).
    Renewed(Lease),
    /// The lease expired or a server refused it: remove the address.
    Lost,
}

/// Counters of what the client sent and received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DhcpStats {
    /// DISCOVERs sent, retransmissions included.
    pub discovers_sent: u64,
    /// REQUESTs sent (selecting, renewing and rebinding), with retries.
    pub requests_sent: u64,
    /// RELEASEs sent.
    pub releases_sent: u64,
    /// OFFERs taken (the first acceptable one of each exchange).
    pub offers_received: u64,
    /// ACKs that granted a lease.
    pub acks_received: u64,
    /// NAKs that ended an exchange or a lease.
    pub naks_received: u64,
    /// Payloads that are not a DHCP message: short, without the cookie,
    /// with an option running past the end, or without option 53.
    pub malformed: u64,
    /// Well-formed messages not for us or not expected now: wrong op, xid
    /// or hardware address, a type the state does not await, a foreign
    /// server, or an offer or ACK with no usable address or lease time.
    pub ignored: u64,
}

/// Adds one to a counter; a `u64` of messages never wraps in practice, and
/// saturating keeps that true without a panic path.
pub(crate) fn count(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}
