//! The DHCP client state machine (RFC 2131 §4.4, figure 5).
//!
//! Two kinds of time drive it, both reported by [`DhcpClient::next_deadline`]:
//!
//! - `transmit_at`: a message is due; [`DhcpClient::poll_transmit`] sends it
//!   and schedules the retransmission (4, 8, 16, 32, 64 s ± 1 s while
//!   acquiring; half the time left, at least 60 s, while renewing);
//! - `state_deadline`: the state ends (T1, T2, expiry, or REQUESTING giving
//!   up); [`DhcpClient::on_timer`] moves on and reports a lost lease.
//!
//! While a state deadline has passed, `poll_transmit` sends nothing, so a
//! renewal is never sent for a lease that `on_timer` is about to drop.
//! One exchange (DORA, a renewal, a rebinding) keeps one xid across its
//! retransmissions; each new exchange draws a fresh one.

mod transmit;
mod types;

pub use types::{ClientConfig, DhcpStats, Event, Outgoing, State};

use crate::lease::{Lease, is_assignable};
use crate::message::{self, MessageType, MessageView, option};
use crate::random::Random;
use core::net::Ipv4Addr;
use types::count;

/// The smallest buffer [`DhcpClient::poll_transmit`] and
/// [`DhcpClient::release`] accept: the 576-byte datagram every host must
/// take (RFC 2131 §2). Our messages are at most 530 bytes.
pub const MINIMUM_BUFFER: usize = 576;

/// The server and address chosen in SELECTING.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Offer {
    address: Ipv4Addr,
    server: Ipv4Addr,
}

/// A sans-IO DHCPv4 client for one Ethernet interface.
#[derive(Clone, Debug)]
pub struct DhcpClient {
    config: ClientConfig,
    random: Random,
    state: State,
    /// The transaction id of the current exchange.
    xid: u32,
    /// When the current exchange began (for `secs`).
    exchange_started_ns: u64,
    /// `secs` of the last DISCOVER; REQUESTs of DORA repeat it (§4.4.1).
    discover_secs: u16,
    /// When the first REQUEST of the exchange left: lease times start here.
    request_sent_ns: u64,
    /// Transmissions so far in this state.
    attempts: u32,
    transmit_at: Option<u64>,
    state_deadline: Option<u64>,
    offer: Option<Offer>,
    lease: Option<Lease>,
    stats: DhcpStats,
}

/// REQUESTING gives up and returns to INIT after this many REQUESTs
/// (4 + 8 + 16 + 32 s: about a minute).
const REQUEST_ATTEMPTS: u32 = 4;

impl DhcpClient {
    /// A client in INIT whose first DISCOVER is due at `now_ns`.
    pub fn new(config: ClientConfig, now_ns: u64) -> Self {
        Self {
            config,
            random: Random::new(config.random_seed),
            state: State::Init,
            xid: 0,
            exchange_started_ns: now_ns,
            discover_secs: 0,
            request_sent_ns: now_ns,
            attempts: 0,
            transmit_at: Some(now_ns),
            state_deadline: None,
            offer: None,
            lease: None,
            stats: DhcpStats::default(),
        }
    }

    /// Handles a UDP payload that arrived on port 68. Anything malformed,
    /// not ours or not expected now is counted and otherwise ignored.
    pub fn receive(&mut self, now_ns: u64, payload: &[u8]) -> Option<Event> {
        let Ok(view) = MessageView::parse(payload) else {
            count(&mut self.stats.malformed);
            return None;
        };
        if !self.is_ours(&view) {
            count(&mut self.stats.ignored);
            return None;
        }
        let awaiting_reply = matches!(
            self.state,
            State::Requesting | State::Renewing | State::Rebinding
        );
        match view.message_type() {
            MessageType::Offer if self.state == State::Selecting => self.take_offer(now_ns, &view),
            MessageType::Ack if awaiting_reply => self.take_ack(&view),
            MessageType::Nak if awaiting_reply => self.take_nak(now_ns, &view),
            _ => self.ignore(),
        }
    }

    /// Ends every state whose deadline has passed: REQUESTING gives up, T1
    /// starts RENEWING, T2 REBINDING, and expiry returns [`Event::Lost`].
    pub fn on_timer(&mut self, now_ns: u64) -> Option<Event> {
        let mut event = None;
        // Each step leaves a later state or INIT (no deadline): this ends.
        while let Some(deadline) = self.state_deadline
            && deadline <= now_ns
        {
            event = self.end_state(now_ns).or(event);
        }
        event
    }

    /// When the glue must next call [`Self::on_timer`] and
    /// [`Self::poll_transmit`]; `None` when nothing will ever be due (an
    /// infinite lease, or after a release).
    pub fn next_deadline(&self) -> Option<u64> {
        match (self.transmit_at, self.state_deadline) {
            (Some(transmit), Some(deadline)) => Some(transmit.min(deadline)),
            (transmit, deadline) => transmit.or(deadline),
        }
    }

    /// The current RFC 2131 state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The lease held in BOUND, RENEWING and REBINDING.
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// What has been sent and received so far.
    pub fn stats(&self) -> &DhcpStats {
        &self.stats
    }

    /// Whether a well-formed message answers our current exchange.
    fn is_ours(&self, view: &MessageView<'_>) -> bool {
        let header = view.header();
        header.op == message::OP_REPLY
            && header.hardware_type == message::HARDWARE_ETHERNET
            && header.hardware_length == message::HARDWARE_LENGTH
            && header.hardware_address == self.config.mac
            && header.xid == self.xid
            && self.state != State::Init
    }

    /// SELECTING: the first OFFER with a usable address and a server
    /// identifier wins; the REQUEST for it is due at once.
    fn take_offer(&mut self, now_ns: u64, view: &MessageView<'_>) -> Option<Event> {
        let address = view.header().your_address;
        let server = view.address_option(option::SERVER_IDENTIFIER);
        let Some(server) = server.filter(|_| is_assignable(address)) else {
            return self.ignore();
        };
        count(&mut self.stats.offers_received);
        self.offer = Some(Offer { address, server });
        self.enter(State::Requesting, Some(now_ns), None);
        None
    }

    /// An ACK from the right server with a usable lease binds (or rebinds).
    fn take_ack(&mut self, view: &MessageView<'_>) -> Option<Event> {
        let Some(server) = self.answering_server(view) else {
            return self.ignore();
        };
        let Some(lease) = Lease::from_ack(view, server, self.request_sent_ns) else {
            return self.ignore();
        };
        count(&mut self.stats.acks_received);
        let previous = self.lease.replace(lease);
        let deadline = Some(lease.renew_at_ns).filter(|_| !lease.is_infinite());
        self.offer = None;
        self.enter(State::Bound, None, deadline);
        match previous {
            Some(old) if old.address == lease.address => Some(Event::Renewed(lease)),
            _ => Some(Event::Bound(lease)),
        }
    }

    /// A NAK from the right server restarts from INIT, losing any lease.
    fn take_nak(&mut self, now_ns: u64, view: &MessageView<'_>) -> Option<Event> {
        if self.answering_server(view).is_none() {
            return self.ignore();
        }
        count(&mut self.stats.naks_received);
        let had_lease = self.lease.is_some();
        self.restart(now_ns);
        had_lease.then_some(Event::Lost)
    }

    /// The server a reply comes from, if this state accepts its answer: in
    /// REQUESTING and RENEWING only the server we asked (a reply without
    /// option 54 is taken as from it), in REBINDING any server.
    fn answering_server(&self, view: &MessageView<'_>) -> Option<Ipv4Addr> {
        let named = view.address_option(option::SERVER_IDENTIFIER);
        let leasing = self.lease.map(|lease| lease.server);
        let expected = match self.state {
            State::Requesting => self.offer.map(|offer| offer.server),
            State::Renewing => leasing,
            State::Rebinding => return named.or(leasing),
            _ => None,
        }?;
        match named {
            Some(named) if named != expected => None,
            _ => Some(expected),
        }
    }

    /// Leaves the state whose deadline has passed.
    fn end_state(&mut self, now_ns: u64) -> Option<Event> {
        match (self.state, self.lease) {
            (State::Bound, Some(lease)) => {
                self.begin_renewal(State::Renewing, now_ns, lease.rebind_at_ns)
            }
            (State::Renewing, Some(lease)) => {
                self.begin_renewal(State::Rebinding, now_ns, lease.expires_at_ns)
            }
            (State::Rebinding, Some(_)) => {
                self.restart(now_ns);
                return Some(Event::Lost);
            }
            _ => self.restart(now_ns),
        }
        None
    }

    /// Starts a RENEWING or REBINDING exchange that lasts until `until_ns`.
    fn begin_renewal(&mut self, state: State, now_ns: u64, until_ns: u64) {
        self.begin_exchange(now_ns);
        self.enter(state, Some(now_ns), Some(until_ns));
    }

    /// Back to INIT with no lease and a DISCOVER due at `now_ns`.
    fn restart(&mut self, now_ns: u64) {
        self.lease = None;
        self.offer = None;
        self.enter(State::Init, Some(now_ns), None);
    }

    /// Switches state with its two deadlines and a fresh attempt count.
    fn enter(&mut self, state: State, transmit_at: Option<u64>, deadline: Option<u64>) {
        self.state = state;
        self.transmit_at = transmit_at;
        self.state_deadline = deadline;
        self.attempts = 0;
    }

    /// A fresh xid and start time for a new exchange.
    fn begin_exchange(&mut self, now_ns: u64) {
        self.xid = self.random.next_xid();
        self.exchange_started_ns = now_ns;
    }

    /// Counts a message this state does not act on.
    fn ignore(&mut self) -> Option<Event> {
        count(&mut self.stats.ignored);
        None
    }
}
