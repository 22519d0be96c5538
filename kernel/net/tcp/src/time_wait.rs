//! TIME-WAIT without a socket: once nobody holds a connection in TIME-WAIT
//! its socket (about 1.2 KiB) gives way to a record of 40 bytes (72 for
//! IPv6): its 4-tuple, its deadline and a 20-byte [`TimeWait`] holding
//! only what the state still needs (RFC 9293 3.10.7.4, RFC 7323):
//! to acknowledge a retransmitted FIN and restart the 2 MSL timer, to
//! answer old duplicates (PAWS, the window check), to end on an exact
//! reset, and to let a newer SYN reuse the 4-tuple (RFC 6191, in
//! `engine.rs`). Where the records live and expire: `table/time_waits.rs`.
//!
//! A TIME-WAIT socket a user still holds stays a socket (its state is
//! what `status` reports) and becomes a record when the user closes it.
//! Segments get the same answers either way, but for two simplifications
//! that only change which needless segments are answered: an ACK from far
//! behind SND.UNA is ignored rather than acknowledged, and data in the
//! window is dropped without an ACK (a socket in TIME-WAIT drops it too).

use crate::Transmit;
use crate::arrival::OUT_OF_WINDOW_ACK_INTERVAL_NS;
use crate::context::Context;
use crate::engine::Tcp;
use crate::header::{Flags, HeaderFields, Segment};
use crate::options::Options;
use crate::output::send_control;
use crate::sequence::Sequence;
use crate::state::{Owner, Role, State};
use crate::table::{Endpoints, Ticket};
use crate::tcb::Tcb;

const MILLISECOND: u64 = 1_000_000;

/// What a connection in TIME-WAIT that no user holds still needs: 20
/// bytes (its 4-tuple and deadline are the record's, `table/time_waits.rs`).
#[derive(Clone, Copy, Debug)]
pub struct TimeWait {
    /// SND.NXT: our FIN is sent and acknowledged.
    pub send_next: Sequence,
    /// RCV.NXT: past the peer's FIN.
    pub receive_next: Sequence,
    /// TS.Recent (when `timestamps`).
    pub timestamp_recent: u32,
    /// When an ACK last answered a segment without data that could not be
    /// used, on a millisecond clock (the rate limit of `arrival.rs`).
    pub last_acknowledgment_ms: u32,
    /// The window field our ACKs carry (already shifted).
    pub window: u16,
    /// Our window shift.
    pub receive_scale: u8,
    /// Timestamps (RFC 7323) are in use.
    pub timestamps: bool,
}

/// What a segment asks of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Ignore,
    Acknowledge,
    /// A retransmitted FIN: restart the 2 MSL timer, and acknowledge it
    /// unless the rate limit says no.
    Restart {
        acknowledge: bool,
    },
    /// An in-window reset or a SYN (RFC 5961): a rate-limited ACK.
    Challenge,
    /// The exact reset: the record ends.
    Reset,
}

fn milliseconds(now: u64) -> u32 {
    (now / MILLISECOND) as u32
}

/// A socket that becomes a record: in TIME-WAIT, and nobody's.
pub fn buriable(tcb: &Tcb) -> bool {
    tcb.state == State::TimeWait && matches!(tcb.role, Role::Connection(Owner::Released))
}

impl TimeWait {
    /// The record of `tcb`, a socket in TIME-WAIT, at `now`.
    pub fn of(tcb: &Tcb, now: u64) -> Self {
        let interval = (OUT_OF_WINDOW_ACK_INTERVAL_NS / MILLISECOND) as u32;
        let last_acknowledgment_ms = match tcb.last_out_of_window_ack_ns {
            Some(at) => milliseconds(at),
            None => milliseconds(now).wrapping_sub(interval),
        };
        let window = tcb.receive_window() >> tcb.receive_scale;
        Self {
            send_next: tcb.send_next,
            receive_next: tcb.receive.next(),
            timestamp_recent: tcb.timestamp_recent,
            last_acknowledgment_ms,
            window: window.min(u32::from(u16::MAX)) as u16,
            receive_scale: tcb.receive_scale,
            timestamps: tcb.negotiated.timestamps,
        }
    }

    /// RFC 7323 5.3 as `arrival::paws_rejects` applies it.
    fn paws_rejects(&self, segment: &Segment<'_>) -> bool {
        let Some((value, _)) = segment.options.timestamp else {
            return false;
        };
        let control = Flags::SYN.with(Flags::FIN).with(Flags::RST);
        let pure_ack = segment.payload.is_empty()
            && segment.flags.0 & control.0 == 0
            && segment.sequence == self.receive_next;
        self.timestamps
            && !segment.has(Flags::RST)
            && !pure_ack
            && (value.wrapping_sub(self.timestamp_recent) as i32) < 0
    }

    /// RFC 9293's acceptability test against the window last advertised.
    fn acceptable(&self, segment: &Segment<'_>) -> bool {
        let window = u32::from(self.window) << self.receive_scale;
        let (next, start) = (self.receive_next, segment.sequence);
        let length = segment.sequence_length();
        if window == 0 {
            return start == next;
        }
        if length == 0 {
            return start.within(next, window);
        }
        start.within(next, window) || start.add(length - 1).within(next, window)
    }

    /// Whether to answer a segment we cannot use (always for data, at
    /// most every 500 ms otherwise, as `arrival::owe_out_of_window_ack`).
    fn owes_acknowledgment(&mut self, now: u64, segment: &Segment<'_>) -> bool {
        let carries_data = !segment.payload.is_empty() && !segment.has(Flags::SYN);
        let interval = (OUT_OF_WINDOW_ACK_INTERVAL_NS / MILLISECOND) as u32;
        let now = milliseconds(now);
        let recent = now.wrapping_sub(self.last_acknowledgment_ms) < interval;
        if !carries_data && !recent {
            self.last_acknowledgment_ms = now;
        }
        carries_data || !recent
    }

    /// RFC 9293 3.10.7.4's checks in order, for TIME-WAIT.
    fn examine(&mut self, context: &mut Context, segment: &Segment<'_>) -> Verdict {
        let reset = segment.has(Flags::RST);
        let answer = |owed: bool| {
            if owed {
                Verdict::Acknowledge
            } else {
                Verdict::Ignore
            }
        };
        if self.paws_rejects(segment) {
            context.stats.paws_rejects += 1;
            return answer(!reset && self.owes_acknowledgment(context.now, segment));
        }
        if !self.acceptable(segment) {
            return self.unacceptable(context, segment);
        }
        if reset {
            return if segment.sequence == self.receive_next {
                Verdict::Reset
            } else {
                Verdict::Challenge
            };
        }
        if segment.has(Flags::SYN) {
            return Verdict::Challenge;
        }
        if !segment.has(Flags::ACK) {
            return Verdict::Ignore;
        }
        if segment.acknowledgment.after(self.send_next) {
            return answer(self.owes_acknowledgment(context.now, segment));
        }
        self.update_timestamp_recent(segment);
        Verdict::Ignore
    }

    fn unacceptable(&mut self, context: &mut Context, segment: &Segment<'_>) -> Verdict {
        context.stats.unacceptable_segments += 1;
        let length = segment.sequence_length();
        let end = segment.sequence.add(length);
        if end.before_or_at(self.receive_next) && length > 0 {
            context.stats.duplicate_segments += 1;
        }
        if segment.has(Flags::RST) {
            return Verdict::Ignore;
        }
        let acknowledge = self.owes_acknowledgment(context.now, segment);
        match (segment.has(Flags::FIN), acknowledge) {
            (true, acknowledge) => Verdict::Restart { acknowledge },
            (false, true) => Verdict::Acknowledge,
            (false, false) => Verdict::Ignore,
        }
    }

    /// RFC 7323 4.3, with Last.ACK.sent = RCV.NXT.
    fn update_timestamp_recent(&mut self, segment: &Segment<'_>) {
        let Some((value, _)) = segment.options.timestamp else {
            return;
        };
        let newer = (value.wrapping_sub(self.timestamp_recent) as i32) >= 0;
        if self.timestamps && newer && segment.sequence.before_or_at(self.receive_next) {
            self.timestamp_recent = value;
        }
    }

    /// Sends the record's ACK: SND.NXT, RCV.NXT, its window, timestamps.
    fn acknowledge(&self, endpoints: Endpoints, context: &mut Context, tx: &mut dyn Transmit) {
        let (local, remote) = (endpoints.local(), endpoints.remote());
        let mut options = Options::default();
        if self.timestamps {
            let offset = context.timestamp_offset(local, remote);
            let value = milliseconds(context.now).wrapping_add(offset);
            options.timestamp = Some((value, self.timestamp_recent));
        }
        let header = HeaderFields {
            source_port: local.port(),
            destination_port: remote.port(),
            sequence: self.send_next,
            acknowledgment: self.receive_next,
            flags: Flags::ACK,
            window: self.window,
        };
        send_control(context, tx, (local, remote), header, &options);
    }
}

impl Tcp {
    /// A segment for the TIME-WAIT record of `ticket` (a SYN that may
    /// reuse the 4-tuple was handled before).
    pub(crate) fn time_wait_input(
        &mut self,
        ticket: Ticket,
        segment: &Segment<'_>,
        tx: &mut dyn Transmit,
    ) {
        let context = &mut self.context;
        let Some(view) = self.table.time_wait(ticket) else {
            return;
        };
        let verdict = view.state.examine(context, segment);
        let (record, endpoints) = (*view.state, view.endpoints);
        match verdict {
            Verdict::Ignore => {}
            Verdict::Acknowledge => record.acknowledge(endpoints, context, tx),
            Verdict::Restart { acknowledge } => {
                if acknowledge {
                    record.acknowledge(endpoints, context, tx);
                }
                let deadline = context.now + context.config.time_wait_ns;
                self.table.restart_time_wait(ticket, deadline);
            }
            Verdict::Challenge => {
                if context.allow_challenge() {
                    record.acknowledge(endpoints, context, tx);
                }
            }
            Verdict::Reset => {
                context.stats.resets_received += 1;
                self.table.end_time_wait(ticket, &mut context.memory);
            }
        }
    }

    /// Replaces the socket in slot `index`, [`buriable`], by its record
    /// (it stays a socket if the record's memory is refused).
    pub(crate) fn bury(&mut self, index: u32) {
        let Some(tcb) = self.table.at(index) else {
            return;
        };
        let context = &mut self.context;
        let record = TimeWait::of(tcb, context.now);
        let deadline = tcb
            .timers
            .close
            .unwrap_or(context.now + context.config.time_wait_ns);
        self.table
            .bury(index, record, deadline, &mut context.memory);
    }
}
