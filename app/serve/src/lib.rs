//! TCP services for application images: a listener served by an acceptor
//! thread that starts one kernel thread per connection.
//!
//! [`listen`] binds a port and hands every accepted connection to a
//! handler in a thread of its own, up to [`Limits::max_connections`] at
//! once; past that a new connection is closed at once, so a flood cannot
//! exhaust memory. Every connection gets TCP keepalive, and
//! [`read_or_idle`] ends one that stays silent for
//! [`Limits::idle_timeout_ns`], so idle or dead clients cannot hold the
//! places for good. The appliance and the kv appliance serve through it.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use core::fmt;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use kernel::Context;
use kernel::net::{Errno, Fd, Net, PollEvents, PollFd, SocketOption, SocketType};

/// How much one service may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once, at most.
    pub max_connections: usize,
    /// The listen backlog.
    pub backlog: usize,
    /// How long a connection may stay silent before it is closed.
    pub idle_timeout_ns: u64,
}

impl Default for Limits {
    /// 512 connections, a backlog of 128, two minutes of silence.
    fn default() -> Self {
        Self {
            max_connections: 512,
            backlog: 128,
            idle_timeout_ns: 120_000_000_000,
        }
    }
}

/// Connections a service accepted, and those it closed at once because it
/// was at its limit (or had no thread for them).
#[derive(Debug, Default)]
pub struct Counters {
    /// Accepted.
    pub connections: AtomicU64,
    /// Closed at once.
    pub refused: AtomicU64,
}

/// Why a service could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    /// A socket call failed.
    Socket(Errno),
    /// The acceptor thread could not be started.
    Thread,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Socket(errno) => write!(f, "{errno}"),
            Self::Thread => f.write_str("no thread for a service"),
        }
    }
}

impl core::error::Error for StartError {}

impl From<Errno> for StartError {
    fn from(errno: Errno) -> Self {
        Self::Socket(errno)
    }
}

/// What serves one connection: runs in the connection's own thread with
/// the service's shared state; the connection is closed when it returns.
pub type Handler<S> = fn(&Context<'_>, &S, Fd);

/// One service: its name (for threads), port, limits and handler.
#[derive(Debug)]
pub struct Service<S> {
    /// Names the acceptor's and the connections' threads.
    pub name: &'static str,
    /// The TCP port on every address.
    pub port: u16,
    /// What it may take.
    pub limits: Limits,
    /// What serves a connection.
    pub handler: Handler<S>,
}

/// Binds `service`'s port and starts its acceptor thread; `state` is
/// shared by every connection, `counters` count them.
///
/// # Errors
/// [`StartError`].
pub fn listen<S: Send + Sync + 'static>(
    context: &Context<'_>,
    net: &Arc<Net>,
    service: Service<S>,
    state: Arc<S>,
    counters: Arc<Counters>,
) -> Result<(), StartError> {
    let listener = net.socket(context, SocketType::Stream)?;
    net.set_option(context, listener, SocketOption::ReuseAddress(true))?;
    let address = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, service.port);
    net.bind(context, listener, address)?;
    net.listen(context, listener, service.limits.backlog)?;
    let acceptor = Acceptor {
        net: net.clone(),
        service,
        state,
        counters,
        active: Arc::new(AtomicUsize::new(0)),
    };
    context
        .kernel()
        .arc()
        .spawn_detached(acceptor.service.name, move |context| {
            acceptor.run(context, listener);
        })
        .map(|_| ())
        .map_err(|_| StartError::Thread)
}

/// The acceptor thread's state.
struct Acceptor<S> {
    net: Arc<Net>,
    service: Service<S>,
    state: Arc<S>,
    counters: Arc<Counters>,
    /// Connections being served now.
    active: Arc<AtomicUsize>,
}

impl<S: Send + Sync + 'static> Acceptor<S> {
    fn run(&self, context: &Context<'_>, listener: Fd) {
        loop {
            let connection = match self.net.accept(context, listener) {
                Ok((connection, _peer)) => connection,
                Err(Errno::BadDescriptor | Errno::InvalidArgument) => return,
                Err(_) => continue, // A connection that failed; the next one waits.
            };
            self.counters.connections.fetch_add(1, Relaxed);
            if !self.start_serving(context, connection) {
                self.counters.refused.fetch_add(1, Relaxed);
                let _ = self.net.close(context, connection);
            }
        }
    }

    /// Starts `connection`'s thread; false at the limit or without one.
    fn start_serving(&self, context: &Context<'_>, connection: Fd) -> bool {
        if self.active.load(Relaxed) >= self.service.limits.max_connections {
            return false;
        }
        let _ = self
            .net
            .set_option(context, connection, SocketOption::KeepAlive(true));
        self.active.fetch_add(1, Relaxed);
        let (net, state, active) = (self.net.clone(), self.state.clone(), self.active.clone());
        let handler = self.service.handler;
        let started = context
            .kernel()
            .arc()
            .spawn_detached(self.service.name, move |context| {
                handler(context, &state, connection);
                let _ = net.close(context, connection);
                active.fetch_sub(1, Relaxed);
            });
        if started.is_err() {
            self.active.fetch_sub(1, Relaxed);
        }
        started.is_ok()
    }
}

/// Reads from `connection`, giving up (as `Ok(0)`, end of stream) when it
/// has been silent for `idle_timeout_ns`.
///
/// # Errors
/// The read's error.
pub fn read_or_idle(
    context: &Context<'_>,
    net: &Net,
    connection: Fd,
    buffer: &mut [u8],
    idle_timeout_ns: u64,
) -> Result<usize, Errno> {
    let mut poll = [PollFd::new(connection, PollEvents::READABLE)];
    if net.poll(context, &mut poll, Some(idle_timeout_ns))? == 0 {
        return Ok(0);
    }
    net.read(context, connection, buffer)
}
