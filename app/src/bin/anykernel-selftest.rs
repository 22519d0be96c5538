//! The test image: runs the in-guest case named by the boot parameter
//! `test=` and exits with its verdict.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod bare_metal {
    use alloc::sync::Arc;

    use hypercall_bm::BareMetal;
    use kernel::hypercall::ExitStatus;

    extern crate alloc;

    hypercall_bm::entry_point!(main);

    struct Machine;

    impl app::Machine for Machine {
        fn fail_on_purpose(&self, how: &str) {
            hypercall_bm::probes::fail_on_purpose(how);
        }

        fn interrupt_preserves_registers(&self) -> Option<bool> {
            Some(hypercall_bm::probes::interrupt_preserves_registers())
        }

        fn context_switch_cycles(&self) -> Option<u64> {
            hypercall_bm::probes::context_switch_cycles(10_000)
        }
    }

    fn main(host: Arc<BareMetal>) -> ExitStatus {
        app::selftest::run(host, &Machine)
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    use kernel::hypercall::Exit;

    let host = hypercall_posix::Posix::new(hypercall_posix::PosixConfig::from_process());
    let status = app::selftest::run(host.clone(), &app::NoMachine);
    host.exit(status)
}
