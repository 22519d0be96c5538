//! Explicit Congestion Notification (RFC 3168): routers mark packets
//! Congestion Experienced instead of dropping them, and TCP carries the
//! news back and slows down as for a loss, without the loss.
//!
//! Negotiation (6.1.1): the SYN of an active open carries ECE and CWR when
//! [`EcnMode::Request`]; a listener not [`EcnMode::Off`] agrees with ECE
//! alone in its SYN-ACK. A retransmitted SYN drops ECE and CWR, in case
//! the first was lost to a middlebox that dislikes them (6.1.1.1). Once
//! agreed:
//!
//! - new data segments leave with ECT(0); retransmissions, pure ACKs,
//!   probes and SYNs never do (6.1.4 to 6.1.6);
//! - the receiver of a CE mark sets ECE on every ACK until a segment with
//!   CWR arrives (6.1.3), and acknowledges the first mark at once;
//! - the sender of an ACK with ECE cuts its window as for a loss, at most
//!   once a window and not during loss recovery (which cut it already),
//!   and sets CWR on its next new data segment (6.1.2).

use crate::congestion::CongestionControl;
use crate::context::Context;
use crate::header::{Flags, Segment};
use crate::sender::in_flight;
use crate::sequence::Sequence;
use crate::tcb::Tcb;

/// The ECN field of an IP header (RFC 3168 5): what the IP layer puts on
/// a segment, and what it found on one that arrived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ecn {
    /// Not-ECT (00): the transport does not do ECN.
    #[default]
    NotCapable,
    /// ECT(1) (01).
    Capable1,
    /// ECT(0) (10): what this engine sends on new data.
    Capable0,
    /// CE (11): a router marked it instead of dropping it.
    CongestionExperienced,
}

impl Ecn {
    /// The codepoint in the low two bits of `type_of_service` (IPv4) or
    /// the traffic class (IPv6).
    pub const fn from_bits(type_of_service: u8) -> Self {
        match type_of_service & 0b11 {
            0b00 => Self::NotCapable,
            0b01 => Self::Capable1,
            0b10 => Self::Capable0,
            _ => Self::CongestionExperienced,
        }
    }

    /// The two bits of the codepoint.
    pub const fn bits(self) -> u8 {
        match self {
            Self::NotCapable => 0b00,
            Self::Capable1 => 0b01,
            Self::Capable0 => 0b10,
            Self::CongestionExperienced => 0b11,
        }
    }
}

/// Whether connections use ECN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EcnMode {
    /// Never: SYNs asking for it are answered without.
    Off,
    /// When the peer's SYN asks for it (Linux's default, `tcp_ecn=2`).
    #[default]
    Accept,
    /// Ask for it in our SYNs too (Linux `tcp_ecn=1`).
    Request,
}

impl EcnMode {
    /// A peer's request is agreed to.
    pub const fn accepts(self) -> bool {
        !matches!(self, Self::Off)
    }
}

/// What a connection that uses ECN owes the other end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    /// A CE mark arrived: ECE on every ACK until the peer's CWR.
    pub echo: bool,
    /// The window was cut for an ECE: CWR on the next new data segment.
    pub reduced: bool,
    /// No new cut for ECE until SND.UNA passes this (once a window).
    pub until: Sequence,
}

/// An ECN-setup SYN (SYN with ECE and CWR).
pub fn setup_requested(segment: &Segment<'_>) -> bool {
    segment.has(Flags::SYN) && segment.has(Flags::ECE) && segment.has(Flags::CWR)
}

/// An ECN-setup SYN-ACK (ECE without CWR).
pub fn setup_answered(segment: &Segment<'_>) -> bool {
    segment.has(Flags::SYN) && segment.has(Flags::ECE) && !segment.has(Flags::CWR)
}

/// The ECN flags of our SYN (`answer`: a SYN-ACK) when ECN is on offer
/// or agreed.
pub fn setup_flags(tcb: &Tcb, answer: bool) -> Flags {
    match (tcb.negotiated.ecn, answer) {
        (false, _) => Flags(0),
        (true, true) => Flags::ECE,
        (true, false) => Flags::ECE.with(Flags::CWR),
    }
}

/// The receiver's side, for an acceptable segment: a CWR ends the echo,
/// a CE mark (re)starts it.
pub fn arrived(tcb: &mut Tcb, context: &mut Context, segment: &Segment<'_>) {
    if !tcb.negotiated.ecn {
        return;
    }
    if segment.has(Flags::CWR) {
        tcb.ecn.echo = false;
    }
    if context.arriving == Ecn::CongestionExperienced {
        context.stats.congestion_marks_received += 1;
        tcb.acknowledge_now |= !tcb.ecn.echo;
        tcb.ecn.echo = true;
    }
}

/// The sender's side: an ACK with ECE cuts the window once a window.
pub fn echoed(tcb: &mut Tcb, context: &mut Context, segment: &Segment<'_>) {
    let echo = segment.has(Flags::ECE) && !segment.has(Flags::SYN);
    if !tcb.negotiated.ecn || !echo || tcb.recovery.is_repairing() {
        return;
    }
    if tcb.send_unacknowledged.before(tcb.ecn.until) {
        return;
    }
    context.stats.congestion_window_reductions += 1;
    let flight = in_flight(tcb);
    tcb.congestion
        .on_congestion(context.now, flight, tcb.segment_size);
    tcb.ecn.until = tcb.send_maximum;
    tcb.ecn.reduced = true;
}

/// ECE on an ACK while the receiver echoes a mark.
pub fn acknowledgment_flags(tcb: &Tcb, flags: Flags) -> Flags {
    let acknowledging = flags.contains(Flags::ACK) && !flags.contains(Flags::SYN);
    if tcb.negotiated.ecn && tcb.ecn.echo && acknowledging {
        flags.with(Flags::ECE)
    } else {
        flags
    }
}

/// The codepoint of a new data segment, and CWR on the first one after a
/// cut (taken).
pub fn new_data(tcb: &mut Tcb, flags: Flags) -> (Ecn, Flags) {
    if !tcb.negotiated.ecn {
        return (Ecn::NotCapable, flags);
    }
    let flags = if core::mem::take(&mut tcb.ecn.reduced) {
        flags.with(Flags::CWR)
    } else {
        flags
    };
    (Ecn::Capable0, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codepoints_round_trip_through_the_low_bits() {
        for bits in 0..=255u8 {
            assert_eq!(Ecn::from_bits(bits).bits(), bits & 0b11);
        }
        assert_eq!(Ecn::from_bits(0xfe), Ecn::Capable0);
        assert_eq!(Ecn::from_bits(0x03), Ecn::CongestionExperienced);
    }
}
