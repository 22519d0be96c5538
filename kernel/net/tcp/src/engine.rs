//! The engine: [`Tcp`] holds every socket of one network stack, takes
//! segments from the IP layer, runs timers and hands out events.
//!
//! After anything happens to a socket, [`Tcp::settle`] applies what its new
//! state means for the tables: a listener child that completed its
//! handshake joins the accept queue, a CLOSED connection leaves the
//! connection map, and a socket no user holds is freed once CLOSED.
//!
//! Every public call that takes `&mut self` runs through [`Tcp::indexed`],
//! which ends it by bringing the timer index up to date (see
//! `table::deadlines`); so [`Tcp::next_deadline`] is O(1) and
//! [`Tcp::on_timer`] visits only the sockets whose timers expired.

use core::net::IpAddr;

use wire::Checksum;

use crate::address::{scoped, unusable};
use crate::arrival::{close_connection, synchronized};
use crate::config::{Secrets, TcpConfig};
use crate::context::Context;
use crate::ecn::Ecn;
use crate::handshake::syn_sent;
use crate::header::{Flags, Segment};
use crate::output::{PROTOCOL, reply_reset};
use crate::sender::output;
use crate::sequence::Sequence;
use crate::state::{QueueChange, State};
use crate::stats::TcpStats;
use crate::table::{Endpoints, Entry, Table, Ticket};
use crate::time_wait::buriable;
use crate::{SocketHandle, Transmit, timers};

/// All TCP state of one network stack.
#[derive(Debug)]
pub struct Tcp {
    pub(crate) table: Table,
    pub(crate) context: Context,
}

impl Tcp {
    /// An engine with no sockets; `config` is brought into range first.
    pub fn new(config: TcpConfig, secrets: Secrets) -> Self {
        Self {
            table: Table::default(),
            context: Context::new(config.sanitized(), secrets),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &TcpConfig {
        &self.context.config
    }

    /// One received segment whose IPv4 or IPv6 header was already
    /// checked; `segment` is the IP payload (its ECN field from
    /// [`Transmit::arriving_ecn`], the zone of its interface from
    /// [`Transmit::arriving_zone`]). Verifies the checksum itself and
    /// never panics on any bytes.
    pub fn input(
        &mut self,
        now_ns: u64,
        source: IpAddr,
        destination: IpAddr,
        segment: &[u8],
        tx: &mut dyn Transmit,
    ) {
        let ecn = tx.arriving_ecn();
        self.input_marked(now_ns, source, destination, ecn, segment, tx);
    }

    /// [`Tcp::input`] with the ECN field of the packet's IP header, for
    /// ECN (RFC 3168): a Congestion Experienced mark is echoed to the
    /// sender.
    pub fn input_marked(
        &mut self,
        now_ns: u64,
        source: IpAddr,
        destination: IpAddr,
        ecn: Ecn,
        segment: &[u8],
        tx: &mut dyn Transmit,
    ) {
        self.context.arriving = ecn;
        self.indexed(|tcp| tcp.receive(now_ns, (source, destination), segment, tx));
        self.context.arriving = Ecn::NotCapable;
    }

    /// Runs `call`, then brings the timer index up to date with whatever
    /// sockets it touched: the one place every public call goes through.
    pub(crate) fn indexed<R>(&mut self, call: impl FnOnce(&mut Self) -> R) -> R {
        let result = call(self);
        self.table.reindex();
        self.context.stats.memory_refusals = self.context.memory.refusals();
        result
    }

    fn receive(
        &mut self,
        now_ns: u64,
        (source, destination): (IpAddr, IpAddr),
        segment: &[u8],
        tx: &mut dyn Transmit,
    ) {
        self.context.now = now_ns;
        self.context.stats.segments_received += 1;
        let verified = tx.arriving_checksum_valid();
        let Some(segment) = self.check((source, destination), segment, verified) else {
            return;
        };
        if segment.has(Flags::URG) {
            self.context.stats.urgent_segments += 1;
        }
        let zone = tx.arriving_zone();
        let local = scoped(destination, segment.destination_port, zone);
        let remote = scoped(source, segment.source_port, zone);
        let key = Endpoints::new(local, remote);
        match self.table.find(&key) {
            Some(Entry::Socket(index)) if !self.reuse_time_wait(index, &segment) => {
                self.connection_input(index, &segment, tx);
                return;
            }
            Some(Entry::TimeWait(ticket)) if !self.reuse_time_wait_record(ticket, &segment) => {
                self.time_wait_input(ticket, &segment, tx);
                return;
            }
            _ => {}
        }
        match self
            .table
            .find_listener(destination, segment.destination_port)
        {
            Some(listener) => self.listener_input(listener, (local, remote), &segment, tx),
            None => {
                self.context.stats.no_socket += 1;
                reply_reset(&mut self.context, tx, (local, remote), &segment);
            }
        }
    }

    /// Checksum (unless the device `verified` it), header and address
    /// checks; counts what fails.
    fn check<'a>(
        &mut self,
        (source, destination): (IpAddr, IpAddr),
        bytes: &'a [u8],
        verified: bool,
    ) -> Option<Segment<'a>> {
        let stats = &mut self.context.stats;
        let Ok(length) = u16::try_from(bytes.len()) else {
            stats.bad_segments += 1;
            return None;
        };
        let summed = || {
            Checksum::new()
                .add_pseudo_header(source, destination, PROTOCOL, u32::from(length))
                .add(bytes)
                .finish()
        };
        if !verified && summed() != 0 {
            stats.bad_checksums += 1;
            return None;
        }
        let segment = Segment::parse(bytes).ok();
        let mixed = source.is_ipv4() != destination.is_ipv4();
        let valid = segment.filter(|segment| {
            segment.source_port != 0
                && segment.destination_port != 0
                && !mixed
                && !unusable(source)
                && !unusable(destination)
        });
        if valid.is_none() {
            stats.bad_segments += 1;
        }
        valid
    }

    /// RFC 6191 and RFC 9293 3.10.7.4: a SYN with a newer timestamp or a
    /// higher sequence number ends a TIME-WAIT connection so a listener
    /// can take it. Returns true when the TIME-WAIT connection was ended.
    fn reuse_time_wait(&mut self, index: u32, segment: &Segment<'_>) -> bool {
        let Some(tcb) = self.table.at(index) else {
            return false;
        };
        let (timestamps, recent) = (tcb.negotiated.timestamps, tcb.timestamp_recent);
        let newer = tcb.state == State::TimeWait
            && newer_syn(segment, timestamps.then_some(recent), tcb.receive.next());
        if !newer || !self.has_listener_for(index) {
            return false;
        }
        let Some(tcb) = self.table.at(index) else {
            return false;
        };
        close_connection(tcb, &mut self.context, None);
        self.context.stats.time_wait_reuses += 1;
        self.settle(index);
        true
    }

    /// [`Tcp::reuse_time_wait`] for a TIME-WAIT record.
    fn reuse_time_wait_record(&mut self, ticket: Ticket, segment: &Segment<'_>) -> bool {
        let Some(view) = self.table.time_wait(ticket) else {
            return false;
        };
        let record = &view.state;
        let recent = record.timestamps.then_some(record.timestamp_recent);
        let local = view.endpoints.local();
        if !newer_syn(segment, recent, record.receive_next)
            || self.table.find_listener(local.ip(), local.port()).is_none()
        {
            return false;
        }
        self.table.end_time_wait(ticket, &mut self.context.memory);
        self.context.stats.time_wait_reuses += 1;
        true
    }

    fn has_listener_for(&mut self, index: u32) -> bool {
        let Some(tcb) = self.table.at(index) else {
            return false;
        };
        let local = tcb.local;
        self.table.find_listener(local.ip(), local.port()).is_some()
    }

    pub(crate) fn connection_input(
        &mut self,
        index: u32,
        segment: &Segment<'_>,
        tx: &mut dyn Transmit,
    ) {
        let room = self.accept_room(index);
        let Some(tcb) = self.table.at(index) else {
            return;
        };
        let context = &mut self.context;
        let completes = segment.has(Flags::ACK) && !segment.has(Flags::RST);
        if tcb.state == State::SynReceived && tcb.role.in_syn_queue() && !room && completes {
            // The accept queue is full: ignore the ACK, the SYN-ACK will
            // be retransmitted (Linux's behaviour without abort_on_overflow).
            context.stats.syn_drops += 1;
            return;
        }
        match tcb.state {
            State::SynSent => syn_sent(tcb, context, segment, tx),
            State::Closed | State::Listen => {}
            _ => synchronized(tcb, context, segment, tx),
        }
        output(tcb, context, tx);
        self.settle(index);
    }

    /// True unless `index` is a child whose listener's accept queue is full.
    fn accept_room(&mut self, index: u32) -> bool {
        let Some(parent) = self.table.at(index).and_then(|tcb| tcb.role.parent()) else {
            return true;
        };
        let Some(listener) = self.table.get(parent).and_then(|tcb| tcb.role.listener()) else {
            return true;
        };
        listener.accept_queue.len() < listener.backlog
    }

    /// Applies the socket's state to the tables (see the module comment).
    pub(crate) fn settle(&mut self, index: u32) {
        let Some(tcb) = self.table.at(index) else {
            return;
        };
        let (state, handle) = (tcb.state, tcb.handle);
        if let Some((listener, change)) = tcb.role.follow_child(state) {
            self.change_queues(listener, handle, change);
        }
        self.release_if_closed(index);
    }

    /// Moves `child` between the queues of its `listener`.
    fn change_queues(&mut self, listener: SocketHandle, child: SocketHandle, change: QueueChange) {
        let Some(parent) = self.table.get_mut(listener) else {
            return;
        };
        if let Some(queues) = parent.role.listener_mut() {
            match change {
                QueueChange::Completed => {
                    queues.syn_received = queues.syn_received.saturating_sub(1);
                    queues.accept_queue.push_back(child);
                }
                QueueChange::Failed => {
                    queues.syn_received = queues.syn_received.saturating_sub(1);
                }
                QueueChange::Dropped => queues.accept_queue.retain(|queued| *queued != child),
            }
        }
        if change == QueueChange::Completed {
            self.context.notify(parent);
        }
    }

    /// A CLOSED connection leaves the connection map: the user's (already
    /// Finished or Unbound, see `arrival::close_connection`) stays, one
    /// nobody holds is freed. One in TIME-WAIT that nobody holds becomes
    /// a record (`time_wait.rs`).
    fn release_if_closed(&mut self, index: u32) {
        let Some(tcb) = self.table.at(index) else {
            return;
        };
        if buriable(tcb) {
            self.bury(index);
            return;
        }
        if tcb.state != State::Closed {
            return;
        }
        if tcb.role.is_user_held() {
            self.table.unregister(index);
        } else {
            self.table.free(index, &mut self.context.memory);
        }
    }

    /// Runs every timer whose deadline is at or before `now_ns`.
    pub fn on_timer(&mut self, now_ns: u64, tx: &mut dyn Transmit) {
        self.indexed(|tcp| tcp.fire_due(now_ns, tx));
    }

    fn fire_due(&mut self, now_ns: u64, tx: &mut dyn Transmit) {
        self.context.now = now_ns;
        self.table.reindex();
        let mut due = self.table.take_due(now_ns);
        for index in due.drain(..) {
            let Some(tcb) = self.table.at(index) else {
                continue;
            };
            timers::fire(tcb, &mut self.context, tx);
            self.settle(index);
        }
        self.table.return_due(due);
        self.table
            .expire_time_waits(now_ns, &mut self.context.memory);
    }

    /// The earliest pending timer, `None` when no timer is armed. O(1).
    pub fn next_deadline(&self) -> Option<u64> {
        self.table.next_deadline()
    }

    /// Handles whose status changed (readable, writable, acceptable,
    /// connected, closed, error) since the last call, each once.
    pub fn drain_events(&mut self, out: &mut impl Extend<SocketHandle>) {
        self.indexed(|tcp| tcp.take_events(out));
    }

    fn take_events(&mut self, out: &mut impl Extend<SocketHandle>) {
        let mut events = core::mem::take(&mut self.context.events);
        for handle in events.drain(..) {
            if let Some(tcb) = self.table.get_mut(handle) {
                tcb.event_pending = false;
                if tcb.role.is_user_held() {
                    out.extend(Some(handle));
                }
            }
        }
        self.context.events = events;
    }

    /// The counters.
    pub fn stats(&self) -> &TcpStats {
        &self.context.stats
    }

    /// Connections past CLOSED and LISTEN (closed sockets still finishing
    /// their close, TIME-WAIT records and unaccepted children included).
    pub fn connection_count(&self) -> usize {
        let connection =
            |tcb: &&crate::tcb::Tcb| !matches!(tcb.state, State::Closed | State::Listen);
        self.table.iter().filter(connection).count() + self.table.time_wait_count()
    }
}

/// A SYN alone that may end TIME-WAIT (RFC 6191): its timestamp is newer
/// than TS.Recent (`recent`, with timestamps in use), or else its sequence
/// number lies beyond RCV.NXT.
fn newer_syn(segment: &Segment<'_>, recent: Option<u32>, receive_next: Sequence) -> bool {
    let syn_only = segment.has(Flags::SYN) && !segment.has(Flags::ACK) && !segment.has(Flags::RST);
    let newer = match (segment.options.timestamp, recent) {
        (Some((value, _)), Some(recent)) => (value.wrapping_sub(recent) as i32) > 0,
        _ => segment.sequence.after(receive_next),
    };
    syn_only && newer
}
