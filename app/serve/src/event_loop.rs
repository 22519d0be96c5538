//! One service's event loop: one kernel thread waits on a watch set that
//! holds the listener and every connection, and gives each ready
//! connection a turn.
//!
//! Each pass: wait with a deadline (the next idle sweep or parked retry)
//! for up to [`READY_BATCH`] ready descriptors, give each ready connection
//! its turn, accept what waits, and when due retry parked connections and
//! close idle ones. A pass costs what is ready, not what is open: the
//! kernel queues a connection on the set when its socket has an event.
//! Accepting stops at [`Limits::max_connections`] or when memory for one
//! more entry is refused: the listener is then watched for nothing, and
//! connections wait in the kernel's backlog, which refuses the rest,
//! instead of being accepted and closed.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::base::memory::Account;
use kernel::net::{Fd, Net, PollEvents, Ready, WatchSet};

use crate::connection::{Next, Turns};
use crate::protocol::Protocol;
use crate::table::Table;
use crate::{Counters, Limits};

mod housekeeping;

/// Bytes read from a connection at a time.
const INPUT_BYTES: usize = 16 * 1024;
/// Bytes a protocol may generate at a time ([`crate::Io::write_with`]).
const SCRATCH_BYTES: usize = 16 * 1024;
/// Ready descriptors one pass takes at most (the rest wait for the next).
const READY_BATCH: usize = 256;
/// What the loop's own buffers cost.
const BUFFER_BYTES: usize =
    INPUT_BYTES + SCRATCH_BYTES + READY_BATCH * core::mem::size_of::<Ready>();
/// The listener's token; connections' are their slot numbers.
const LISTENER: u64 = u64::MAX;
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
    listener: Fd,
    set: WatchSet,
    table: Table<P::Session>,
    ready: Vec<Ready>,
    input: Vec<u8>,
    scratch: Vec<u8>,
    /// The listener is watched for connections.
    accepting: bool,
    /// Connections parked now.
    parked: usize,
    /// Accepting stopped (memory or descriptors refused) until then.
    paused_until: Option<u64>,
    next_sweep: u64,
    next_retry: u64,
}

impl<P: Protocol> EventLoop<P> {
    /// A loop serving `listener` with `protocol`, its connections in a new
    /// watch set; its buffers are charged to `account`. `None` if that
    /// account refuses them or no set can be had.
    pub(crate) fn new(
        context: &Context<'_>,
        net: Arc<Net>,
        protocol: P,
        limits: Limits,
        counters: Arc<Counters>,
        account: Account,
        listener: Fd,
    ) -> Option<Self> {
        let set = net.watch_set(context).ok()?;
        let watched = net.watch(context, set, listener, PollEvents::READABLE, LISTENER);
        if watched.is_err() || account.charge(BUFFER_BYTES).is_err() {
            let _ = net.close_watch_set(context, set);
            return None;
        }
        Some(Self {
            net,
            protocol,
            limits,
            counters,
            table: Table::new(account.clone()),
            account,
            listener,
            set,
            ready: Vec::with_capacity(READY_BATCH),
            input: vec![0; INPUT_BYTES],
            scratch: vec![0; SCRATCH_BYTES],
            accepting: true,
            parked: 0,
            paused_until: None,
            next_sweep: 0,
            next_retry: 0,
        })
    }

    /// Serves for as long as its watch set works.
    pub(crate) fn run(&mut self, context: &Context<'_>) {
        self.next_sweep = context.now_ns().saturating_add(self.sweep_interval());
        loop {
            let now = context.now_ns();
            self.set_listener_interest(context, now);
            let timeout = self.next_deadline().saturating_sub(now);
            let mut ready = core::mem::take(&mut self.ready);
            ready.clear();
            let waited =
                self.net
                    .wait_ready(context, self.set, &mut ready, READY_BATCH, Some(timeout));
            if waited.is_err() {
                return self.close_all(context);
            }
            let now = context.now_ns();
            let listener = self.serve_ready(context, &ready, now);
            self.ready = ready;
            if listener {
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

    /// Watches the listener for connections unless at a limit.
    fn set_listener_interest(&mut self, context: &Context<'_>, now: u64) {
        if self.paused_until.is_some_and(|until| now >= until) {
            self.paused_until = None;
        }
        let room = self.table.len() < self.limits.max_connections;
        let accepting = room && self.paused_until.is_none();
        if accepting != self.accepting {
            let events = if accepting {
                PollEvents::READABLE
            } else {
                PollEvents::NONE
            };
            let watched = self
                .net
                .watch(context, self.set, self.listener, events, LISTENER);
            self.accepting = accepting && watched.is_ok();
        }
    }

    /// Gives every ready connection its turn; whether the listener is
    /// among the ready.
    fn serve_ready(&mut self, context: &Context<'_>, ready: &[Ready], now: u64) -> bool {
        let mut listener = false;
        for one in ready {
            if one.token == LISTENER {
                listener = true;
                continue;
            }
            let slot = one.token as usize;
            // Closed earlier in this pass (slots are reused only when
            // accepting, after it).
            let Some(connection) = self.table.get_mut(slot) else {
                continue;
            };
            if connection.fd == one.fd && !connection.parked {
                self.take_turn(context, slot, one.events, now);
            }
        }
        listener
    }

    /// One turn of the connection in `slot`, and what follows from it.
    fn take_turn(&mut self, context: &Context<'_>, slot: usize, returned: PollEvents, now: u64) {
        let mut turns = Turns {
            context,
            net: &self.net,
            protocol: &self.protocol,
            account: &self.account,
            input: &mut self.input,
            scratch: &mut self.scratch,
            now,
        };
        let Some(connection) = self.table.get_mut(slot) else {
            return;
        };
        let next = connection.turn(returned, &mut turns);
        self.apply(context, slot, next, now);
    }

    /// Watches, parks or closes the connection in `slot` as its turn said.
    fn apply(&mut self, context: &Context<'_>, slot: usize, next: Next, now: u64) {
        let Some(connection) = self.table.get_mut(slot) else {
            return;
        };
        match next {
            Next::Poll(events) => {
                if core::mem::take(&mut connection.parked) {
                    self.parked -= 1;
                    connection.watching = PollEvents::NONE;
                }
                if connection.watching != events {
                    let token = slot as u64;
                    let watched = self
                        .net
                        .watch(context, self.set, connection.fd, events, token);
                    if watched.is_err() {
                        return self.close(context, slot);
                    }
                    connection.watching = events;
                }
            }
            Next::Park => {
                if !connection.parked {
                    connection.parked = true;
                    self.parked += 1;
                    self.counters.parked.fetch_add(1, Relaxed);
                    self.next_retry = now.saturating_add(PARK_RETRY_NS);
                    // Hang-ups are always reported: out of the set until
                    // the retry.
                    let _ = self.net.unwatch(context, connection.fd);
                }
            }
            Next::Close => self.close(context, slot),
        }
    }

    /// Closes the connection in `slot` (which takes it out of the set).
    fn close(&mut self, context: &Context<'_>, slot: usize) {
        let Some(connection) = self.table.remove(slot) else {
            return;
        };
        if connection.parked {
            self.parked -= 1;
        }
        let _ = self.net.close(context, connection.fd);
        self.counters.open.fetch_sub(1, Relaxed);
        // A descriptor and memory came free: try accepting again.
        self.paused_until = None;
    }

    fn close_all(&mut self, context: &Context<'_>) {
        for slot in self.table.slots() {
            self.close(context, slot);
        }
    }
}

impl<P: Protocol> Drop for EventLoop<P> {
    fn drop(&mut self) {
        self.account.release(BUFFER_BYTES);
    }
}
