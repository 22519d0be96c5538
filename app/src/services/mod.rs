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
//! Every service listens on every address of both families (a dual-stack
//! `::`, so `curl -6` and `curl -4` reach the same loop). ICMP echo is
//! the stack's own. Each TCP service is a [`serve`] event
//! loop: one kernel thread per service, a small state machine per
//! connection, as many connections as memory holds (up to 100,000 per
//! service), TCP keepalive, and connections silent for two minutes
//! closed ([`serve::Limits`]'s defaults).

mod discard;
mod echo;
mod http;

mod source;
mod udp_echo;

use alloc::sync::Arc;
use core::sync::atomic::AtomicU64;

use kernel::Context;
use kernel::net::{Errno, Net};
use serve::{Counters, Limits, Protocol, Service};

pub use serve::StartError as ServeError;
pub use source::chargen_byte;

/// The limits every service runs with.
const LIMITS: Limits = Limits {
    max_connections: 100_000,
    backlog: 1024,
    idle_timeout_ns: 120_000_000_000,
};

/// What the services did, for `/stats`.
#[derive(Debug, Default)]
pub struct ServiceStats {
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
    /// Connections accepted and refused, all TCP services.
    counters: Arc<Counters>,
}

/// Why the services could not start.
#[derive(Debug, Clone, Copy)]
pub enum StartError {
    /// The kernel has no net faction.
    NoNetwork,
    /// A service could not start.
    Serve(ServeError),
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoNetwork => f.write_str("the kernel has no network"),
            Self::Serve(error) => write!(f, "{error}"),
        }
    }
}

impl From<ServeError> for StartError {
    fn from(error: ServeError) -> Self {
        Self::Serve(error)
    }
}

impl From<Errno> for StartError {
    fn from(errno: Errno) -> Self {
        Self::Serve(ServeError::Socket(errno))
    }
}

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
            counters: Arc::default(),
        });
        services.listen(context, "echo", 7, echo::Echo(services.clone()))?;
        let discard = discard::Discard(services.clone());
        services.listen(context, "discard", 9, discard)?;
        services.listen(context, "source", 19, source::Source(services.clone()))?;
        services.listen(
            context,
            "http",
            80,
            http::Http::new(context, services.clone()),
        )?;
        udp_echo::start(context, &services)?;
        Ok(services)
    }

    /// The services' own counters.
    pub fn stats(&self) -> &ServiceStats {
        &self.stats
    }

    /// Connections accepted and refused.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The net faction the services use.
    pub fn net(&self) -> &Arc<Net> {
        &self.net
    }

    fn listen(
        &self,
        context: &Context<'_>,
        name: &'static str,
        port: u16,
        protocol: impl Protocol,
    ) -> Result<(), StartError> {
        let service = Service {
            name,
            port,
            limits: LIMITS,
            protocol,
        };
        serve::listen(context, &self.net, service, self.counters.clone())?;
        Ok(())
    }
}
