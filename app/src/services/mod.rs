//! The appliance's network services, the same on every host.
//!
//! | port | service |
//! | --- | --- |
//! | TCP 7 | echo: every byte back, until the peer closes |
//! | TCP 9 | discard: reads and counts |
//! | TCP 19 | source: the chargen pattern (RFC 864) until the peer closes |
//! | UDP 7 | echo: every datagram back to its sender |
//! | TCP 80 | HTTP/1.1 with keep-alive: `/` and `/stats` |
//!
//! ICMP echo is the stack's own. Each TCP service is an acceptor thread
//! that starts one kernel thread per connection, up to
//! [`MAX_CONNECTIONS`] at once per service; past that a new connection is
//! closed at once, so a flood cannot exhaust memory. A connection that
//! sends nothing for [`IDLE_TIMEOUT_NS`] is closed, and TCP keepalive
//! finds peers that vanished, so idle or dead clients cannot hold the
//! places for good.

mod discard;
mod echo;
mod http;
mod http_date;
mod source;
mod udp_echo;

use alloc::sync::Arc;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use kernel::Context;
use kernel::net::{Errno, Fd, Net, PollEvents, PollFd, SocketOption, SocketType};

pub use source::chargen_byte;

/// Connections served at once per service, at most.
pub const MAX_CONNECTIONS: usize = 512;
/// Listen backlog of every service.
const BACKLOG: usize = 128;
/// How long a connection may stay silent before the service closes it.
pub const IDLE_TIMEOUT_NS: u64 = 120_000_000_000;

/// What the services did, for `/stats`.
#[derive(Debug, Default)]
pub struct ServiceStats {
    /// Connections accepted, all services.
    pub connections: AtomicU64,
    /// Connections refused because a service was at its limit.
    pub refused: AtomicU64,
    /// Bytes echoed (TCP and UDP).
    pub echoed_bytes: AtomicU64,
    /// Bytes read and dropped by discard.
    pub discarded_bytes: AtomicU64,
    /// Bytes sent by source.
    pub source_bytes: AtomicU64,
    /// HTTP requests answered.
    pub http_requests: AtomicU64,
}

/// The running services.
#[derive(Debug)]
pub struct Services {
    net: Arc<Net>,
    stats: ServiceStats,
}

/// Why the services could not start.
#[derive(Debug, Clone, Copy)]
pub enum StartError {
    /// The kernel has no net faction.
    NoNetwork,
    /// A socket call failed.
    Socket(Errno),
    /// A thread could not be started.
    Thread,
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoNetwork => f.write_str("the kernel has no network"),
            Self::Socket(errno) => write!(f, "{errno}"),
            Self::Thread => f.write_str("no thread for a service"),
        }
    }
}

impl From<Errno> for StartError {
    fn from(errno: Errno) -> Self {
        Self::Socket(errno)
    }
}

/// What a connection handler runs.
type Handler = fn(&Context<'_>, &Services, Fd);

impl Services {
    /// Binds every service and starts its threads.
    ///
    /// # Errors
    /// [`StartError`].
    pub fn start(context: &Context<'_>) -> Result<Arc<Self>, StartError> {
        let net = Net::of(context).ok_or(StartError::NoNetwork)?;
        let services = Arc::new(Self {
            net,
            stats: ServiceStats::default(),
        });
        services.listen(context, "echo", 7, echo::serve)?;
        services.listen(context, "discard", 9, discard::serve)?;
        services.listen(context, "source", 19, source::serve)?;
        services.listen(context, "http", 80, http::serve)?;
        udp_echo::start(context, &services)?;
        Ok(services)
    }

    /// The counters.
    pub fn stats(&self) -> &ServiceStats {
        &self.stats
    }

    /// The net faction the services use.
    pub fn net(&self) -> &Arc<Net> {
        &self.net
    }

    fn listen(
        self: &Arc<Self>,
        context: &Context<'_>,
        name: &'static str,
        port: u16,
        handler: Handler,
    ) -> Result<(), StartError> {
        let net = &self.net;
        let listener = net.socket(context, SocketType::Stream)?;
        net.set_option(context, listener, SocketOption::ReuseAddress(true))?;
        net.bind(
            context,
            listener,
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port),
        )?;
        net.listen(context, listener, BACKLOG)?;
        let services = self.clone();
        context
            .kernel()
            .arc()
            .spawn_detached(name, move |context| {
                services.accept_loop(context, name, listener, handler);
            })
            .map_err(|_| StartError::Thread)?;
        Ok(())
    }

    fn accept_loop(
        self: Arc<Self>,
        context: &Context<'_>,
        name: &'static str,
        listener: Fd,
        handler: Handler,
    ) {
        let active = Arc::new(AtomicUsize::new(0));
        loop {
            let connection = match self.net.accept(context, listener) {
                Ok((connection, _peer)) => connection,
                Err(Errno::BadDescriptor | Errno::InvalidArgument) => return,
                Err(_) => continue, // A connection that failed; the next one waits.
            };
            self.stats.connections.fetch_add(1, Relaxed);
            if active.load(Relaxed) >= MAX_CONNECTIONS {
                self.stats.refused.fetch_add(1, Relaxed);
                let _ = self.net.close(context, connection);
                continue;
            }
            let _ = self
                .net
                .set_option(context, connection, SocketOption::KeepAlive(true));
            active.fetch_add(1, Relaxed);
            let services = self.clone();
            let count = active.clone();
            let started = context.kernel().arc().spawn_detached(name, move |context| {
                handler(context, &services, connection);
                let _ = services.net.close(context, connection);
                count.fetch_sub(1, Relaxed);
            });
            if started.is_err() {
                active.fetch_sub(1, Relaxed);
                self.stats.refused.fetch_add(1, Relaxed);
                let _ = self.net.close(context, connection);
            }
        }
    }
}

/// Reads from `connection`, giving up (as `Ok(0)`, end of stream) when it
/// has been silent for [`IDLE_TIMEOUT_NS`].
///
/// # Errors
/// The read's error.
pub(crate) fn read_or_idle(
    context: &Context<'_>,
    net: &Net,
    connection: Fd,
    buffer: &mut [u8],
) -> Result<usize, Errno> {
    let mut poll = [PollFd::new(connection, PollEvents::READABLE)];
    if net.poll(context, &mut poll, Some(IDLE_TIMEOUT_NS))? == 0 {
        return Ok(0);
    }
    net.read(context, connection, buffer)
}
