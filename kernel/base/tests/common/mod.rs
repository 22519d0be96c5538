//! Boots hosted kernels (the real base on hypercall-posix) for tests.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::Arc;

use base::component::Component;
use base::{BootConfig, Kernel};
use hypercall_posix::{ConsoleCapture, ConsoleSink, ExitMode, Posix, PosixConfig};

/// How long any test waits for a condition before failing.
pub const DEADLINE_NS: u64 = 10_000_000_000;

/// A booted kernel whose console is captured.
pub struct TestKernel {
    pub kernel: Arc<Kernel>,
    pub console: ConsoleCapture,
}

impl Drop for TestKernel {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// Boots a kernel with `params` and `components`.
pub fn boot_with(params: &str, components: &[&'static Component]) -> TestKernel {
    try_boot(params, components).expect("the kernel boots")
}

/// Boots a kernel with `params` and no components.
pub fn boot(params: &str) -> TestKernel {
    boot_with(params, &[])
}

/// Boots, returning the boot error instead of panicking.
pub fn try_boot(
    params: &str,
    components: &[&'static Component],
) -> Result<TestKernel, base::BootError> {
    let console = ConsoleCapture::new();
    let host = Posix::new(PosixConfig {
        boot_parameters: params.to_owned(),
        console: ConsoleSink::Capture(console.clone()),
        exit: ExitMode::Unwind,
        ..PosixConfig::default()
    });
    let kernel = Kernel::boot(host, BootConfig { components })?;
    Ok(TestKernel { kernel, console })
}
