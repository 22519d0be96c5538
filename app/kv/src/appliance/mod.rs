//! The kv appliance: boots the kernel, opens the store, serves the
//! memcached text protocol on TCP port 11211 until the machine stops.
//!
//! Boot parameters: `kv.memory=SIZE` (the store's memory limit, memcached's
//! `-m`; default half the kernel's memory limit, at most 64 MiB, so the
//! kernel keeps room for connections and buffers), `kv.item_size=SIZE`
//! (the largest value, `-I`; default 1 MiB), and every kernel parameter
//! (`ip=`, `mem=`, `log=`…). The store's hash is keyed from the kernel's
//! random source, so clients cannot aim their keys at one bucket. Each
//! connection is a [`kv::Session`] driven by the service's event loop
//! ([`serve`]), all sharing one store behind a kernel mutex.

mod connection;

use alloc::format;
use alloc::sync::Arc;

use entry::{ExitStatus, Host};
use kernel::base::sync::Mutex;
use kernel::net::Net;
use kernel::{Context, Kernel};
use kv::{Clock, Config, Store};
use serve::{Counters, Limits, Service};

/// The memcached port.
pub const PORT: u16 = 11211;
/// The store's memory limit when `kv.memory=` does not say.
const DEFAULT_MEMORY: usize = 64 << 20;

/// What every connection shares.
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
}

/// Boots and serves; returns only if the boot or the service fails.
pub fn run(host: Host) -> ExitStatus {
    let kernel = match kernel::boot(host.clone()) {
        Ok(kernel) => kernel,
        Err(error) => return fail(&host, &format!("boot failed: {error}")),
    };
    let binding = match kernel.bind_thread() {
        Ok(binding) => binding,
        Err(error) => return fail(&host, &format!("{error}")),
    };
    let context = binding.enter();
    if let Err(reason) = start(&context, &kernel) {
        return fail(&host, &reason);
    }
    let ready_us = host.clock_monotonic_ns() / 1_000;
    say(
        &host,
        &format!("anykernel: ready in {ready_us} us (kv on port {PORT})"),
    );
    loop {
        context.sleep_until(u64::MAX);
    }
}

/// Opens the store and starts the service.
fn start(context: &Context<'_>, kernel: &Arc<Kernel>) -> Result<(), alloc::string::String> {
    let net = Net::of(context).ok_or("the kernel has no network")?;
    let config = config(kernel)?;
    let mut seed = [0u8; 16];
    kernel
        .hypercalls()
        .random_fill(&mut seed)
        .map_err(|error| format!("no random seed for the store: {error}"))?;
    let store = Store::new(config, seed, clock(context));
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
    });
    let service = Service {
        name: "kv",
        port: PORT,
        limits: Limits::default(),
        protocol: connection::Memcached(shared),
    };
    serve::listen(context, &net, service, Arc::new(Counters::default()))
        .map_err(|error| format!("port {PORT}: {error}"))
}

/// The store's limits from the boot parameters.
fn config(kernel: &Kernel) -> Result<Config, alloc::string::String> {
    let params = kernel.params();
    let size = |key: &str| params.get_size(key).map_err(|error| format!("{error}"));
    let half = kernel.memory().stats().limit / 2;
    let defaults = Config::default();
    Ok(Config {
        memory_limit: size("kv.memory")?.unwrap_or(half.min(DEFAULT_MEMORY)),
        item_size_limit: size("kv.item_size")?.unwrap_or(defaults.item_size_limit),
    })
}

/// Now, on both of the store's clocks.
pub(crate) fn clock(context: &Context<'_>) -> Clock {
    Clock::new(context.now_ns(), context.time_of_day_ns())
}

fn say(host: &Host, line: &str) {
    host.console_write(format!("{line}\n").as_bytes());
}

fn fail(host: &Host, reason: &str) -> ExitStatus {
    say(host, &format!("anykernel: kv: {reason}"));
    ExitStatus::Failure(1)
}
