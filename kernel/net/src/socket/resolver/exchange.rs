//! Carrying a lookup's queries: one UDP socket per question and step, a
//! `poll` until the next answer or deadline, TCP when asked.
//!
//! Every transmit of the lookup gets a new socket (a new random port);
//! the socket of the question's previous step is closed then, so a late
//! answer to it finds no socket and never reaches the lookup. Sockets are
//! non-blocking: the only sleep is in `poll`, bounded by the lookup's
//! next deadline.

use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use base::Context;
use dns::{Lookup, LookupConfig, MINIMUM_BUFFER, QuestionIndex, Transmit, Transport};

use crate::net::Net;
use crate::socket::{Errno, Fd, PollEvents, PollFd, SocketOption, SocketType};

/// The DNS port (RFC 1035 §4.2).
pub const PORT: u16 = 53;
/// Room for one UDP answer: the EDNS0 payload we offer, with margin; a
/// longer datagram is cut and then rejected as malformed.
const ANSWER_ROOM: usize = 4096;

/// The open UDP socket of each question.
type Sockets = [Option<(QuestionIndex, Fd)>; 2];

impl Net {
    /// Runs `lookup` to its end.
    pub(super) fn run_lookup(
        &self,
        context: &Context<'_>,
        lookup: &mut Lookup,
        config: &LookupConfig,
    ) {
        let mut sockets: Sockets = [None; 2];
        let mut buffer = vec![0u8; ANSWER_ROOM.max(MINIMUM_BUFFER)];
        loop {
            self.send_due(context, lookup, config, &mut sockets, &mut buffer);
            if lookup.is_finished() {
                break;
            }
            self.wait_for_answers(context, lookup, &sockets);
            self.take_answers(context, lookup, &sockets, &mut buffer);
            lookup.on_timer(context.now_ns());
        }
        for (_, fd) in sockets.iter().flatten() {
            let _ = self.close(context, *fd);
        }
    }

    /// Sends every query due; a transport that fails at once moves its
    /// question on.
    fn send_due(
        &self,
        context: &Context<'_>,
        lookup: &mut Lookup,
        config: &LookupConfig,
        sockets: &mut Sockets,
        buffer: &mut [u8],
    ) {
        while let Some(transmit) = lookup.poll_transmit(context.now_ns(), buffer) {
            let slot = &mut sockets[transmit.question.index()];
            if let Some((_, old)) = slot.take() {
                let _ = self.close(context, old);
            }
            let query = &buffer[..transmit.length];
            let server = self.server_address(context, transmit.server);
            let sent = match transmit.transport {
                Transport::Udp => self
                    .send_query(context, server, query)
                    .map(|fd| *slot = Some((transmit.question, fd))),
                Transport::Tcp => {
                    let deadline = context.now_ns().saturating_add(config.tcp_timeout_ns);
                    self.tcp_exchange(context, server, query, deadline)
                        .map(|answer| receive(lookup, &transmit, &answer))
                }
            };
            if sent.is_err() {
                lookup.transport_failed(transmit.question);
            }
        }
    }

    /// `server`'s DNS port: a link-local IPv6 server scoped by the
    /// interface whose router advertised it.
    fn server_address(&self, context: &Context<'_>, server: IpAddr) -> SocketAddr {
        let IpAddr::V6(v6) = server else {
            return SocketAddr::new(server, PORT);
        };
        let zone = self.with_stack(context, |stack| {
            let interface = stack.ip.v6.dns.interface_of(v6);
            interface.map_or(0, |index| index.scope_id())
        });
        tcp::scoped(server, PORT, zone)
    }

    /// A non-blocking UDP socket on a fresh port, connected to `server`,
    /// that has sent `query`.
    fn send_query(
        &self,
        context: &Context<'_>,
        server: SocketAddr,
        query: &[u8],
    ) -> Result<Fd, Errno> {
        let fd = self.socket(context, SocketType::Datagram)?;
        let sent = self
            .set_option(context, fd, SocketOption::NonBlocking(true))
            .and_then(|()| self.connect(context, fd, server))
            .and_then(|()| self.write(context, fd, query));
        match sent {
            Ok(_) => Ok(fd),
            Err(error) => {
                let _ = self.close(context, fd);
                Err(error)
            }
        }
    }

    /// Sleeps until an answer arrives on a question's socket or the next
    /// deadline passes.
    fn wait_for_answers(&self, context: &Context<'_>, lookup: &Lookup, sockets: &Sockets) {
        let Some(deadline) = lookup.next_deadline() else {
            return;
        };
        let now = context.now_ns();
        if deadline <= now {
            return;
        }
        let mut polls: Vec<PollFd> = sockets
            .iter()
            .flatten()
            .map(|(_, fd)| PollFd::new(*fd, PollEvents::READABLE))
            .collect();
        let _ = self.poll(context, &mut polls, Some(deadline - now));
    }

    /// Hands every queued answer to the lookup; an ICMP refusal (or any
    /// other error of the socket) fails the question's step.
    fn take_answers(
        &self,
        context: &Context<'_>,
        lookup: &mut Lookup,
        sockets: &Sockets,
        buffer: &mut [u8],
    ) {
        for &(question, fd) in sockets.iter().flatten() {
            loop {
                match self.receive_from(context, fd, buffer) {
                    Ok((length, from)) => {
                        let from = from.ip();
                        lookup.receive(question, from, Transport::Udp, &buffer[..length]);
                    }
                    Err(Errno::WouldBlock) => break,
                    Err(_) => {
                        lookup.transport_failed(question);
                        break;
                    }
                }
            }
        }
    }
}

/// Hands a TCP answer to the lookup.
fn receive(lookup: &mut Lookup, transmit: &Transmit, answer: &[u8]) {
    lookup.receive(transmit.question, transmit.server, Transport::Tcp, answer);
}
