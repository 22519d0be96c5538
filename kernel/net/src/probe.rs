//! Probes: echo requests of a chosen size and hop limit, and what answers.
//!
//! [`Net::probe`] sends one ICMP or ICMPv6 echo request and waits for its
//! answer: the echo reply, or an error that quotes the request — time
//! exceeded from a router whose hop it ran out on, destination
//! unreachable, fragmentation needed or packet too big. That is ping with
//! a size and traceroute in one call, for tests and diagnostics (there
//! are no raw sockets).
//!
//! Errors count only when their quote is a request of ours (its source
//! one of our addresses, an echo request, the identifier and sequence we
//! sent); they are kept beside the echo replies, with [`Answer`] saying
//! which they are, and wake the same sleepers.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base::Context;
use wire::extension::walk;
use wire::{Icmpv6Kind, Ipv4Header, Ipv6Header};

use crate::icmp::{EchoReply, Icmp};
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;
use crate::ipv6::EchoReply6;
use crate::net::Net;
use crate::socket::Errno;
use crate::stack::Stack;

/// What answered an echo request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The echo reply.
    Echo,
    /// A router's time exceeded: the hop limit ran out there.
    TimeExceeded,
    /// A destination unreachable, with its code (that family's codes).
    Unreachable {
        /// Why.
        code: u8,
    },
    /// Fragmentation needed (IPv4, with DF) or packet too big (IPv6).
    TooBig {
        /// The next hop's MTU.
        mtu: u32,
    },
}

/// One echo request to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Where it goes.
    pub destination: IpAddr,
    /// The interface of a link-local IPv6 destination.
    pub zone: Option<InterfaceIndex>,
    /// Its TTL or hop limit.
    pub hop_limit: u8,
    /// Bytes of echo payload (the packet is 28 or 48 bytes more).
    pub size: usize,
    /// Its sequence number.
    pub sequence: u16,
    /// How long to wait for an answer.
    pub timeout_ns: u64,
}

/// What came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeReply {
    /// Who answered: the destination, or a router on the way.
    pub from: IpAddr,
    /// How.
    pub answer: Answer,
    /// After how long.
    pub round_trip_ns: u64,
}

impl Net {
    /// Sends `probe` and waits for its answer.
    ///
    /// # Errors
    /// [`Errno::TimedOut`] without one; [`Errno::NetworkUnreachable`]
    /// without a route; [`Errno::MessageTooLong`] past 65,000 bytes.
    pub fn probe(&self, context: &Context<'_>, probe: &Probe) -> Result<ProbeReply, Errno> {
        if probe.size > 65_000 {
            return Err(Errno::MessageTooLong);
        }
        let identifier = (context.lwp_id().0 & 0xffff) as u16;
        let payload: Vec<u8> = (0..probe.size).map(|at| (at % 251) as u8).collect();
        let mut stack = self.lock(context);
        let sent_ns = stack.now_ns();
        let deadline = sent_ns.saturating_add(probe.timeout_ns);
        let sent = stack.send_probe(probe, identifier, &payload);
        self.finish(context, &mut stack);
        sent?;
        loop {
            if let Some(reply) = stack.probe_answer(probe, identifier, sent_ns) {
                return Ok(reply);
            }
            if context.now_ns() >= deadline {
                return Err(Errno::TimedOut);
            }
            stack = self.ping_wait.wait_until(stack, deadline).0;
            stack.set_now(context.now_ns());
        }
    }
}

impl Stack {
    fn send_probe(&mut self, probe: &Probe, identifier: u16, payload: &[u8]) -> Result<(), Errno> {
        let numbers = (identifier, probe.sequence);
        let sent = match crate::ipv6::canonical(probe.destination) {
            IpAddr::V4(destination) => {
                let Stack { ip, icmp, .. } = self;
                icmp.send_echo_request(ip, destination, numbers, payload, probe.hop_limit)
            }
            IpAddr::V6(destination) => {
                let hop_limit = Some(probe.hop_limit);
                (self.ip).send_echo_request6(destination, probe.zone, numbers, payload, hop_limit)
            }
        };
        sent.map_err(Errno::from)
    }

    /// The answer to `probe` (sent at `sent_ns`), if one came.
    fn probe_answer(&self, probe: &Probe, identifier: u16, sent_ns: u64) -> Option<ProbeReply> {
        let ours = |id: u16, sequence: u16, arrived_ns: u64| {
            id == identifier && sequence == probe.sequence && arrived_ns >= sent_ns
        };
        let reply = |from: IpAddr, answer: Answer, arrived_ns: u64| ProbeReply {
            from,
            answer,
            round_trip_ns: arrived_ns - sent_ns,
        };
        match crate::ipv6::canonical(probe.destination) {
            IpAddr::V4(destination) => self
                .icmp
                .replies
                .iter()
                .find(|r| ours(r.identifier, r.sequence, r.arrived_ns) && r.probed == destination)
                .map(|r| reply(IpAddr::V4(r.source), r.answer, r.arrived_ns)),
            IpAddr::V6(destination) => self
                .ip
                .v6
                .icmp
                .replies()
                .find(|r| ours(r.identifier, r.sequence, r.arrived_ns) && r.probed == destination)
                .map(|r| reply(IpAddr::V6(r.source), r.answer, r.arrived_ns)),
        }
    }
}

/// Replies and errors remembered for probers, at most.
const ANSWERS_KEPT: usize = 16;

impl Icmp {
    /// Keeps an error from `from` whose `quote` (IPv4 header and the
    /// first 8 bytes after it) is an echo request of ours; false when it
    /// is not.
    pub(crate) fn record_probe_error(
        &mut self,
        ip: &IpLayer,
        from: Ipv4Addr,
        quote: &[u8],
        answer: Answer,
    ) -> bool {
        let Some(quoted) = Ipv4Header::parse_quoted(quote) else {
            return false;
        };
        let echo = quote.get(quoted.header_len..quoted.header_len + 8);
        let Some(echo) = echo.filter(|echo| echo[0] == 8 && quoted.protocol == 1) else {
            return false;
        };
        if !ip.is_local(quoted.source) {
            return false;
        }
        if self.replies.len() >= ANSWERS_KEPT {
            self.replies.pop_front();
        }
        self.replies.push_back(EchoReply {
            source: from,
            identifier: u16::from_be_bytes([echo[4], echo[5]]),
            sequence: u16::from_be_bytes([echo[6], echo[7]]),
            arrived_ns: ip.now_ns,
            answer,
            probed: quoted.destination,
        });
        self.reply_arrived = true;
        true
    }
}

impl IpLayer {
    /// Keeps an ICMPv6 error `kind` from `from` whose `quote` is an echo
    /// request of ours (the stack then wakes the probers).
    pub(crate) fn record_probe_error6(&mut self, from: Ipv6Addr, quote: &[u8], kind: Icmpv6Kind) {
        let answer = match kind {
            Icmpv6Kind::TimeExceeded { .. } => Answer::TimeExceeded,
            Icmpv6Kind::DestinationUnreachable { code } => Answer::Unreachable { code },
            Icmpv6Kind::PacketTooBig { mtu } => Answer::TooBig { mtu },
            _ => return,
        };
        let Some(quoted) = Ipv6Header::parse_quoted(quote) else {
            return;
        };
        let Ok(chain) = walk(quote, quoted.next_header, 40, 6, false) else {
            return;
        };
        let echo = quote.get(chain.offset..chain.offset + 8);
        let request = wire::icmpv6::kind::ECHO_REQUEST;
        let icmp = chain.protocol == wire::ipv6::next_header::ICMPV6;
        let Some(echo) = echo.filter(|echo| icmp && echo[0] == request) else {
            return;
        };
        if !self.is_local6(quoted.source) {
            return;
        }
        let now = self.now_ns;
        let replies = &mut self.v6.icmp.replies;
        if replies.len() >= ANSWERS_KEPT {
            replies.pop_front();
        }
        replies.push_back(EchoReply6 {
            source: from,
            identifier: u16::from_be_bytes([echo[4], echo[5]]),
            sequence: u16::from_be_bytes([echo[6], echo[7]]),
            arrived_ns: now,
            answer,
            probed: quoted.destination,
        });
        self.v6.icmp.reply_arrived = true;
    }
}
