//! The accept loop and the registry of live clients.
//!
//! One kernel thread accepts connections and starts a thread per client
//! ([`crate::session`]); the registry keeps every live client's stream so
//! that stopping the server (or the kernel) ends them all, which in turn
//! ends their threads. Each client is charged [`SESSION_BYTES`] to the
//! `sysproxy` account from its accept to its end; a client past
//! [`Limits::max_clients`] or past the memory limit is refused in the
//! handshake.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use base::Context;
use base::component::ComponentError;
use base::memory::Account;
use base::sync::{Condvar, Mutex};
use log::{debug, warn};
use net::Net;
use sysproxy_proto::frame;
use sysproxy_proto::handshake::{Greeting, HandshakeRefusal};

use crate::Limits;
use crate::session::{SESSION_BYTES, Session};
use crate::transport::{Connection, Listener};
use crate::workers::Work;

/// What every client of one server shares.
pub struct ServerShared {
    /// The key clients must present.
    pub key: Option<Vec<u8>>,
    /// Each client's limits.
    pub limits: Limits,
    /// Where clients are charged.
    pub account: Account,
    /// Live clients' streams, by number.
    connections: spin::Mutex<BTreeMap<u64, Arc<dyn Connection>>>,
    next_number: AtomicU64,
    served: AtomicU64,
    /// Handshakes refused for a wrong or missing key.
    pub(crate) refused_keys: AtomicU64,
    /// Forks prepared and not yet claimed.
    pub(crate) forks: crate::forks::Forks,
    live: AtomicUsize,
}

impl ServerShared {
    /// Clients connected now.
    pub fn clients(&self) -> usize {
        self.live.load(Relaxed)
    }

    /// Clients accepted since the start.
    pub fn served(&self) -> u64 {
        self.served.load(Relaxed)
    }

    /// Forks prepared and not yet claimed by a child.
    pub fn forks_waiting(&self) -> usize {
        self.forks.waiting()
    }

    /// Handshakes refused for the key.
    pub fn refused_keys(&self) -> u64 {
        self.refused_keys.load(Relaxed)
    }

    fn close_all(&self) {
        for connection in self.connections.lock().values() {
            connection.close();
        }
    }
}

/// A running server.
pub struct Server {
    shared: Arc<ServerShared>,
    listener: Arc<dyn Listener>,
}

impl Server {
    /// Starts the accept thread.
    pub(crate) fn start(
        context: &Context<'_>,
        listener: Arc<dyn Listener>,
        key: Option<Vec<u8>>,
        limits: Limits,
    ) -> Result<Arc<Self>, ComponentError> {
        let net =
            Net::of(context).ok_or(ComponentError::Failed("sysproxy needs the net faction"))?;
        let kernel = context.kernel();
        let shared = Arc::new(ServerShared {
            key,
            limits,
            account: kernel.memory().account("sysproxy"),
            connections: spin::Mutex::new(BTreeMap::new()),
            next_number: AtomicU64::new(1),
            served: AtomicU64::new(0),
            refused_keys: AtomicU64::new(0),
            forks: crate::forks::Forks::default(),
            live: AtomicUsize::new(0),
        });
        let server = Arc::new(Self {
            shared: shared.clone(),
            listener: listener.clone(),
        });
        let stopper = server.clone();
        kernel.on_shutdown(alloc::boxed::Box::new(move || stopper.stop()));
        kernel
            .arc()
            .spawn_detached("sysproxy", move |context| {
                accept_loop(context, &shared, &*listener, &net)
            })
            .map_err(|_| ComponentError::NoThread)?;
        Ok(server)
    }

    /// What its clients share: counts, limits, account.
    pub fn shared(&self) -> &Arc<ServerShared> {
        &self.shared
    }

    /// Stops accepting and ends every client. Never blocks.
    pub fn stop(&self) {
        self.listener.close();
        self.shared.close_all();
    }
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("clients", &self.shared.clients())
            .finish()
    }
}

impl core::fmt::Debug for ServerShared {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerShared")
            .field("clients", &self.clients())
            .finish()
    }
}

fn accept_loop(
    context: &Context<'_>,
    shared: &Arc<ServerShared>,
    listener: &dyn Listener,
    net: &Arc<Net>,
) {
    loop {
        match listener.accept(context) {
            Ok(connection) => admit(context, shared, Arc::from(connection), net),
            Err(base::hypercall::StreamError::Closed) => return,
            Err(error) => {
                warn!("accept failed: {error}");
                if context.kernel().is_shutting_down() {
                    return;
                }
            }
        }
    }
}

/// Starts a client's thread, or refuses it when the server is full.
fn admit(
    context: &Context<'_>,
    shared: &Arc<ServerShared>,
    connection: Arc<dyn Connection>,
    net: &Arc<Net>,
) {
    let full = shared.live.load(Relaxed) >= shared.limits.max_clients;
    if full || shared.account.charge(SESSION_BYTES).is_err() {
        let refusal = Greeting::Refused(HandshakeRefusal::Busy);
        let _ = connection.send(context, &frame::encode::<_, ()>(&refusal, None));
        connection.close();
        return;
    }
    let number = shared.next_number.fetch_add(1, Relaxed);
    shared.live.fetch_add(1, Relaxed);
    shared.served.fetch_add(1, Relaxed);
    shared.connections.lock().insert(number, connection.clone());
    let kernel = context.kernel().arc();
    let process = kernel.new_process();
    process.limit_descriptors(shared.limits.max_descriptors);
    let session = Arc::new(Session {
        connection,
        net: net.clone(),
        process: process.clone(),
        work: Mutex::new(Work::default()),
        work_changed: Condvar::new(),
        limits: shared.limits,
        account: shared.account.clone(),
        number,
        server: shared.clone(),
    });
    let server = shared.clone();
    let name = format!("sysproxy{number}");
    let started = kernel.spawn_detached_in(&process, &name, move |context| {
        crate::session::serve(context, &server, session);
        leave(&server, number);
    });
    if started.is_err() {
        warn!("no thread for client {number}");
        if let Some(connection) = shared.connections.lock().get(&number) {
            connection.close();
        }
        leave(shared, number);
    }
}

/// Client `number` has ended: forget its stream, give back its charge.
fn leave(shared: &ServerShared, number: u64) {
    shared.connections.lock().remove(&number);
    shared.live.fetch_sub(1, Relaxed);
    shared.account.release(SESSION_BYTES);
    debug!("client {number} left");
}
