//! The event loop's work besides turns: accepting new connections (up to
//! the limits), retrying parked ones and closing idle ones.

use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::{Errno, Fd, PollEvents, SocketOption};

use super::{EventLoop, PARK_RETRY_NS};
use crate::connection::{Connection, Turns};
use crate::protocol::{Protocol, Want};

impl<P: Protocol> EventLoop<P> {
    /// Accepts what waits, up to the limits; each new connection gets a
    /// first turn at once (its request may have arrived with it).
    pub(super) fn accept_ready(&mut self, context: &Context<'_>, now: u64) {
        while self.table.len() < self.limits.max_connections && self.paused_until.is_none() {
            if self.table.reserve_one().is_err() {
                self.pause(now);
                return;
            }
            match self.net.accept(context, self.listener) {
                Ok((fd, _peer)) => self.start(context, fd, now),
                Err(Errno::WouldBlock) => return,
                Err(Errno::TooManySockets | Errno::NoBuffers) => {
                    self.counters.refused.fetch_add(1, Relaxed);
                    self.pause(now);
                    return;
                }
                Err(Errno::BadDescriptor | Errno::InvalidArgument) => return,
                // A connection that failed; the next one waits.
                Err(_) => {}
            }
        }
    }

    /// Stops accepting until the next sweep (or until a connection closes).
    fn pause(&mut self, now: u64) {
        self.counters.limited.fetch_add(1, Relaxed);
        self.paused_until = Some(now.saturating_add(self.sweep_interval()));
    }

    /// Serves the connection just accepted on `fd`: watched for input,
    /// and a first turn.
    fn start(&mut self, context: &Context<'_>, fd: Fd, now: u64) {
        self.counters.connections.fetch_add(1, Relaxed);
        self.counters.open.fetch_add(1, Relaxed);
        let net = &self.net;
        let nonblocking = net.set_option(context, fd, SocketOption::NonBlocking(true));
        let _ = net.set_option(context, fd, SocketOption::KeepAlive(true));
        let mut turns = Turns {
            context,
            net,
            protocol: &self.protocol,
            account: &self.account,
            input: &mut self.input,
            scratch: &mut self.scratch,
            now,
        };
        let mut connection = Connection::open(fd, &mut turns);
        connection.watching = PollEvents::READABLE;
        let slot = self.table.insert(connection);
        let watched = net.watch(context, self.set, fd, PollEvents::READABLE, slot as u64);
        if nonblocking.is_err() || watched.is_err() {
            return self.close(context, slot);
        }
        self.take_turn(context, slot, PollEvents::READABLE, now);
    }

    /// Retries parked connections and closes idle ones, when due.
    pub(super) fn housekeeping(&mut self, context: &Context<'_>, now: u64) {
        if self.parked > 0 && now >= self.next_retry {
            for slot in self.table.slots() {
                let parked = self.table.get_mut(slot).is_some_and(|c| c.parked);
                if parked {
                    let guess = PollEvents::WRITABLE | PollEvents::HANGUP;
                    self.take_turn(context, slot, guess, now);
                }
            }
            self.next_retry = now.saturating_add(PARK_RETRY_NS);
        }
        if now >= self.next_sweep {
            self.close_idle(context, now);
            self.next_sweep = now.saturating_add(self.sweep_interval());
        }
    }

    /// Closes the connections that waited for input too long.
    fn close_idle(&mut self, context: &Context<'_>, now: u64) {
        let timeout = self.limits.idle_timeout_ns;
        for slot in self.table.slots() {
            let Some(connection) = self.table.get_mut(slot) else {
                continue;
            };
            let waiting = connection.want == Want::Input && !connection.has_output();
            if waiting && now.saturating_sub(connection.idle_since) >= timeout {
                self.counters.timed_out.fetch_add(1, Relaxed);
                self.close(context, slot);
            }
        }
    }
}
