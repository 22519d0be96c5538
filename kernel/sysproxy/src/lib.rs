//! The sysproxy component: the kernel's system calls served to remote
//! clients over byte streams (the rump papers' `rump_server`).
//!
//! A client connects (a Unix socket of the host when hosted), says hello
//! with the protocol's version and, when the server has one, its key
//! (`sysproxy.key=` among the boot parameters); then it makes calls from
//! the one call table of `kernel-sysproxy-proto`: sockets, interfaces,
//! routes, neighbours, statistics. Each client is served by a kernel
//! thread of its own, with workers for its blocking calls, so a client
//! waiting in `accept` holds up nobody; each is a process context of its
//! own (the seeds' lwproc: its descriptor table, bounded by its limits),
//! and when it goes, for whatever reason, every socket it
//! opened is closed and every byte it was charged is given back.
//!
//! | module | what |
//! | --- | --- |
//! | [`transport`] | the byte-stream traits the server speaks over; the host's streams |
//! | `server` | the accept loop, the clients' registry, shutdown |
//! | `session` | one client: handshake, frames, its end |
//! | `workers` | a client's threads for blocking calls, and its limits |
//! | `handler`, `sockets`, `admin` | the call table on the net faction |
//! | `convert` | kernel types to the wire's |
//!
//! At the `KernVfs` level, last, the component opens every stream
//! endpoint the host offers ([`base::hypercall::StreamEndpoints`]);
//! without any it does nothing. [`serve`] starts a server on any other
//! [`transport::Listener`] (a device, a test's).

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod admin;
mod convert;
mod files;
mod forks;
mod handler;
mod server;
mod session;
mod sockets;
pub mod transport;
mod workers;

use alloc::sync::Arc;
use alloc::vec::Vec;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use base::hypercall::StreamError;
use log::{info, warn};

pub use server::{Server, ServerShared};
pub use session::SESSION_BYTES;

/// The component.
pub static SYSPROXY: Component = Component {
    name: "sysproxy",
    // Last: it serves the calls of every faction the image links.
    level: InitLevel::KernVfs,
    requires: &["net"],
    init: start,
};

/// Endpoints probed at most.
const MAX_UNITS: u32 = 4;

/// What one client may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Calls queued or running in workers (quick calls run at once).
    pub max_in_flight: usize,
    /// Bytes of those calls' requests.
    pub max_bytes: usize,
    /// Open descriptors.
    pub max_descriptors: usize,
    /// Clients at once, server-wide.
    pub max_clients: usize,
}

impl Default for Limits {
    /// 16 calls in flight holding at most 1 MiB, 256 descriptors, 64
    /// clients: a client's worst case is 16 worker stacks (1 MiB) and 1
    /// MiB of requests.
    fn default() -> Self {
        Self {
            max_in_flight: 16,
            max_bytes: 1024 * 1024,
            max_descriptors: 256,
            max_clients: 64,
        }
    }
}

impl Limits {
    /// As the handshake tells them to a client.
    pub fn wire(&self) -> sysproxy_proto::handshake::Limits {
        let narrow = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
        sysproxy_proto::handshake::Limits {
            version: sysproxy_proto::handshake::VERSION,
            max_frame: narrow(sysproxy_proto::MAX_FRAME),
            max_in_flight: narrow(self.max_in_flight),
            max_bytes: narrow(self.max_bytes),
            max_descriptors: narrow(self.max_descriptors),
        }
    }
}

/// The key clients must present, from the boot parameter `sysproxy.key`.
pub fn boot_key(context: &Context<'_>) -> Option<Vec<u8>> {
    let params = context.kernel().params();
    params
        .get("sysproxy.key")
        .map(|key| key.as_bytes().to_vec())
}

/// Starts a server on every stream endpoint of the host.
fn start(context: &Context<'_>) -> Result<(), ComponentError> {
    let Some(endpoints) = context.kernel().hypercalls().stream_endpoints() else {
        return Ok(());
    };
    for unit in 0..MAX_UNITS {
        match endpoints.stream_listen(unit) {
            Ok(listener) => {
                let listener = Arc::new(transport::HostListener(listener));
                serve(context, listener, boot_key(context), Limits::default())?;
                info!("serving remote clients on stream endpoint {unit}");
            }
            Err(StreamError::NoDevice) => break,
            Err(error) => warn!("endpoint {unit} not served: {error}"),
        }
    }
    Ok(())
}

/// Serves clients from `listener` on a thread of its own until the
/// kernel shuts down (or [`Server::stop`]).
///
/// # Errors
/// [`ComponentError::NoThread`] when the accept thread cannot start;
/// [`ComponentError::Failed`] without the net faction.
pub fn serve(
    context: &Context<'_>,
    listener: Arc<dyn transport::Listener>,
    key: Option<Vec<u8>>,
    limits: Limits,
) -> Result<Arc<Server>, ComponentError> {
    Server::start(context, listener, key, limits)
}
