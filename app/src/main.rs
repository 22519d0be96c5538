//! The appliance image: on bare metal through `hypercall-bm`, hosted on
//! Linux through `hypercall-posix`. The same application runs on both.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod bare_metal {
    use alloc::sync::Arc;

    use hypercall_bm::BareMetal;
    use kernel::hypercall::ExitStatus;

    extern crate alloc;

    hypercall_bm::entry_point!(main);

    fn main(host: Arc<BareMetal>) -> ExitStatus {
        app::appliance::run(host)
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    use kernel::hypercall::Exit;

    let host = hypercall_posix::Posix::new(hypercall_posix::PosixConfig::from_process());
    let status = app::appliance::run(host.clone());
    host.exit(status)
}
