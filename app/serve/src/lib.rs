//! TCP services for application images: one event loop per service, a
//! state machine per connection.
//!
//! [`listen`] binds a port on every IPv6 and IPv4 address (a dual-stack
//! `::`) and starts one kernel thread that waits on a watch set holding
//! the listener and every connection (non-blocking sockets) and hands
//! each ready connection to the service's [`Protocol`]: bytes in, bytes
//! out. A connection costs memory, not a thread: its session, a slot in
//! the loop's table and, only while the socket will not take its output,
//! an outbox ([`Buffer`]); all of it charged to the kernel's `serve`
//! memory account. At [`Limits::max_connections`], or when that account
//! refuses, the loop stops accepting and leaves connections in the
//! kernel's backlog, which refuses the rest. Every connection gets TCP
//! keepalive, and one that waits for input longer than
//! [`Limits::idle_timeout_ns`] is closed, so idle or dead clients cannot
//! hold places for good. The appliance and the kv appliance serve
//! through it.
//!
//! A pass of the loop costs what is ready, not what is open: the kernel
//! queues a connection on the watch set when its socket has an event
//! (`kernel/net/src/socket/watch.rs`), so 10,000 idle connections cost
//! their memory and nothing else.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod buffer;
mod connection;
mod event_loop;
mod protocol;
mod table;

use alloc::sync::Arc;
use core::fmt;
use core::net::{Ipv6Addr, SocketAddrV6};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use kernel::Context;
use kernel::net::{Errno, Net, SocketOption, SocketType};

pub use buffer::{Buffer, Refused};
pub use protocol::{Io, Protocol, Want};

/// The memory account every service's loop and connections charge.
pub const ACCOUNT: &str = "serve";

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
    /// 100,000 connections (memory is the real bound), a backlog of 1,024,
    /// two minutes of silence.
    fn default() -> Self {
        Self {
            max_connections: 100_000,
            backlog: 1024,
            idle_timeout_ns: 120_000_000_000,
        }
    }
}

/// What a service's loop did with its connections.
#[derive(Debug, Default)]
pub struct Counters {
    /// Accepted.
    pub connections: AtomicU64,
    /// Open now.
    pub open: AtomicU64,
    /// Lost in `accept`: the kernel had no descriptor or memory for them
    /// and reset them.
    pub refused: AtomicU64,
    /// Times accepting stopped because memory or descriptors ran out.
    pub limited: AtomicU64,
    /// Closed after waiting for input longer than the idle timeout.
    pub timed_out: AtomicU64,
    /// Times a connection was parked: woken by a hang-up while its output
    /// could not move (the peer closed its side; our send buffer is full).
    pub parked: AtomicU64,
}

/// Why a service could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    /// A socket call failed.
    Socket(Errno),
    /// The loop's thread or buffers could not be had.
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

/// One service: its name (for its thread), port, limits and protocol.
#[derive(Debug)]
pub struct Service<P> {
    /// Names the loop's thread.
    pub name: &'static str,
    /// The TCP port on every address of both families.
    pub port: u16,
    /// What it may take.
    pub limits: Limits,
    /// What serves a connection.
    pub protocol: P,
}

/// Binds `service`'s port and starts its event loop; `counters` count
/// its connections (several services may share them).
///
/// # Errors
/// [`StartError`].
pub fn listen<P: Protocol>(
    context: &Context<'_>,
    net: &Arc<Net>,
    service: Service<P>,
    counters: Arc<Counters>,
) -> Result<(), StartError> {
    let listener = net.socket(context, SocketType::Stream)?;
    let bound = bind(context, net, listener, &service);
    if let Err(error) = bound {
        let _ = net.close(context, listener);
        return Err(error.into());
    }
    let account = context.kernel().memory().account(ACCOUNT);
    let Service {
        name,
        limits,
        protocol,
        ..
    } = service;
    let event_loop = event_loop::EventLoop::new(
        context,
        net.clone(),
        protocol,
        limits,
        counters,
        account,
        listener,
    );
    let Some(mut event_loop) = event_loop else {
        let _ = net.close(context, listener);
        return Err(StartError::Thread);
    };
    context
        .kernel()
        .arc()
        .spawn_detached(name, move |context| event_loop.run(context))
        .map(|_| ())
        .map_err(|_| StartError::Thread)
}

/// Makes `listener` a non-blocking listener on `service`'s port.
fn bind<P>(
    context: &Context<'_>,
    net: &Net,
    listener: kernel::net::Fd,
    service: &Service<P>,
) -> Result<(), Errno> {
    net.set_option(context, listener, SocketOption::ReuseAddress(true))?;
    net.set_option(context, listener, SocketOption::NonBlocking(true))?;
    // `::` without IPV6_V6ONLY: IPv6 and IPv4 (as IPv4-mapped) alike.
    let address = SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, service.port, 0, 0);
    net.bind(context, listener, address)?;
    net.listen(context, listener, service.limits.backlog)
}

impl Counters {
    /// Writes the counters as `services name value` lines.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_stats(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        let lines = [
            ("connections", &self.connections),
            ("connections_open", &self.open),
            ("refused", &self.refused),
            ("accept_paused", &self.limited),
            ("timed_out", &self.timed_out),
            ("parked", &self.parked),
        ];
        for (name, counter) in lines {
            writeln!(out, "services {name} {}", counter.load(Relaxed))?;
        }
        Ok(())
    }
}
