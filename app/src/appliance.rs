//! The appliance: boots the kernel, mounts the files baked into its image,
//! starts the network services, says it is ready, then serves until the
//! machine is stopped, or until its host asks it to stop.
//!
//! The same application runs on bare metal (`hypercall-bm`) and hosted
//! (`hypercall-posix`); only the interfaces differ (virtio NICs or the
//! host's virtual NICs). With `sysproxy=console` it serves remote clients
//! on its virtio consoles ([`crate::remote`]). Once a minute it logs what
//! it has done.
//!
//! A stop request ([`StopRequest`]) ends it in order: the kernel shuts
//! down, which unmounts every file system (written back, marked clean)
//! and writes back and closes the disks, and the image exits with
//! success. Hosted, SIGTERM or SIGINT request it (as `rump_server` takes
//! them; `main.rs`); on bare metal the host's stop requests do (the ACPI
//! power button, QEMU's `system_powerdown`: [`run`]), and the machine
//! then powers off. A host without either serves until its machine is
//! stopped, and a disk it wrote needs `e2fsck -p` then.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::Ordering::Relaxed;

use kernel::base::sync::{Condvar, Mutex};
use kernel::hypercall::{ExitStatus, WaitResult};
use kernel::{Context, Kernel};

use crate::services::Services;
use crate::{Host, say};

/// Time between the appliance's log lines.
const REPORT_NS: u64 = 60_000_000_000;

/// How the host asks the appliance to stop: a call that returns, outside
/// the kernel (blocking as long as it likes), when the appliance is to
/// stop.
pub type StopRequest = Box<dyn FnOnce() + Send>;

/// Boots and runs the appliance until the host's own stop requests say
/// stop (the power button on bare metal), or for ever on a host without
/// them (then it returns only if the boot fails).
pub fn run(host: Host) -> ExitStatus {
    let stop = host_stop_request(&host);
    run_until(host, stop)
}

/// A stop request that returns when the host's [`StopRequests`] say
/// stop, if the host has them.
///
/// [`StopRequests`]: kernel::hypercall::StopRequests
fn host_stop_request(host: &Host) -> Option<StopRequest> {
    host.stop_requests()?;
    let host = host.clone();
    Some(Box::new(move || {
        if let Some(requests) = host.stop_requests() {
            requests.wait_for_stop();
        }
    }))
}

/// Boots and runs the appliance until `stop` returns, then shuts the
/// kernel down in order; the status to exit with.
pub fn run_until(host: Host, stop: Option<StopRequest>) -> ExitStatus {
    let kernel = match kernel::boot(host.clone()) {
        Ok(kernel) => kernel,
        Err(error) => {
            say(&*host, format_args!("anykernel: boot failed: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    let status = serve(&kernel, &host, stop);
    kernel.shutdown();
    say(&*host, format_args!("anykernel: stopped"));
    status
}

/// Mounts, starts the services and serves until stopped, in a context of
/// this thread (gone when it returns, before the shutdown).
fn serve(kernel: &Arc<Kernel>, host: &Host, stop: Option<StopRequest>) -> ExitStatus {
    let binding = match kernel.bind_thread() {
        Ok(binding) => binding,
        Err(error) => {
            say(&**host, format_args!("anykernel: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    let context = binding.enter();
    match crate::files::mount(&context) {
        Ok(site) => log::info!("files: {site}"),
        Err(error) => log::warn!("files: not mounted: {error}"),
    }
    let services = match Services::start(&context) {
        Ok(services) => services,
        Err(error) => {
            say(&**host, format_args!("anykernel: services failed: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    crate::remote::serve(&context);
    let stopping = Arc::new(Stopping::new());
    if let Some(stop) = stop {
        watch(&context, stop, stopping.clone());
    }
    let ready_us = host.clock_monotonic_ns() / 1_000;
    say(&**host, format_args!("anykernel: ready in {ready_us} us"));
    serve_until_stopped(&context, &services, &stopping);
    say(&**host, format_args!("anykernel: stopping"));
    ExitStatus::Success
}

/// Whether a stop was asked for, and the wait for it.
#[derive(Debug)]
struct Stopping {
    requested: Mutex<bool>,
    changed: Condvar,
}

impl Stopping {
    fn new() -> Self {
        Self {
            requested: Mutex::new(false),
            changed: Condvar::new(),
        }
    }

    fn request(&self, context: &Context<'_>) {
        *self.requested.lock(context) = true;
        self.changed.notify_all(context);
    }

    /// Waits until a stop is asked for (true) or `deadline_ns` (false).
    fn wait_until(&self, context: &Context<'_>, deadline_ns: u64) -> bool {
        let mut requested = self.requested.lock(context);
        while !*requested {
            let (guard, result) = self.changed.wait_until(requested, deadline_ns);
            requested = guard;
            if result == WaitResult::TimedOut {
                break;
            }
        }
        *requested
    }
}

/// A kernel thread that waits for `stop` outside the kernel, then says so.
fn watch(context: &Context<'_>, stop: StopRequest, stopping: Arc<Stopping>) {
    let spawned = context
        .kernel()
        .arc()
        .spawn_detached("stop", move |context| {
            context.block_on_host(stop);
            stopping.request(context);
        });
    if let Err(error) = spawned {
        log::warn!("no stop thread ({error}): the appliance stops only with its machine");
    }
}

fn serve_until_stopped(context: &Context<'_>, services: &Services, stopping: &Stopping) {
    let kernel = context.kernel();
    loop {
        if stopping.wait_until(context, context.now_ns().saturating_add(REPORT_NS)) {
            return;
        }
        let stats = services.stats();
        let memory = kernel.memory().stats();
        log::info!(
            "alive: uptime {} s, {} connections, {} HTTP requests, {} KiB pages in use",
            kernel.uptime_ns() / 1_000_000_000,
            services.counters().connections.load(Relaxed),
            stats.http_requests.load(Relaxed),
            memory.in_use / 1024
        );
    }
}
