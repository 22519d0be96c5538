//! The appliance: boots the kernel, mounts the files baked into its image,
//! starts the network services, says it is ready, then serves until the
//! machine is stopped.
//!
//! The same application runs on bare metal (`hypercall-bm`) and hosted
//! (`hypercall-posix`); only the interfaces differ (virtio NICs or the
//! host's virtual NICs). With `sysproxy=console` it serves remote clients
//! on its virtio consoles ([`crate::remote`]). Once a minute it logs what
//! it has done.

use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::hypercall::ExitStatus;

use crate::services::Services;
use crate::{Host, say};

/// Time between the appliance's log lines.
const REPORT_NS: u64 = 60_000_000_000;

/// Boots and runs the appliance; returns only if the boot fails.
pub fn run(host: Host) -> ExitStatus {
    let kernel = match kernel::boot(host.clone()) {
        Ok(kernel) => kernel,
        Err(error) => {
            say(&*host, format_args!("anykernel: boot failed: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    let binding = match kernel.bind_thread() {
        Ok(binding) => binding,
        Err(error) => {
            say(&*host, format_args!("anykernel: {error}"));
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
            say(&*host, format_args!("anykernel: services failed: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    crate::remote::serve(&context);
    let ready_us = host.clock_monotonic_ns() / 1_000;
    say(&*host, format_args!("anykernel: ready in {ready_us} us"));
    serve_until_stopped(&context, &services)
}

fn serve_until_stopped(context: &Context<'_>, services: &Services) -> ! {
    let kernel = context.kernel();
    loop {
        context.sleep_until(context.now_ns().saturating_add(REPORT_NS));
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
