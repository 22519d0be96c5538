//! A consistency check over the whole engine, for tests and fuzzing: the
//! maps agree with the sockets, the queues with the children, and every
//! connection's sequence variables are in order, and the timer index holds
//! each socket's earliest deadline (checked against a brute-force minimum).

use crate::engine::Tcp;
use crate::state::State;
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
        let registered = table.iter().filter(|tcb| tcb.registered).count();
        if registered != table.connection_entries() {
            return Err("connection map size");
        }
        let listening = table
            .iter()
            .filter(|tcb| tcb.state == State::Listen)
            .count();
        if listening != table.listener_entries() {
            return Err("listener map size");
        }
        if table.unindexed() != 0 {
            return Err("a call left the timer index behind");
        }
        table.check_deadlines()?;
        table.iter().try_for_each(|tcb| self.check_socket(tcb))
    }

    fn check_socket(&self, tcb: &Tcb) -> Result<(), &'static str> {
        let table = &self.table;
        if tcb.registered {
            let index = table.find_connection(&Endpoints::new(tcb.local, tcb.remote));
            if index != Some(tcb.handle.index()) {
                return Err("connection map entry");
            }
        }
        if tcb.state == State::Closed && (tcb.registered || tcb.timers.earliest().is_some()) {
            return Err("closed socket still registered or timed");
        }
        if !tcb.user_owned && tcb.state == State::Closed {
            return Err("unowned closed socket not freed");
        }
        check_sequence_space(tcb)?;
        if let Some(listener) = tcb.listener.as_ref() {
            let children = table
                .iter()
                .filter(|child| child.parent == Some(tcb.handle) && child.in_syn_queue);
            if children.count() != listener.syn_received {
                return Err("syn queue count");
            }
            if listener.accept_queue.len() > listener.backlog {
                return Err("accept queue over backlog");
            }
            let queued = |handle| table.get(handle).is_some_and(|child| child.in_accept_queue);
            if !listener.accept_queue.iter().all(|handle| queued(*handle)) {
                return Err("accept queue entry");
            }
        }
        Ok(())
    }
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
