//! The sender's loss recovery: open, probing the tail, in fast recovery, or
//! repairing after a retransmission timeout.
//!
//! One enum replaces `recovery`, `after_timeout`, `probe`, `undo` and
//! `retransmit_first`, whose exclusions were kept only by the order of the
//! code: a tail loss probe is sent only when open, fast recovery never
//! starts while repairing after a timeout (SND.UNA is below `recover`
//! until that repair ends), and a snapshot to undo exists only during a
//! repair. The decisions stay in `loss.rs`, `probe.rs`, `timers.rs` and
//! `acknowledgment.rs`; this is the state they move between.

use crate::loss::Undo;
use crate::probe::Probe;
use crate::prr::Prr;
use crate::sequence::Sequence;

/// How the sender stands with loss (Linux's `ca_state`, roughly).
///
/// ```text
///            PTO fired                  loss found (RACK, SACK, or
///   Open ─────────────► Probe           three duplicate ACKs)
///    ▲ ◄── ACK covers it ─┘ └─────────────────────────────► Fast
///    │ ◄──────────── the recovery point is acknowledged ─────┘
///    │
///    └─── SND.UNA reaches `recover`, ──── Timeout ◄── RTO, from any state
///         or the timeout proves spurious
/// ```
///
/// Open and Probe may also enter Fast straight from Open; an RTO in
/// Timeout stays in Timeout.
#[derive(Clone, Copy, Debug)]
pub enum Recovery {
    /// Nothing known lost, no probe out.
    Open,
    /// A tail loss probe is out (RFC 8985 7), until an ACK covers it.
    Probe(Probe),
    /// Fast recovery (RFC 6675 with SACK, RFC 6582 NewReno without).
    Fast(FastRecovery),
    /// Repairing from the scoreboard after a retransmission timeout, until
    /// SND.UNA reaches `Tcb::recover`.
    Timeout {
        /// How to undo the reduction if the timeout proves spurious
        /// (timestamps, or F-RTO without them).
        undo: Option<Undo>,
    },
}

/// Fast recovery state (RFC 6582 / RFC 6675).
#[derive(Clone, Copy, Debug)]
pub struct FastRecovery {
    /// Recovery ends when this is acknowledged (SND.MAX at entry).
    pub point: Sequence,
    /// NewReno window inflation in bytes (without SACK).
    pub inflation: u32,
    /// The next output pass opens with a retransmission whatever the
    /// congestion window: the first lost segment on entry (fast
    /// retransmit), SND.UNA's after a partial ACK (NewReno). Always used
    /// up by the output pass that ends the same engine call.
    pub retransmit_now: bool,
    /// How to undo the reduction if it proves spurious (timestamps only).
    pub undo: Option<Undo>,
    /// What each ACK lets the repair send (RFC 6937; with SACK).
    pub prr: Prr,
}

impl Recovery {
    /// Nothing lost and no probe out: a tail loss probe may be armed.
    pub const fn is_open(&self) -> bool {
        matches!(self, Self::Open)
    }

    /// Repairing a loss (fast recovery or after a timeout): RACK widens
    /// its window and no new recovery starts.
    pub const fn is_repairing(&self) -> bool {
        matches!(self, Self::Fast(_) | Self::Timeout { .. })
    }

    /// A retransmission must open the next output pass.
    pub const fn retransmit_pending(&self) -> bool {
        matches!(self, Self::Fast(fast) if fast.retransmit_now)
    }

    /// A retransmission went out (or there was none to send).
    pub const fn retransmission_sent(&mut self) {
        if let Self::Fast(fast) = self {
            fast.retransmit_now = false;
        }
    }

    /// Open → Probe when the PTO fires (and Probe → Probe as the probe's
    /// extent becomes known).
    pub fn probe_sent(&mut self, probe: Probe) {
        debug_assert!(matches!(self, Self::Open | Self::Probe(_)), "{self:?}");
        *self = Self::Probe(probe);
    }

    /// Probe → Open: an ACK covered the probe.
    pub fn probe_ended(&mut self) {
        if matches!(self, Self::Probe(_)) {
            *self = Self::Open;
        }
    }

    /// Open or Probe → Fast: a loss was found.
    pub fn enter_fast(&mut self, fast: FastRecovery) {
        debug_assert!(matches!(self, Self::Open | Self::Probe(_)), "{self:?}");
        *self = Self::Fast(fast);
    }

    /// Any → Timeout: the retransmission timer expired.
    pub fn time_out(&mut self, undo: Option<Undo>) {
        *self = Self::Timeout { undo };
    }

    /// The snapshot of a repair.
    pub const fn undo(&self) -> Option<&Undo> {
        match self {
            Self::Fast(FastRecovery { undo, .. }) | Self::Timeout { undo } => undo.as_ref(),
            Self::Open | Self::Probe(_) => None,
        }
    }

    /// Mutable [`Recovery::undo`].
    pub const fn undo_mut(&mut self) -> Option<&mut Undo> {
        match self {
            Self::Fast(FastRecovery { undo, .. }) | Self::Timeout { undo } => undo.as_mut(),
            Self::Open | Self::Probe(_) => None,
        }
    }

    /// Takes the snapshot of a repair, to undo it or to keep it for the
    /// next one.
    pub const fn take_undo(&mut self) -> Option<Undo> {
        match self {
            Self::Fast(FastRecovery { undo, .. }) | Self::Timeout { undo } => undo.take(),
            Self::Open | Self::Probe(_) => None,
        }
    }

    /// Fast or Timeout → Open: the repair is over.
    pub fn repaired(&mut self) {
        debug_assert!(self.is_repairing(), "{self:?}");
        *self = Self::Open;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> FastRecovery {
        FastRecovery {
            point: Sequence(1000),
            inflation: 0,
            retransmit_now: true,
            undo: None,
            prr: Prr::new(1000),
        }
    }

    #[test]
    fn fast_recovery_owes_one_retransmission_then_ends_open() {
        let mut recovery = Recovery::Open;
        recovery.enter_fast(fast());
        assert!(recovery.is_repairing() && recovery.retransmit_pending());
        recovery.retransmission_sent();
        assert!(recovery.is_repairing() && !recovery.retransmit_pending());
        recovery.repaired();
        assert!(recovery.is_open());
    }

    #[test]
    fn a_timeout_ends_fast_recovery_and_its_pending_retransmission() {
        let mut recovery = Recovery::Open;
        recovery.enter_fast(fast());
        let undo = recovery.take_undo();
        recovery.time_out(undo);
        assert!(recovery.is_repairing() && !recovery.retransmit_pending());
        assert!(recovery.take_undo().is_none());
        recovery.retransmission_sent();
        assert!(matches!(recovery, Recovery::Timeout { undo: None }));
    }

    #[test]
    #[should_panic(expected = "Timeout")]
    fn fast_recovery_never_starts_during_timeout_recovery() {
        let mut recovery = Recovery::Timeout { undo: None };
        recovery.enter_fast(fast());
    }
}
