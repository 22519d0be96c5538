//! Boots hosted kernels with the vfs and tmpfs at the root, for tests.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::Arc;

use base::{BootConfig, Kernel};
use hypercall_posix::{ConsoleCapture, ConsoleSink, ExitMode, Posix, PosixConfig};

/// A booted kernel that shuts down when dropped.
pub struct TestKernel {
    pub kernel: Arc<Kernel>,
    pub console: ConsoleCapture,
}

impl Drop for TestKernel {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// Boots with `params`, the vfs and tmpfs, on a host of `memory` bytes.
pub fn boot_with_memory(params: &str, memory: usize) -> TestKernel {
    let console = ConsoleCapture::new();
    let host = Posix::new(PosixConfig {
        boot_parameters: params.to_owned(),
        console: ConsoleSink::Capture(console.clone()),
        exit: ExitMode::Unwind,
        memory_limit: memory,
        ..PosixConfig::default()
    });
    let components = [&vfs::VFS, &tmpfs::TMPFS];
    let kernel = Kernel::boot(
        host,
        BootConfig {
            components: &components,
        },
    )
    .expect("the kernel boots");
    TestKernel { kernel, console }
}

/// Boots with `params`, the vfs and tmpfs, on a 256 MiB host.
pub fn boot(params: &str) -> TestKernel {
    boot_with_memory(params, 256 << 20)
}
