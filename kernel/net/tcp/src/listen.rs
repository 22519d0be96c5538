//! A listener's segments: SYNs into its SYN queue, and SYN cookies
//! (RFC 4987, `cookie.rs`) once that queue is full.
//!
//! The SYN queue's policy. A SYN becomes a child in SYN-RECEIVED while
//! the listener has fewer than min(`syn_backlog`, backlog) of them and
//! room in its accept queue. Nothing is ever evicted to make room: a child
//! leaves the queue when its handshake completes (into the accept queue),
//! when it is reset, when its SYN-ACK went unanswered through
//! `maximum_syn_retransmissions` retransmissions (about 127 s with the
//! defaults), or when the listener closes. Under a flood every entry is
//! as likely spoofed as the next, so evicting one would only fail a slow
//! but real peer; with cookies the queue's content no longer decides who
//! gets in. A SYN that finds the queue full, or no socket or memory for a
//! child, is answered with a cookie when `syn_cookies` is on and dropped
//! otherwise (its sender retransmits it). A SYN that finds the accept
//! queue full is dropped either way, as Linux does.
//!
//! A returning cookie (an ACK to the listener within two minutes of the
//! last cookie it sent) that checks out makes the child at once, in
//! SYN-RECEIVED with what the cookie remembered, and the ACK completes
//! its handshake: it goes straight to the accept queue, or is dropped if
//! that queue is full (the peer's next segment is a cookie again). Any
//! other ACK gets a reset, as before cookies.

use core::net::SocketAddr;

use crate::address::{default_segment_size, zone_of};
use crate::cookie::{self, Offer, Origin};
use crate::engine::Tcp;
use crate::handshake::{accept_syn, announced_segment_size, window_scale_for};
use crate::header::{Flags, HeaderFields, Segment};
use crate::options::Options;
use crate::output::{reply_reset, send_control};
use crate::sender::send_syn;
use crate::sequence::Sequence;
use crate::table::Endpoints;
use crate::{SocketHandle, Transmit};

/// What becomes of a SYN.
enum Admission {
    /// A child in the SYN queue, over a path of this MTU.
    Child(u16),
    /// A cookie, over a path of this MTU.
    Cookie(u16),
    /// Nothing (counted in `syn_drops`).
    Drop,
}

/// The endpoints of a segment: (local, remote).
type Ends = (SocketAddr, SocketAddr);

impl Tcp {
    /// A segment for the listener in slot `listener` from no connection.
    pub(crate) fn listener_input(
        &mut self,
        listener: u32,
        (local, remote): Ends,
        segment: &Segment<'_>,
        tx: &mut dyn Transmit,
    ) {
        if segment.has(Flags::RST) {
            return;
        }
        if segment.has(Flags::ACK) {
            if !self.cookie_returned(listener, (local, remote), segment, tx) {
                reply_reset(&mut self.context, tx, (local, remote), segment);
            }
            return;
        }
        if !segment.has(Flags::SYN) {
            self.context.stats.bad_segments += 1;
            return;
        }
        let admission = self.admission(listener, remote, tx);
        if let Admission::Child(mtu) = admission
            && self.adopt(listener, (local, remote), segment, mtu, tx)
        {
            return;
        }
        // No child: the queue is full, or no socket or memory was had.
        match admission {
            Admission::Child(mtu) | Admission::Cookie(mtu) if self.context.config.syn_cookies => {
                self.send_cookie(listener, (local, remote), segment, mtu, tx);
            }
            _ => self.context.stats.syn_drops += 1,
        }
    }

    /// Where a SYN goes, by the policy in the module comment.
    fn admission(&mut self, listener: u32, remote: SocketAddr, tx: &dyn Transmit) -> Admission {
        let syn_backlog = self.context.config.syn_backlog;
        let Some(queues) = self.table.at(listener).and_then(|tcb| tcb.role.listener()) else {
            return Admission::Drop;
        };
        // Like Linux, the backlog bounds the SYN queue as well.
        let half_open_limit = syn_backlog.min(queues.backlog);
        let accept_full = queues.accept_queue.len() >= queues.backlog;
        let syn_full = queues.syn_received >= half_open_limit;
        match tx.route(remote.ip(), zone_of(remote)) {
            None => Admission::Drop,
            Some(_) if accept_full => Admission::Drop,
            Some(route) if syn_full => Admission::Cookie(route.mtu),
            Some(route) => Admission::Child(route.mtu),
        }
    }

    /// Makes a child for `segment` in the listener's SYN queue and sends
    /// its SYN-ACK; false when no socket or memory was had for it.
    fn adopt(
        &mut self,
        listener: u32,
        ends: Ends,
        segment: &Segment<'_>,
        mtu: u16,
        tx: &mut dyn Transmit,
    ) -> bool {
        let Some(child) = self.new_child(listener) else {
            return false;
        };
        let Some(tcb) = self.table.get_mut(child) else {
            return false;
        };
        accept_syn(tcb, &self.context, segment, ends, mtu);
        self.context.stats.passive_opens += 1;
        send_syn(tcb, &mut self.context, tx);
        self.table.register(child.index());
        true
    }

    /// A fresh socket made a child of the listener in slot `listener`, in
    /// its SYN queue, with its options; `None` when refused.
    fn new_child(&mut self, listener: u32) -> Option<SocketHandle> {
        let config = self.context.config;
        let memory = &mut self.context.memory;
        let child = self
            .table
            .allocate(&config, config.maximum_sockets, memory)
            .ok()?;
        let parent = self.table.at(listener)?;
        let (parent_handle, options) = (parent.handle, parent.options);
        parent.role.listener_mut()?.syn_received += 1;
        let tcb = self.table.get_mut(child)?;
        tcb.options = options;
        tcb.role.adopt(parent_handle);
        Some(child)
    }

    /// Answers `segment` with a cookie SYN-ACK: what a child would send,
    /// with the cookie as its ISN, and no state kept.
    fn send_cookie(
        &mut self,
        listener: u32,
        (local, remote): Ends,
        segment: &Segment<'_>,
        mtu: u16,
        tx: &mut dyn Transmit,
    ) {
        let context = &mut self.context;
        let (config, now) = (context.config, context.now);
        let Some(parent) = self.table.at(listener) else {
            return;
        };
        let buffer = parent.options.receive_buffer;
        if let Some(queues) = parent.role.listener_mut() {
            queues.cookie_sent_ns = Some(now);
        }
        let options = &segment.options;
        let offer = Offer {
            segment_size: (options.maximum_segment_size)
                .unwrap_or(default_segment_size(remote.ip())),
            window_scale: options.window_scale.filter(|_| config.window_scaling),
            sack: options.sack_permitted && config.selective_acknowledgments,
            ecn: crate::ecn::setup_requested(segment) && config.ecn.accepts(),
        };
        let timestamp = options.timestamp.filter(|_| config.timestamps);
        let origin = Origin {
            endpoints: Endpoints::new(local, remote),
            peer_initial: segment.sequence,
        };
        let slot = cookie::slot(now);
        let cookie = context
            .cookies
            .make(&origin, &offer, slot, timestamp.is_some());
        let mut reply = Options {
            maximum_segment_size: Some(announced_segment_size(remote.ip(), mtu)),
            sack_permitted: offer.sack,
            ..Options::default()
        };
        let scale = window_scale_for(buffer.max(config.receive_buffer));
        reply.window_scale = offer.window_scale.map(|_| scale);
        if let Some((value, _)) = timestamp {
            let offset = context.timestamp_offset(local, remote);
            let clock = ((now / 1_000_000) as u32).wrapping_add(offset);
            reply.timestamp = Some((cookie::stamp(clock, &offer), value));
        }
        let flags = Flags::SYN.with(Flags::ACK);
        let header = HeaderFields {
            source_port: local.port(),
            destination_port: remote.port(),
            sequence: cookie,
            acknowledgment: segment.sequence.add(1),
            flags: if offer.ecn {
                flags.with(Flags::ECE)
            } else {
                flags
            },
            window: buffer.min(usize::from(u16::MAX)) as u16,
        };
        send_control(context, tx, (local, remote), header, &reply);
        context.stats.syn_cookies_sent += 1;
    }

    /// An ACK to a listener: if it returns a valid cookie, the connection
    /// is made (true); false when it is no cookie of ours.
    fn cookie_returned(
        &mut self,
        listener: u32,
        (local, remote): Ends,
        segment: &Segment<'_>,
        tx: &mut dyn Transmit,
    ) -> bool {
        let (config, now) = (self.context.config, self.context.now);
        let recent = self
            .table
            .at(listener)
            .and_then(|tcb| tcb.role.listener())
            .and_then(|queues| queues.cookie_sent_ns)
            .is_some_and(|sent| now.saturating_sub(sent) < cookie::LIFETIME_NS);
        if !config.syn_cookies || !recent || segment.has(Flags::SYN) {
            return false;
        }
        let origin = Origin {
            endpoints: Endpoints::new(local, remote),
            peer_initial: segment.sequence.subtract(1),
        };
        let echo = segment.options.timestamp.map(|(_, echo)| echo);
        let cookie = segment.acknowledgment.subtract(1);
        let Some(offer) = self.context.cookies.check(&origin, cookie, now, echo) else {
            self.context.stats.syn_cookies_invalid += 1;
            return false;
        };
        self.context.stats.syn_cookies_valid += 1;
        self.adopt_cookie(listener, (local, remote), segment, offer, tx);
        true
    }

    /// Makes the child a valid cookie stands for and lets its ACK
    /// complete the handshake (straight into the accept queue).
    fn adopt_cookie(
        &mut self,
        listener: u32,
        (local, remote): Ends,
        segment: &Segment<'_>,
        offer: Offer,
        tx: &mut dyn Transmit,
    ) {
        let room = self
            .table
            .at(listener)
            .and_then(|tcb| tcb.role.listener())
            .is_some_and(|queues| queues.accept_queue.len() < queues.backlog);
        let route = tx.route(remote.ip(), zone_of(remote)).filter(|_| room);
        let child = route.and_then(|_| self.new_child(listener));
        let (Some(route), Some(child)) = (route, child) else {
            self.context.stats.syn_drops += 1;
            return;
        };
        let syn_options = Options {
            maximum_segment_size: Some(offer.segment_size),
            window_scale: offer.window_scale,
            sack_permitted: offer.sack,
            timestamp: segment.options.timestamp,
            ..Options::default()
        };
        let setup = Flags::SYN.with(Flags::ECE).with(Flags::CWR);
        let syn = Segment {
            sequence: segment.sequence.subtract(1),
            acknowledgment: Sequence(0),
            flags: if offer.ecn { setup } else { Flags::SYN },
            options: syn_options,
            payload: &[],
            ..*segment
        };
        let Some(tcb) = self.table.get_mut(child) else {
            return;
        };
        accept_syn(tcb, &self.context, &syn, (local, remote), route.mtu);
        let cookie = segment.acknowledgment.subtract(1);
        tcb.start_sending(cookie);
        tcb.send_next = cookie.add(1);
        tcb.send_maximum = cookie.add(1);
        // The window the cookie's SYN-ACK offered.
        let offered = tcb.receive.window().min(usize::from(u16::MAX)) as u32;
        tcb.receive_advertised = tcb.receive.next().add(offered);
        self.context.stats.passive_opens += 1;
        self.table.register(child.index());
        self.connection_input(child.index(), segment, tx);
    }
}
