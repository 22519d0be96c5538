//! Ending sockets: close (graceful, abortive or with linger), abort, and
//! the reset-and-close that listener children and unread data get.

use crate::arrival::close_connection;
use crate::engine::Tcp;
use crate::sender::{output, send_reset};
use crate::socket::user_mut;
use crate::state::State;
use crate::tcb::Tcb;
use crate::{SocketHandle, Transmit};

const SECOND: u64 = 1_000_000_000;

impl Tcp {
    /// close(): releases the handle. A connection finishes its orderly
    /// close on its own; unread data or linger 0 resets it instead
    /// (RFC 9293 3.10.4, RFC 2525 2.17); a positive linger resets it if
    /// the close has not finished in time.
    pub fn close(&mut self, now_ns: u64, handle: SocketHandle, tx: &mut dyn Transmit) {
        self.indexed(|tcp| tcp.release(now_ns, handle, tx));
    }

    fn release(&mut self, now_ns: u64, handle: SocketHandle, tx: &mut dyn Transmit) {
        self.context.now = now_ns;
        let Ok(tcb) = user_mut(&mut self.table, handle) else {
            return;
        };
        let state = tcb.state;
        let unread = tcb.receive.readable() > 0;
        let linger = tcb.options.linger;
        tcb.role.release();
        if state == State::TimeWait {
            // Nobody can read what is left: TIME-WAIT keeps no buffers.
            tcb.release_storage(&mut self.context.memory);
        }
        match state {
            State::Listen => self.close_listener(handle, tx),
            State::Closed | State::SynSent => {
                self.table.free(handle.index, &mut self.context.memory)
            }
            State::TimeWait => {}
            _ if unread || linger == Some(0) => self.reset_and_close(handle.index, tx),
            _ => self.close_gracefully(handle, linger, tx),
        }
        self.settle(handle.index);
    }

    fn close_gracefully(
        &mut self,
        handle: SocketHandle,
        linger: Option<u32>,
        tx: &mut dyn Transmit,
    ) {
        let Some(tcb) = self.table.get_mut(handle) else {
            return;
        };
        tcb.read_shutdown = true;
        queue_fin(tcb);
        output(tcb, &mut self.context, tx);
        let now = self.context.now;
        if tcb.state == State::FinWait2 {
            tcb.timers.close = Some(now + self.context.config.fin_wait_2_timeout_ns);
        }
        if let Some(seconds) = linger {
            let deadline = now + u64::from(seconds) * SECOND;
            tcb.timers.close = Some(
                tcb.timers
                    .close
                    .map_or(deadline, |close| close.min(deadline)),
            );
        }
    }

    fn close_listener(&mut self, handle: SocketHandle, tx: &mut dyn Transmit) {
        self.table.unlisten(handle.index);
        for index in 0..self.table.slot_count() {
            let Some(tcb) = self.table.at(index) else {
                continue;
            };
            if tcb.role.parent() == Some(handle) {
                tcb.role.disown();
                self.reset_and_close(index, tx);
            }
        }
        self.table.free(handle.index, &mut self.context.memory);
    }

    /// abort(): a reset now (for a synchronized connection) and release.
    pub fn abort(&mut self, now_ns: u64, handle: SocketHandle, tx: &mut dyn Transmit) {
        self.indexed(|tcp| tcp.abort_now(now_ns, handle, tx));
    }

    fn abort_now(&mut self, now_ns: u64, handle: SocketHandle, tx: &mut dyn Transmit) {
        self.context.now = now_ns;
        let Ok(tcb) = user_mut(&mut self.table, handle) else {
            return;
        };
        match tcb.state {
            State::Listen => self.close_listener(handle, tx),
            State::Closed => self.table.free(handle.index, &mut self.context.memory),
            _ => {
                tcb.role.release();
                self.reset_and_close(handle.index, tx);
            }
        }
        self.settle(handle.index);
    }

    /// Sends a reset for the socket at `index` and ends it (abort, linger 0,
    /// unread data at close, listener children).
    pub(crate) fn reset_and_close(&mut self, index: u32, tx: &mut dyn Transmit) {
        let Some(tcb) = self.table.at(index) else {
            return;
        };
        let synchronized = tcb.state.is_synchronized() || tcb.state == State::SynReceived;
        if synchronized && tcb.state != State::TimeWait {
            send_reset(tcb, &mut self.context, tx);
        }
        close_connection(tcb, &mut self.context, None);
        self.settle(index);
    }
}

/// The user is done sending: the FIN follows the queued data.
pub(crate) fn queue_fin(tcb: &mut Tcb) {
    if tcb.fin_queued {
        return;
    }
    tcb.fin_queued = true;
    match tcb.state {
        State::Established => tcb.state = State::FinWait1,
        State::CloseWait => tcb.state = State::LastAck,
        _ => {}
    }
}
