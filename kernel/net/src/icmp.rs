//! ICMP: echo replies and destination-unreachable errors, rate-limited.
//!
//! Echo requests are answered in the request's own buffer (the header is
//! rewritten in place, nothing is copied). Errors quote the offending
//! datagram's IP header and first 8 payload bytes (RFC 792). Both draw
//! from token buckets ([`RateLimit`]) so that a flood costs the host a
//! bounded amount of output, as RFC 1812 asks of error messages.

use core::net::Ipv4Addr;

use wire::icmp::{HEADER_LEN, unreachable};
use wire::ipv4::protocol;
use wire::{IcmpKind, IcmpMessage, Ipv4Header};

use crate::buffer::PacketBuffer;
use crate::icmp_errors::Unreachable;
use crate::ipv4::IpLayer;
use crate::probe::Answer;

/// Echo replies per second at most.
pub const ECHO_REPLIES_PER_SECOND: u32 = 1000;
/// Error messages per second at most.
pub const ERRORS_PER_SECOND: u32 = 100;

/// A token bucket: `rate` tokens a second, holding at most `rate`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    rate: u32,
    tokens: u32,
    refilled_ns: u64,
}

impl RateLimit {
    /// A full bucket.
    pub const fn new(rate: u32) -> Self {
        Self {
            rate,
            tokens: rate,
            refilled_ns: 0,
        }
    }

    /// Takes a token if there is one.
    pub fn allow(&mut self, now_ns: u64) -> bool {
        let elapsed = now_ns.saturating_sub(self.refilled_ns);
        let earned = elapsed.saturating_mul(u64::from(self.rate)) / 1_000_000_000;
        if earned > 0 {
            let tokens = u64::from(self.tokens).saturating_add(earned);
            self.tokens = tokens.min(u64::from(self.rate)) as u32;
            self.refilled_ns = now_ns;
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// ICMP counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IcmpStats {
    /// Messages received.
    pub received: u64,
    /// Dropped: truncated or bad checksum.
    pub malformed: u64,
    /// Echo requests answered.
    pub echo_replies: u64,
    /// Unreachable errors sent.
    pub unreachables_sent: u64,
    /// Replies or errors not sent because of the rate limit.
    pub rate_limited: u64,
    /// Destination-unreachable messages received.
    pub unreachables_received: u64,
    /// Time-exceeded errors sent (a forwarded packet's TTL ran out).
    pub time_exceeded_sent: u64,
    /// Time-exceeded messages received.
    pub time_exceeded_received: u64,
}

/// Echo replies remembered for pingers, at most.
const REPLIES_KEPT: usize = 16;

/// An echo reply that arrived: identifier, sequence, arrival time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply {
    /// The sender of the reply.
    pub source: Ipv4Addr,
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
    pub probed: Ipv4Addr,
}

/// ICMP state: limits and counters.
#[derive(Debug)]
pub struct Icmp {
    echo_limit: RateLimit,
    error_limit: RateLimit,
    /// The latest echo replies, for [`crate::Net::ping`].
    pub(crate) replies: alloc::collections::VecDeque<EchoReply>,
    /// Set when a reply arrived; the glue wakes pingers and clears it.
    pub(crate) reply_arrived: bool,
    /// Counters.
    pub stats: IcmpStats,
}

impl Default for Icmp {
    fn default() -> Self {
        Self {
            echo_limit: RateLimit::new(ECHO_REPLIES_PER_SECOND),
            error_limit: RateLimit::new(ERRORS_PER_SECOND),
            replies: alloc::collections::VecDeque::with_capacity(REPLIES_KEPT),
            reply_arrived: false,
            stats: IcmpStats::default(),
        }
    }
}

impl Icmp {
    /// Handles a received message (`message` is the IP payload); a
    /// destination-unreachable comes back parsed, for the transports.
    pub fn input(
        &mut self,
        ip: &mut IpLayer,
        header: &Ipv4Header,
        message: PacketBuffer,
    ) -> Option<Unreachable> {
        self.stats.received += 1;
        let parsed = match IcmpMessage::parse(message.data()) {
            Ok(parsed) => parsed,
            Err(_) => {
                self.stats.malformed += 1;
                return None;
            }
        };
        match parsed.kind {
            IcmpKind::EchoRequest {
                identifier,
                sequence,
            } => self.answer_echo(ip, header, message, identifier, sequence),
            IcmpKind::EchoReply {
                identifier,
                sequence,
            } => self.record_reply(ip, header, identifier, sequence),
            IcmpKind::DestinationUnreachable { code } => {
                self.stats.unreachables_received += 1;
                return self.error_input(ip, header, message.data(), code, 0);
            }
            IcmpKind::FragmentationNeeded { next_hop_mtu } => {
                self.stats.unreachables_received += 1;
                let code = unreachable::FRAGMENTATION_NEEDED;
                return self.error_input(ip, header, message.data(), code, next_hop_mtu);
            }
            IcmpKind::TimeExceeded { .. } => {
                self.stats.time_exceeded_received += 1;
                let quote = message.data().get(HEADER_LEN..).unwrap_or_default();
                self.record_probe_error(ip, header.source, quote, Answer::TimeExceeded);
            }
            IcmpKind::Other { .. } => {}
        }
        None
    }

    /// A destination unreachable about `message`'s quote: an answer to one
    /// of our probes (`probe.rs`), or a report for the transports.
    fn error_input(
        &mut self,
        ip: &IpLayer,
        header: &Ipv4Header,
        message: &[u8],
        code: u8,
        next_hop_mtu: u16,
    ) -> Option<Unreachable> {
        let quote = message.get(HEADER_LEN..)?;
        let answer = match code {
            unreachable::FRAGMENTATION_NEEDED => Answer::TooBig {
                mtu: next_hop_mtu.into(),
            },
            code => Answer::Unreachable { code },
        };
        if self.record_probe_error(ip, header.source, quote, answer) {
            return None;
        }
        let report = Unreachable::parse(code, quote)?;
        Some(Unreachable {
            next_hop_mtu,
            ..report
        })
    }

    /// Turns an echo request into its reply in place and sends it back.
    fn answer_echo(
        &mut self,
        ip: &mut IpLayer,
        header: &Ipv4Header,
        mut message: PacketBuffer,
        identifier: u16,
        sequence: u16,
    ) {
        // Broadcast pings go unanswered, as on Linux and NetBSD.
        if !ip.is_local(header.destination) || !answerable(header.source) {
            return;
        }
        if !self.echo_limit.allow(ip.now_ns) {
            self.stats.rate_limited += 1;
            return;
        }
        let reply = IcmpKind::EchoReply {
            identifier,
            sequence,
        };
        IcmpMessage { kind: reply }.write(message.data_mut());
        let sent = ip.output(header.destination, header.source, protocol::ICMP, message);
        if sent.is_ok() {
            self.stats.echo_replies += 1;
        }
    }

    /// Keeps an echo reply for the pingers.
    fn record_reply(&mut self, ip: &IpLayer, header: &Ipv4Header, identifier: u16, sequence: u16) {
        if self.replies.len() >= REPLIES_KEPT {
            self.replies.pop_front();
        }
        self.replies.push_back(EchoReply {
            source: header.source,
            identifier,
            sequence,
            arrived_ns: ip.now_ns,
            answer: Answer::Echo,
            probed: header.source,
        });
        self.reply_arrived = true;
    }

    /// Tells `header.source` that nothing listens on the port of the
    /// datagram `header` + `payload` (code: [`mod@unreachable`]).
    pub fn send_unreachable(
        &mut self,
        ip: &mut IpLayer,
        code: u8,
        header: &Ipv4Header,
        payload: &[u8],
    ) {
        // RFC 1122 3.2.2: never about broadcasts, never to a non-host.
        if !ip.is_local(header.destination) || !answerable(header.source) {
            return;
        }
        if !self.error_limit.allow(ip.now_ns) {
            self.stats.rate_limited += 1;
            return;
        }
        let Ok(mut buffer) = ip.pool.allocate() else {
            ip.stats.no_buffer += 1;
            return;
        };
        let quoted = payload.len().min(8);
        let length = HEADER_LEN + wire::ipv4::HEADER_LEN + quoted;
        let Ok(bytes) = buffer.append(length) else {
            return;
        };
        let mut original = *header;
        original.total_len = original
            .total_len
            .min(wire::ipv4::HEADER_LEN + payload.len());
        original.write(&mut bytes[HEADER_LEN..]);
        bytes[HEADER_LEN + wire::ipv4::HEADER_LEN..].copy_from_slice(&payload[..quoted]);
        IcmpMessage {
            kind: IcmpKind::DestinationUnreachable { code },
        }
        .write(bytes);
        if ip
            .output(header.destination, header.source, protocol::ICMP, buffer)
            .is_ok()
        {
            self.stats.unreachables_sent += 1;
        }
    }
}

impl Icmp {
    /// Sends an echo request with `payload` to `destination`, with time
    /// to live `ttl` (64 for a ping; less for a probe, `probe.rs`).
    ///
    /// # Errors
    /// [`crate::ipv4::OutputError`].
    pub fn send_echo_request(
        &mut self,
        ip: &mut IpLayer,
        destination: Ipv4Addr,
        (identifier, sequence): (u16, u16),
        payload: &[u8],
        ttl: u8,
    ) -> Result<(), crate::ipv4::OutputError> {
        let length = HEADER_LEN + payload.len();
        let mut buffer = ip.pool.allocate_large(length).map_err(|_| ip.no_buffer())?;
        let bytes = buffer
            .append(length)
            .map_err(|_| crate::ipv4::OutputError::TooBig)?;
        bytes[HEADER_LEN..].copy_from_slice(payload);
        let kind = IcmpKind::EchoRequest {
            identifier,
            sequence,
        };
        IcmpMessage { kind }.write(bytes);
        ip.output_with_ttl(destination, protocol::ICMP, ttl, buffer)
    }

    /// Tells the source of `packet` (a datagram this host would not
    /// forward, its header `header`) why, with `kind`: time exceeded, net
    /// unreachable, fragmentation needed. The error quotes as much of the
    /// datagram as keeps it within 576 bytes (RFC 1812 4.3.2.3); none goes
    /// about an ICMP error, a fragment but the first, or to a source no
    /// host has (RFC 1812 4.3.2.7), and all draw on the errors' bucket.
    pub(crate) fn send_forward_error(
        &mut self,
        ip: &mut IpLayer,
        kind: IcmpKind,
        header: &Ipv4Header,
        packet: &[u8],
    ) {
        let about_error = header.protocol == protocol::ICMP
            && packet
                .get(header.header_len)
                .is_some_and(|&kind| ICMP_ERRORS.contains(&kind));
        if about_error || header.fragment_offset != 0 || !answerable(header.source) {
            return;
        }
        if !self.error_limit.allow(ip.now_ns) {
            self.stats.rate_limited += 1;
            return;
        }
        let Ok(mut buffer) = ip.pool.allocate() else {
            ip.stats.no_buffer += 1;
            return;
        };
        let quoted = packet.len().min(FORWARD_ERROR_QUOTE);
        let Ok(bytes) = buffer.append(HEADER_LEN + quoted) else {
            return;
        };
        bytes[HEADER_LEN..].copy_from_slice(&packet[..quoted]);
        IcmpMessage { kind }.write(bytes);
        let sent = ip.output(Ipv4Addr::UNSPECIFIED, header.source, protocol::ICMP, buffer);
        match (sent, kind) {
            (Ok(()), IcmpKind::TimeExceeded { .. }) => self.stats.time_exceeded_sent += 1,
            (Ok(()), _) => self.stats.unreachables_sent += 1,
            (Err(_), _) => {}
        }
    }
}

/// The ICMP types that are errors (unreachable, source quench, redirect,
/// time exceeded, parameter problem): no error goes back about them.
const ICMP_ERRORS: [u8; 5] = [3, 4, 5, 11, 12];

/// Bytes of the offending datagram an error about a forwarded one quotes
/// at most: 576 less the error's IP and ICMP headers.
const FORWARD_ERROR_QUOTE: usize = 576 - wire::ipv4::HEADER_LEN - HEADER_LEN;

/// The code for a closed UDP port.
pub const PORT_UNREACHABLE: u8 = unreachable::PORT;
/// The code for a protocol we do not speak.
pub const PROTOCOL_UNREACHABLE: u8 = unreachable::PROTOCOL;

/// Whether `address` may be answered at all (not a broadcast or
/// unspecified source).
pub fn answerable(address: Ipv4Addr) -> bool {
    !address.is_unspecified() && !address.is_broadcast() && !address.is_multicast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_at_its_rate_and_holds_at_most_one_second() {
        let mut limit = RateLimit::new(10);
        assert_eq!((0..20).filter(|_| limit.allow(0)).count(), 10);
        assert!(!limit.allow(50_000_000));
        assert!(limit.allow(100_000_000));
        assert_eq!((0..20).filter(|_| limit.allow(10_000_000_000)).count(), 10);
    }
}
