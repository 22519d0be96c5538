//! ICMPv6 (RFC 4443): echo answered, errors sent with their quote and
//! rate-limited, errors received parsed for the transports, and Neighbor
//! Discovery and MLD handed to their modules.
//!
//! Echo requests to a group go unanswered (as IPv4's broadcast pings);
//! replies are made in the request's own buffer. Errors quote as much of
//! the offending packet as keeps the error within the minimum MTU, and
//! follow RFC 4443 2.4 (e): never about an error, never to an
//! unspecified or group source, never about a packet sent to a group
//! unless the kind allows it. Replies and errors draw from token
//! buckets, as IPv4's ICMP does.

use alloc::collections::VecDeque;
use core::net::{IpAddr, Ipv6Addr, SocketAddr};

use wire::extension::{Chain, skip, walk};
use wire::icmpv6::{HEADER_LEN, kind};
use wire::ipv6::{MINIMUM_MTU, next_header};
use wire::{Icmpv6Kind, Icmpv6Message, Ipv6Header};

use super::input::{Arrival, Ipv6Input};
use crate::buffer::PacketBuffer;
use crate::icmp::{ECHO_REPLIES_PER_SECOND, ERRORS_PER_SECOND, RateLimit};
use crate::interface::InterfaceIndex;
use crate::ipv4::{IpLayer, OutputError};
use crate::probe::Answer;

/// Echo replies remembered for pingers, at most.
const REPLIES_KEPT: usize = 16;

/// ICMPv6 counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Icmpv6Stats {
    /// Messages received.
    pub received: u64,
    /// Dropped: truncated or bad checksum.
    pub malformed: u64,
    /// Echo requests answered.
    pub echo_replies: u64,
    /// Echo replies received.
    pub echo_replies_received: u64,
    /// Errors sent.
    pub errors_sent: u64,
    /// Errors received.
    pub errors_received: u64,
    /// Packet Too Big about our packets (`icmp_errors.rs`: TCP checks
    /// and takes those about its segments, the cache the rest).
    pub packet_too_big: u64,
    /// Replies or errors not sent because of the rate limit.
    pub rate_limited: u64,
}

/// An echo reply that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply6 {
    /// The sender of the reply.
    pub source: Ipv6Addr,
    /// Identifier.
    pub identifier: u16,
    /// Sequence number.
    pub sequence: u16,
    /// When it arrived.
    pub arrived_ns: u64,
    /// An echo reply, or an error that quotes our request.
    pub answer: Answer,
    /// Where the request went (the source of an echo reply, the quoted
    /// destination of an error).
    pub probed: Ipv6Addr,
}

/// ICMPv6 state: limits, replies and counters.
#[derive(Debug)]
pub struct Icmpv6State {
    echo_limit: RateLimit,
    error_limit: RateLimit,
    /// The latest echo replies, for [`crate::Net::ping6`].
    pub(crate) replies: VecDeque<EchoReply6>,
    /// Set when a reply arrived; the stack passes it on to the glue.
    pub(crate) reply_arrived: bool,
    /// Counters.
    pub stats: Icmpv6Stats,
}

impl Default for Icmpv6State {
    fn default() -> Self {
        Self {
            echo_limit: RateLimit::new(ECHO_REPLIES_PER_SECOND),
            error_limit: RateLimit::new(ERRORS_PER_SECOND),
            replies: VecDeque::with_capacity(REPLIES_KEPT),
            reply_arrived: false,
            stats: Icmpv6Stats::default(),
        }
    }
}

impl Icmpv6State {
    /// The latest echo replies, oldest first.
    pub fn replies(&self) -> impl Iterator<Item = &EchoReply6> + '_ {
        self.replies.iter()
    }
}

/// An ICMPv6 error about a packet this host sent, parsed from its quote:
/// what the transports need to find the connection it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorReport {
    /// The error.
    pub kind: Icmpv6Kind,
    /// The quoted packet's upper layer.
    pub protocol: u8,
    /// Our end of it (scoped by the interface the error came in on, if
    /// link-local).
    pub local: SocketAddr,
    /// The far end (scoped likewise).
    pub remote: SocketAddr,
    /// For TCP, the quoted sequence number.
    pub sequence: u32,
}

impl ErrorReport {
    /// Parses the quote (after the error's 8-byte header): the fixed
    /// header, the extension headers, and 8 bytes of the upper layer.
    /// `zone` is the scope id of the interface the error came in on.
    pub fn parse(kind: Icmpv6Kind, quote: &[u8], zone: u32) -> Option<Self> {
        let header = Ipv6Header::parse_quoted(quote)?;
        let chain = walk(quote, header.next_header, 40, 6, false).ok()?;
        if chain.fragment.is_some_and(|f| f.offset != 0) {
            return None;
        }
        let upper = quote.get(chain.offset..chain.offset + 8)?;
        let port = |at: usize| u16::from_be_bytes([upper[at], upper[at + 1]]);
        Some(Self {
            kind,
            protocol: chain.protocol,
            local: tcp::scoped(IpAddr::V6(header.source), port(0), zone),
            remote: tcp::scoped(IpAddr::V6(header.destination), port(2), zone),
            sequence: u32::from_be_bytes([upper[4], upper[5], upper[6], upper[7]]),
        })
    }
}

impl IpLayer {
    /// An ICMPv6 message for us (at `chain.offset` in `packet`).
    pub(crate) fn icmpv6_input(
        &mut self,
        arrival: &Arrival,
        packet: PacketBuffer,
        chain: Chain,
        reassembled: bool,
    ) -> Ipv6Input {
        self.v6.icmp.stats.received += 1;
        let header = &arrival.header;
        let message = &packet.data()[chain.offset..];
        let Ok(parsed) = Icmpv6Message::parse(message, header.source, header.destination) else {
            self.v6.icmp.stats.malformed += 1;
            return Ipv6Input::Consumed;
        };
        match parsed.kind {
            Icmpv6Kind::EchoRequest { .. } => self.answer_echo6(arrival, packet, chain.offset),
            Icmpv6Kind::EchoReply {
                identifier,
                sequence,
            } => self.record_reply6(header.source, identifier, sequence),
            kind if kind.is_error() => {
                self.v6.icmp.stats.errors_received += 1;
                let quote = message.get(HEADER_LEN..).unwrap_or_default();
                self.record_probe_error6(header.source, quote, kind);
                let report = message
                    .get(HEADER_LEN..)
                    .and_then(|q| ErrorReport::parse(kind, q, arrival.index.scope_id()));
                if let Some(report) = report.filter(|r| self.is_local_ip(r.local.ip())) {
                    return Ipv6Input::Error(report);
                }
            }
            Icmpv6Kind::Other {
                kind: kind::ROUTER_SOLICITATION..=kind::REDIRECT,
                ..
            } => self.nd_input(arrival.index, header, message, reassembled),
            Icmpv6Kind::Other {
                kind: kind::MLD_QUERY,
                ..
            } => self.mld_query_input(arrival.index, header, message, chain.router_alert),
            _ => {}
        }
        Ipv6Input::Consumed
    }

    /// Turns an echo request into its reply in place and sends it back.
    fn answer_echo6(&mut self, arrival: &Arrival, mut message: PacketBuffer, offset: usize) {
        let header = &arrival.header;
        if header.destination.is_multicast() || arrival.link_multicast {
            return;
        }
        if !self.v6.icmp.echo_limit.allow(self.now_ns) {
            self.v6.icmp.stats.rate_limited += 1;
            return;
        }
        message.strip_front(offset);
        let bytes = message.data_mut();
        bytes[0] = kind::ECHO_REPLY;
        wire::icmpv6::seal(bytes, header.destination, header.source);
        let zone = Some(arrival.index);
        let sent = self.output6(
            header.destination,
            header.source,
            next_header::ICMPV6,
            message,
            zone,
        );
        if sent.is_ok() {
            self.v6.icmp.stats.echo_replies += 1;
        }
    }

    fn record_reply6(&mut self, source: Ipv6Addr, identifier: u16, sequence: u16) {
        let icmp = &mut self.v6.icmp;
        icmp.stats.echo_replies_received += 1;
        if icmp.replies.len() >= REPLIES_KEPT {
            icmp.replies.pop_front();
        }
        icmp.replies.push_back(EchoReply6 {
            source,
            identifier,
            sequence,
            arrived_ns: self.now_ns,
            answer: Answer::Echo,
            probed: source,
        });
        icmp.reply_arrived = true;
    }

    /// Sends `kind` about `invoking` (the whole offending packet, whose
    /// fixed header is `header`) back to its source, rate-limited; the
    /// caller checked the rules about groups. `to_group` says the
    /// offending packet went to one (the error's source is then chosen).
    pub(crate) fn send_error6(
        &mut self,
        index: InterfaceIndex,
        header: &Ipv6Header,
        invoking: &[u8],
        kind: Icmpv6Kind,
        to_group: bool,
    ) {
        let source = header.source;
        if source.is_unspecified() || source.is_multicast() || is_error(header, invoking) {
            return;
        }
        if !self.error6_allowed() {
            return;
        }
        let from = match to_group || !self.is_local6(header.destination) {
            true => Ipv6Addr::UNSPECIFIED,
            false => header.destination,
        };
        let Ok(mut buffer) = self.pool.allocate() else {
            self.v6.stats.no_buffer += 1;
            return;
        };
        let quoted = invoking.len().min(MINIMUM_MTU - 40 - HEADER_LEN);
        let Ok(bytes) = buffer.append(HEADER_LEN + quoted) else {
            return;
        };
        bytes[HEADER_LEN..].copy_from_slice(&invoking[..quoted]);
        let Some(hop) = self.next_hop6(source, Some(index)) else {
            self.v6.stats.no_route += 1;
            return;
        };
        let from = if from.is_unspecified() {
            hop.source
        } else {
            from
        };
        Icmpv6Message { kind }.write(bytes, from, source);
        if self
            .output6(from, source, next_header::ICMPV6, buffer, Some(index))
            .is_ok()
        {
            self.v6.icmp.stats.errors_sent += 1;
        }
    }

    /// Whether the ICMPv6 errors' rate limit lets one more go now (one
    /// refused is counted).
    pub(crate) fn error6_allowed(&mut self) -> bool {
        let allowed = self.v6.icmp.error_limit.allow(self.now_ns);
        self.v6.icmp.stats.rate_limited += u64::from(!allowed);
        allowed
    }

    /// Sends an echo request with `payload` to `destination`, with the
    /// interface's hop limit or `hop_limit` (a probe, `probe.rs`).
    ///
    /// # Errors
    /// [`OutputError`].
    pub fn send_echo_request6(
        &mut self,
        destination: Ipv6Addr,
        zone: Option<InterfaceIndex>,
        (identifier, sequence): (u16, u16),
        payload: &[u8],
        hop_limit: Option<u8>,
    ) -> Result<(), OutputError> {
        let Some(mut hop) = self.next_hop6(destination, zone) else {
            self.v6.stats.no_route += 1;
            return Err(OutputError::NoRoute);
        };
        let length = HEADER_LEN + payload.len();
        let mut buffer = self
            .pool
            .allocate_large(length)
            .map_err(|_| self.no_buffer6())?;
        let bytes = buffer.append(length).map_err(|_| OutputError::TooBig)?;
        bytes[HEADER_LEN..].copy_from_slice(payload);
        let kind = Icmpv6Kind::EchoRequest {
            identifier,
            sequence,
        };
        Icmpv6Message { kind }.write(bytes, hop.source, destination);
        hop.hop_limit = hop_limit.unwrap_or(hop.hop_limit);
        let mut header = Ipv6Header::new(hop.source, destination, next_header::ICMPV6, length);
        header.hop_limit = match destination.is_multicast() {
            true => 1,
            false => hop.hop_limit,
        };
        self.send6(hop, header, buffer)
    }
}

/// Whether `invoking` is itself an ICMPv6 error (or a redirect): no
/// error goes back about those.
fn is_error(header: &Ipv6Header, invoking: &[u8]) -> bool {
    let Some((protocol, offset)) = skip(invoking, header.next_header, 40) else {
        return false;
    };
    let kind = invoking.get(offset).copied();
    protocol == next_header::ICMPV6
        && kind.is_some_and(|kind| kind < 128 || kind == wire::icmpv6::kind::REDIRECT)
}
