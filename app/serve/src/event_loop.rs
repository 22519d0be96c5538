//! One service's event loop: one kernel thread polls the listener and
//! every connection, and gives each ready connection a turn.
//!
//! Each pass: poll with a deadline (the next idle sweep or parked retry),
//! give every ready connection its turn (last to first, so removing one
//! moves an already-served entry into its place), accept what waits, and
//! when due retry parked connections and close idle ones. Accepting stops
//! at [`Limits::max_connections`] or when memory for one more entry is
//! refused: the listener is then polled for nothing, and connections wait
//! in the kernel's backlog, which refuses the rest, instead of being
//! accepted and closed.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::base::memory::Account;
use kernel::net::{Errno, Fd, Net, PollEvents, PollFd, SocketOption};

use crate::connection::{Connection, Next, Turns};
use crate::protocol::{Protocol, Want};
use crate::table::Table;
use crate::{Counters, Limits};

/// Bytes read from a connection at a time.
const INPUT_BYTES: usize = 16 * 1024;
/// Bytes a protocol may generate at a time ([`crate::Io::write_with`]).
const SCRATCH_BYTES: usize = 16 * 1024;
/// How often parked connections are retried.
const PARK_RETRY_NS: u64 = 10_000_000;
/// The longest time between two idle sweeps.
const SWEEP_NS: u64 = 1_000_000_000;

/// A service's loop and everything it owns.
pub(crate) struct EventLoop<P: Protocol> {
    net: Arc<Net>,
    protocol: P,
    limits: Limits,
    counters: Arc<Counters>,
    account: Account,
    table: Table<P::Session>,
    input: Vec<u8>,
    scratch: Vec<u8>,
    /// Connections parked now.
    parked: usize,
    /// Accepting stopped (memory or descriptors refused) until then.
    paused_until: Option<u64>,
    next_sweep: u64,
    next_retry: u64,
}

impl<P: Protocol> EventLoop<P> {
    /// A loop serving `listener` with `protocol`; its buffers are charged
    /// to `account`, so it fails only if that account refuses them.
    pub(crate) fn new(
        net: Arc<Net>,
        protocol: P,
        limits: Limits,
        counters: Arc<Counters>,
        account: Account,
        listener: Fd,
    ) -> Option<Self> {
        account.charge(INPUT_BYTES + SCRATCH_BYTES).ok()?;
        Some(Self {
            net,
            protocol,
            limits,
            counters,
            table: Table::new(listener, account.clone()),
            account,
            input: vec![0; INPUT_BYTES],
            scratch: vec![0; SCRATCH_BYTES],
            parked: 0,
            paused_until: None,
            next_sweep: 0,
            next_retry: 0,
        })
    }

    /// Serves until the listener is closed.
    pub(crate) fn run(&mut self, context: &Context<'_>) {
        self.next_sweep = context.now_ns().saturating_add(self.sweep_interval());
        loop {
            let now = context.now_ns();
            self.set_listener_interest(now);
            let timeout = self.next_deadline().saturating_sub(now);
            let polled = &mut self.table.polled;
            if self.net.poll(context, polled, Some(timeout)).is_err() {
                context.sleep_until(now.saturating_add(timeout));
            }
            let listener = self.table.polled[0].returned;
            if listener.contains(PollEvents::INVALID) {
                return self.close_all(context);
            }
            let now = context.now_ns();
            self.serve_ready(context, now);
            if listener.contains(PollEvents::READABLE) {
                self.accept_ready(context, now);
            }
            self.housekeeping(context, now);
        }
    }

    /// When the loop must wake even if nothing happens.
    fn next_deadline(&self) -> u64 {
        let mut deadline = self.next_sweep;
        if self.parked > 0 {
            deadline = deadline.min(self.next_retry);
        }
        if let Some(until) = self.paused_until {
            deadline = deadline.min(until);
        }
        deadline
    }

    fn sweep_interval(&self) -> u64 {
        (self.limits.idle_timeout_ns / 2).clamp(1_000_000, SWEEP_NS)
    }

    /// Polls the listener for connections unless at a limit.
    fn set_listener_interest(&mut self, now: u64) {
        if self.paused_until.is_some_and(|until| now >= until) {
            self.paused_until = None;
        }
        let open = self.table.len() < self.limits.max_connections;
        let accepting = open && self.paused_until.is_none();
        self.table.polled[0].events = if accepting {
            PollEvents::READABLE
        } else {
            PollEvents::NONE
        };
    }

    /// Gives every connection poll found ready its turn.
    fn serve_ready(&mut self, context: &Context<'_>, now: u64) {
        for index in (0..self.table.len()).rev() {
            let returned = self.table.polled[index + 1].returned;
            if returned.is_empty() || self.table.connections[index].parked {
                continue;
            }
            self.take_turn(context, index, returned, now);
        }
    }

    /// One turn of connection `index`, and what follows from it.
    fn take_turn(&mut self, context: &Context<'_>, index: usize, returned: PollEvents, now: u64) {
        let mut turns = Turns {
            context,
            net: &self.net,
            protocol: &self.protocol,
            account: &self.account,
            input: &mut self.input,
            scratch: &mut self.scratch,
            now,
        };
        let next = self.table.connections[index].turn(returned, &mut turns);
        self.apply(context, index, next, now);
    }

    /// Polls, parks or closes connection `index` as its turn said.
    fn apply(&mut self, context: &Context<'_>, index: usize, next: Next, now: u64) {
        let listener = self.table.polled[0].fd;
        let connection = &mut self.table.connections[index];
        let entry = &mut self.table.polled[index + 1];
        match next {
            Next::Poll(events) => {
                if core::mem::take(&mut connection.parked) {
                    self.parked -= 1;
                }
                *entry = PollFd::new(connection.fd, events);
            }
            Next::Park => {
                if !connection.parked {
                    connection.parked = true;
                    self.parked += 1;
                    self.counters.parked.fetch_add(1, Relaxed);
                    self.next_retry = now.saturating_add(PARK_RETRY_NS);
                }
                // Polling the listener for nothing: a place holder that
                // reports nothing while the connection waits to retry.
                *entry = PollFd::new(listener, PollEvents::NONE);
            }
            Next::Close => self.close(context, index),
        }
    }

    /// Closes connection `index`.
    fn close(&mut self, context: &Context<'_>, index: usize) {
        let connection = self.table.remove(index);
        if connection.parked {
            self.parked -= 1;
        }
        let _ = self.net.close(context, connection.fd);
        self.counters.open.fetch_sub(1, Relaxed);
        // A descriptor and memory came free: try accepting again.
        self.paused_until = None;
    }

    fn close_all(&mut self, context: &Context<'_>) {
        for index in (0..self.table.len()).rev() {
            self.close(context, index);
        }
    }

    /// Accepts what waits, up to the limits; each new connection gets a
    /// first turn at once (its request may have arrived with it).
    fn accept_ready(&mut self, context: &Context<'_>, now: u64) {
        while self.table.len() < self.limits.max_connections && self.paused_until.is_none() {
            if self.table.reserve_one().is_err() {
                self.pause(now);
                return;
            }
            let listener = self.table.polled[0].fd;
            match self.net.accept(context, listener) {
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

    /// Serves the connection just accepted on `fd`.
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
        let connection = Connection::open(fd, &mut turns);
        self.table.push(connection, PollEvents::READABLE);
        let index = self.table.len() - 1;
        if nonblocking.is_err() {
            return self.close(context, index);
        }
        self.take_turn(context, index, PollEvents::READABLE, now);
    }

    /// Retries parked connections and closes idle ones, when due.
    fn housekeeping(&mut self, context: &Context<'_>, now: u64) {
        if self.parked > 0 && now >= self.next_retry {
            for index in (0..self.table.len()).rev() {
                if self.table.connections[index].parked {
                    let guess = PollEvents::WRITABLE | PollEvents::HANGUP;
                    self.take_turn(context, index, guess, now);
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
        for index in (0..self.table.len()).rev() {
            let connection = &self.table.connections[index];
            let waiting = connection.want == Want::Input && !connection.has_output();
            if waiting && now.saturating_sub(connection.idle_since) >= timeout {
                self.counters.timed_out.fetch_add(1, Relaxed);
                self.close(context, index);
            }
        }
    }
}

impl<P: Protocol> Drop for EventLoop<P> {
    fn drop(&mut self) {
        self.account.release(INPUT_BYTES + SCRATCH_BYTES);
    }
}
