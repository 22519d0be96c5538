//! What the client sends: DISCOVER, the three kinds of REQUEST, RELEASE.
//!
//! Options per RFC 2131 table 5: every message carries 53 and the client
//! identifier 61 (type 1, the MAC); DISCOVER and REQUEST add the host name
//! 12 and the parameter request list 55; only the SELECTING REQUEST names
//! the address (50) and server (54); RENEWING and REBINDING put the leased
//! address in `ciaddr` instead. DISCOVER and REQUEST set the broadcast flag
//! so that servers answer a client without an address by broadcast.

use super::{DhcpClient, MINIMUM_BUFFER, REQUEST_ATTEMPTS, State, count};
use crate::message::{FLAG_BROADCAST, Header, MessageType, MessageWriter, OP_REQUEST, option};
use crate::random::SECOND_NS;
use crate::timing::{backoff_ns, renew_retry_at};
use crate::{Error, Outgoing};
use core::net::Ipv4Addr;

/// Option 55: subnet mask, router, DNS, lease time, T1, T2.
const PARAMETER_REQUEST_LIST: [u8; 6] = [
    option::SUBNET_MASK,
    option::ROUTER,
    option::DNS,
    option::LEASE_TIME,
    option::RENEWAL_TIME,
    option::REBINDING_TIME,
];

/// Option 12 may hold at most this many bytes.
const HOSTNAME_MAX: usize = 255;

impl DhcpClient {
    /// Writes the message that is due into `buffer` (at least
    /// [`MINIMUM_BUFFER`] bytes) and schedules its retransmission. `None`
    /// if nothing is due, if a state deadline awaits [`Self::on_timer`], or
    /// if the buffer is too small (the message then stays due).
    pub fn poll_transmit(&mut self, now_ns: u64, buffer: &mut [u8]) -> Option<Outgoing> {
        let deadline_passed = self
            .state_deadline
            .is_some_and(|deadline| deadline <= now_ns);
        let due = self.transmit_at.is_some_and(|at| at <= now_ns);
        if buffer.len() < MINIMUM_BUFFER || deadline_passed || !due {
            return None;
        }
        match self.state {
            State::Init | State::Selecting => self.send_discover(now_ns, buffer),
            State::Requesting => self.send_selecting_request(now_ns, buffer),
            State::Renewing | State::Rebinding => self.send_renewal(now_ns, buffer),
            State::Bound => None,
        }
    }

    /// Gives the lease back with a DHCPRELEASE unicast to its server and
    /// returns to INIT with nothing due: to acquire an address again, make
    /// a new client (with a new seed). `None` without a lease or with a
    /// buffer under [`MINIMUM_BUFFER`] bytes; the glue removes the address.
    pub fn release(&mut self, buffer: &mut [u8]) -> Option<Outgoing> {
        let lease = self.lease.filter(|_| buffer.len() >= MINIMUM_BUFFER)?;
        self.xid = self.random.next_xid();
        let mut header = Header::new(OP_REQUEST, self.xid, self.config.mac);
        header.client_address = lease.address;
        let mut writer = MessageWriter::new(buffer, &header, MessageType::Release).ok()?;
        writer
            .address_option(option::SERVER_IDENTIFIER, lease.server)
            .ok()?;
        self.client_identifier(&mut writer).ok()?;
        let length = writer.finish().ok()?;
        count(&mut self.stats.releases_sent);
        self.lease = None;
        self.offer = None;
        self.enter(State::Init, None, None);
        Some(Outgoing {
            length,
            source: lease.address,
            destination: lease.server,
        })
    }

    /// A DISCOVER: the first opens a new exchange and enters SELECTING.
    fn send_discover(&mut self, now_ns: u64, buffer: &mut [u8]) -> Option<Outgoing> {
        if self.state == State::Init {
            self.begin_exchange(now_ns);
            self.enter(State::Selecting, Some(now_ns), None);
        }
        self.discover_secs = self.elapsed_secs(now_ns);
        let header = self.request_header(self.discover_secs, Ipv4Addr::UNSPECIFIED);
        let writer = MessageWriter::new(buffer, &header, MessageType::Discover).ok()?;
        let length = self.finish_request(writer).ok()?;
        count(&mut self.stats.discovers_sent);
        self.schedule_backoff(now_ns);
        Some(broadcast(length, Ipv4Addr::UNSPECIFIED))
    }

    /// The REQUEST for the chosen offer; after the last attempt the state
    /// deadline takes over and REQUESTING gives up when it passes.
    fn send_selecting_request(&mut self, now_ns: u64, buffer: &mut [u8]) -> Option<Outgoing> {
        let offer = self.offer?;
        let header = self.request_header(self.discover_secs, Ipv4Addr::UNSPECIFIED);
        let mut writer = MessageWriter::new(buffer, &header, MessageType::Request).ok()?;
        writer
            .address_option(option::REQUESTED_ADDRESS, offer.address)
            .ok()?;
        writer
            .address_option(option::SERVER_IDENTIFIER, offer.server)
            .ok()?;
        let length = self.finish_request(writer).ok()?;
        self.note_request_sent(now_ns);
        self.schedule_backoff(now_ns);
        if self.attempts >= REQUEST_ATTEMPTS {
            self.state_deadline = self.transmit_at.take();
        }
        Some(broadcast(length, Ipv4Addr::UNSPECIFIED))
    }

    /// A RENEWING (unicast) or REBINDING (broadcast) REQUEST from the
    /// leased address, retried at half the time left (at least 60 s).
    fn send_renewal(&mut self, now_ns: u64, buffer: &mut [u8]) -> Option<Outgoing> {
        let lease = self.lease?;
        let header = self.request_header(self.elapsed_secs(now_ns), lease.address);
        let writer = MessageWriter::new(buffer, &header, MessageType::Request).ok()?;
        let length = self.finish_request(writer).ok()?;
        self.note_request_sent(now_ns);
        self.attempts = self.attempts.saturating_add(1);
        let until = self.state_deadline.unwrap_or(lease.expires_at_ns);
        self.transmit_at = Some(renew_retry_at(now_ns, until));
        let destination = match self.state {
            State::Renewing => lease.server,
            _ => Ipv4Addr::BROADCAST,
        };
        Some(Outgoing {
            length,
            source: lease.address,
            destination,
        })
    }

    /// A client-to-server header of the current exchange, broadcast flag set.
    fn request_header(&self, secs: u16, client_address: Ipv4Addr) -> Header {
        Header {
            secs,
            flags: FLAG_BROADCAST,
            client_address,
            ..Header::new(OP_REQUEST, self.xid, self.config.mac)
        }
    }

    /// Options 61, 12 and 55, the end marker and padding; the length.
    fn finish_request(&self, mut writer: MessageWriter<'_>) -> Result<usize, Error> {
        self.client_identifier(&mut writer)?;
        let hostname = self.config.hostname.unwrap_or_default().as_bytes();
        if !hostname.is_empty() {
            let hostname = hostname.get(..HOSTNAME_MAX).unwrap_or(hostname);
            writer.option(option::HOSTNAME, hostname)?;
        }
        writer.option(option::PARAMETER_REQUEST_LIST, &PARAMETER_REQUEST_LIST)?;
        writer.finish()
    }

    /// Option 61: hardware type 1 followed by the MAC.
    fn client_identifier(&self, writer: &mut MessageWriter<'_>) -> Result<(), Error> {
        let mac = self.config.mac;
        let identifier = [1, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]];
        writer.option(option::CLIENT_IDENTIFIER, &identifier)
    }

    /// Counts a REQUEST; the first of an exchange starts the lease clock.
    fn note_request_sent(&mut self, now_ns: u64) {
        if self.attempts == 0 {
            self.request_sent_ns = now_ns;
        }
        count(&mut self.stats.requests_sent);
    }

    /// Counts an attempt and schedules the next one after the §4.1 backoff.
    fn schedule_backoff(&mut self, now_ns: u64) {
        self.attempts = self.attempts.saturating_add(1);
        let wait = backoff_ns(self.attempts, self.random.jitter_ns());
        self.transmit_at = Some(now_ns.saturating_add(wait));
    }

    /// Whole seconds since the exchange began, saturating at `u16::MAX`.
    fn elapsed_secs(&self, now_ns: u64) -> u16 {
        let seconds = now_ns.saturating_sub(self.exchange_started_ns) / SECOND_NS;
        u16::try_from(seconds).unwrap_or(u16::MAX)
    }
}

/// A message from `source` to the limited broadcast address.
fn broadcast(length: usize, source: Ipv4Addr) -> Outgoing {
    Outgoing {
        length,
        source,
        destination: Ipv4Addr::BROADCAST,
    }
}
