//! The appliance image: on bare metal through `hypercall-bm`, hosted on
//! Linux through `hypercall-posix`. The same application runs on both.
//!
//! Hosted, SIGTERM and SIGINT stop it in order (file systems unmounted
//! clean, disks written back and closed; see [`app::appliance`]) and the
//! process exits with 0, as `rump_server` does.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
entry::main!(app::appliance::run);

#[cfg(not(target_os = "none"))]
fn main() {
    use hypercall_posix::{Posix, PosixConfig};
    use kernel::hypercall::Exit;

    let host = Posix::new(PosixConfig::from_process());
    let status = app::appliance::run_until(host.clone(), stop_on_signals());
    host.exit(status)
}

/// A stop request that returns at the first SIGTERM or SIGINT (caught
/// from now on), or none if they cannot be caught. A second one ends the
/// process at once (status 1), should the orderly stop hang.
#[cfg(not(target_os = "none"))]
fn stop_on_signals() -> Option<app::appliance::StopRequest> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::{flag, iterator::Signals};

    let stopping = Arc::new(AtomicBool::new(false));
    let caught = [SIGTERM, SIGINT].iter().try_for_each(|&signal| {
        flag::register_conditional_shutdown(signal, 1, stopping.clone()).map(drop)
    });
    match caught.and_then(|()| Signals::new([SIGTERM, SIGINT])) {
        Ok(mut signals) => Some(Box::new(move || {
            signals.forever().next();
            stopping.store(true, Ordering::SeqCst);
        })),
        Err(error) => {
            eprintln!("anykernel: signals cannot be caught ({error}): no orderly stop");
            None
        }
    }
}
