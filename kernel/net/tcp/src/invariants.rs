//! A consistency check over the whole engine, for tests and fuzzing: the
//! maps agree with the sockets' roles, the queues with the children, the
//! event queue with the sockets' flags, every role and loss recovery with
//! the RFC state and sequence variables, the timer index holds each
//! socket's earliest deadline (checked against a brute-force minimum), the
//! TIME-WAIT records agree with the map, and the memory charged is the sum
//! of the sockets' footprints and the records' charge.
//!
//! What the enums of `state.rs` rule out is not checked here (a socket in
//! both queues, a probe during fast recovery, an unowned closed socket
//! kept); what they cannot say is: which state goes with which role, and
//! where the sequence numbers stand.

use alloc::collections::BTreeSet;

use crate::SocketHandle;
use crate::engine::Tcp;
use crate::forward::Step;
use crate::loss::Evidence;
use crate::state::{FastRecovery, Listener, Owner, Recovery, Role, State};
use crate::table::Endpoints;
use crate::tcb::Tcb;

impl Tcp {
    /// Verifies the engine's internal invariants; `Err` names the first
    /// one broken. Costs a walk over every socket: meant for tests and
    /// fuzzers, not for the data path.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let table = &self.table;
        if table.iter().count() != table.live() {
            return Err("live socket count");
        }
        let connections = table.iter().filter(|tcb| tcb.role.is_connection());
        if connections.count() + table.time_wait_count() != table.connection_entries() {
            return Err("connection map size");
        }
        let listening = table.iter().filter(|tcb| tcb.role.listener().is_some());
        if listening.count() != table.listener_entries() {
            return Err("listener map size");
        }
        if table.unindexed() != 0 {
            return Err("a call left the timer index behind");
        }
        table.check_deadlines()?;
        table.check_time_waits()?;
        self.check_events()?;
        let footprints: usize = table.iter().map(Tcb::footprint).sum();
        let records = table.time_wait_charge();
        if footprints + records != self.context.memory.held() {
            return Err("charged memory and the sockets' footprints disagree");
        }
        table.iter().try_for_each(|tcb| self.check_socket(tcb))
    }

    /// The event queue holds each handle once, and a live socket's
    /// `event_pending` says whether it is there.
    fn check_events(&self) -> Result<(), &'static str> {
        let events = &self.context.events;
        let queued: BTreeSet<SocketHandle> = events.iter().copied().collect();
        if queued.len() != events.len() {
            return Err("a handle queued twice for events");
        }
        let agrees = |tcb: &Tcb| tcb.event_pending == queued.contains(&tcb.handle);
        if !self.table.iter().all(agrees) {
            return Err("event_pending and the event queue disagree");
        }
        Ok(())
    }

    fn check_socket(&self, tcb: &Tcb) -> Result<(), &'static str> {
        check_role(tcb)?;
        if tcb.role.is_connection() {
            let key = Endpoints::new(tcb.local, tcb.remote);
            if self.table.find_connection(&key) != Some(tcb.handle.index()) {
                return Err("connection map entry");
            }
        }
        if let Some(parent) = tcb.role.parent() {
            self.check_child(tcb, parent)?;
        }
        if let Some(listener) = tcb.role.listener() {
            self.check_listener(tcb.handle, listener)?;
        }
        check_sequence_space(tcb)?;
        check_recovery(tcb)?;
        check_options(tcb)
    }

    /// A child's listener listens and holds it in the queue its role names.
    fn check_child(&self, child: &Tcb, parent: SocketHandle) -> Result<(), &'static str> {
        let listener = self.table.get(parent).and_then(|tcb| tcb.role.listener());
        let Some(listener) = listener else {
            return Err("a child's listener is gone");
        };
        let queued = listener.accept_queue.contains(&child.handle);
        if queued != matches!(child.role, Role::Connection(Owner::AcceptQueue(_))) {
            return Err("accept queue membership");
        }
        Ok(())
    }

    /// The SYN queue count and the accept queue match the children.
    fn check_listener(
        &self,
        handle: SocketHandle,
        listener: &Listener,
    ) -> Result<(), &'static str> {
        let children = |owner: Owner| {
            let owned = move |child: &&Tcb| matches!(child.role, Role::Connection(o) if o == owner);
            self.table.iter().filter(owned).count()
        };
        if children(Owner::SynQueue(handle)) != listener.syn_received {
            return Err("syn queue count");
        }
        if listener.accept_queue.len() > listener.backlog {
            return Err("accept queue over backlog");
        }
        if children(Owner::AcceptQueue(handle)) != listener.accept_queue.len() {
            return Err("accept queue entry");
        }
        Ok(())
    }
}

/// The role agrees with the RFC state: what the types cannot rule out.
fn check_role(tcb: &Tcb) -> Result<(), &'static str> {
    let state = tcb.state;
    let agrees = match tcb.role {
        Role::Unbound | Role::Bound | Role::Finished => state == State::Closed,
        Role::Listening(_) => state == State::Listen,
        Role::Connection(Owner::SynQueue(_)) => state == State::SynReceived,
        Role::Connection(Owner::AcceptQueue(_)) => state.is_synchronized(),
        Role::Connection(_) => !matches!(state, State::Closed | State::Listen),
    };
    if !agrees {
        return Err("role and state disagree");
    }
    if state == State::Closed && tcb.timers.earliest().is_some() {
        return Err("closed socket still timed");
    }
    check_flags(tcb)
}

/// The flags left as flags: a queued FIN agrees with the synchronized
/// states (it is extra news only before the handshake completes and at
/// CLOSED), and an owed ACK never outlives the call that owed it.
fn check_flags(tcb: &Tcb) -> Result<(), &'static str> {
    let fin_state = match tcb.state {
        State::Established | State::CloseWait => Some(false),
        State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait => {
            Some(true)
        }
        State::Closed | State::Listen | State::SynSent | State::SynReceived => None,
    };
    if fin_state.is_some_and(|queued| queued != tcb.fin_queued) {
        return Err("fin_queued and the state disagree");
    }
    if tcb.acknowledge_now {
        return Err("an owed ACK left for a later call");
    }
    Ok(())
}

fn check_sequence_space(tcb: &Tcb) -> Result<(), &'static str> {
    if !tcb.state.is_synchronized() && tcb.state != State::SynReceived {
        return Ok(());
    }
    let una = tcb.send_unacknowledged;
    if una.after(tcb.send_next) || tcb.send_next.after(tcb.send_maximum) {
        return Err("SND.UNA <= SND.NXT <= SND.MAX");
    }
    let start = tcb.send_buffer.start();
    let holds = tcb.send_buffer.len() as u32;
    let syn_pending = start == una.add(1);
    let data_from_una = start == una;
    let fin_acknowledged = tcb.fin_queued && una == tcb.send_buffer.end().add(1) && holds == 0;
    if !(syn_pending || data_from_una || fin_acknowledged) {
        return Err("send buffer starts at SND.UNA");
    }
    if tcb
        .send_maximum
        .after(tcb.send_buffer.end().add(u32::from(tcb.fin_queued)))
    {
        return Err("sent beyond the queued data");
    }
    if tcb.receive.readable() > tcb.receive.limit() {
        return Err("receive buffer over its limit");
    }
    Ok(())
}

/// Loss recovery: what the enum cannot say about sequence numbers and
/// options. A CLOSED connection keeps whatever state it stopped in.
fn check_recovery(tcb: &Tcb) -> Result<(), &'static str> {
    let una = tcb.send_unacknowledged;
    let recovery = &tcb.recovery;
    if tcb.state == State::Closed {
        return Ok(());
    }
    check_undo(tcb)?;
    if !tcb.state.is_synchronized() && !recovery.is_open() {
        return Err("loss recovery before the handshake");
    }
    let broken = match recovery {
        Recovery::Open => None,
        Recovery::Probe(_) => (!tcb.negotiated.sack).then_some("a tail loss probe without SACK"),
        Recovery::Fast(fast) if fast.retransmit_now => Some("a fast retransmission left pending"),
        Recovery::Fast(fast) if tcb.negotiated.sack && beyond_reduction(tcb, fast) => {
            Some("fast recovery sent more than PRR allows")
        }
        Recovery::Fast(fast) => (!una.before(fast.point)).then_some("fast recovery past its point"),
        Recovery::Timeout { .. } => {
            (!una.before(tcb.recover)).then_some("timeout recovery past `recover`")
        }
    };
    broken.map_or(Ok(()), Err)
}

/// An undo snapshot has evidence that can tell: timestamps for Eifel, or
/// F-RTO after a timeout without them, never left between its steps.
fn check_undo(tcb: &Tcb) -> Result<(), &'static str> {
    let timeout = matches!(tcb.recovery, Recovery::Timeout { .. });
    match tcb.recovery.undo().map(|undo| undo.evidence) {
        None => Ok(()),
        Some(Evidence::Echo(_)) if !tcb.negotiated.timestamps => {
            Err("an undo snapshot without timestamps")
        }
        Some(Evidence::Echo(_)) => Ok(()),
        Some(Evidence::Forward(_)) if tcb.negotiated.timestamps || !timeout => {
            Err("F-RTO with timestamps or outside a timeout's repair")
        }
        Some(Evidence::Forward(forward)) if forward.step == Step::SendNew => {
            Err("F-RTO's new data left for a later call")
        }
        Some(Evidence::Forward(_)) => Ok(()),
    }
}

/// RFC 6937: fast recovery sent more than its ACKs allowed (the fast
/// retransmission aside).
fn beyond_reduction(tcb: &Tcb, fast: &FastRecovery) -> bool {
    fast.prr.sent > fast.prr.granted.saturating_add(tcb.segment_size)
}

/// Without window scaling, neither side's window is shifted; without ECN,
/// no ECN signal is owed.
fn check_options(tcb: &Tcb) -> Result<(), &'static str> {
    let signals = tcb.ecn.echo || tcb.ecn.reduced;
    if signals && !tcb.negotiated.ecn {
        return Err("an ECN signal without ECN");
    }
    let scaled = tcb.send_scale != 0 || tcb.receive_scale != 0;
    if tcb.state.is_synchronized() && !tcb.negotiated.window_scaling && scaled {
        return Err("a window shift without window scaling");
    }
    Ok(())
}
