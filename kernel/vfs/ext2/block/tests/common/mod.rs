//! Hosted kernels with the block layer and disks on ext2 images made by
//! Linux's mke2fs; the ext2 crate's own test helpers make and judge them.

#![allow(dead_code, reason = "each test file uses part of this module")]

// Images from mke2fs, e2fsck and debugfs as judges, and the trees the
// ext2 crate's read tests compare: the same helpers, not a copy.
#[path = "../../../tests/common/mod.rs"]
pub mod images;

use std::sync::Arc;

use base::component::Component;
use base::memory::pagedaemon::PAGEDAEMON;
use base::{BootConfig, Kernel};
use hypercall_posix::block::DiskSpec;
use hypercall_posix::{ConsoleCapture, ConsoleSink, ExitMode, Posix, PosixConfig};

/// A booted kernel whose console is captured; shut down when dropped.
pub struct TestKernel {
    pub kernel: Arc<Kernel>,
    pub console: ConsoleCapture,
}

impl Drop for TestKernel {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// Boots a kernel with the pagedaemon and the block layer, the boot
/// parameters `params` and the disks `specs` (`PATH[,ro][,fail=A-B]`).
pub fn boot(params: &str, specs: &[String]) -> TestKernel {
    boot_with(params, specs, &[&PAGEDAEMON, &block::BLOCK])
}

/// As [`boot`], with the vfs and tmpfs at the root as well.
pub fn boot_vfs(params: &str, specs: &[String]) -> TestKernel {
    let components = [&PAGEDAEMON, &block::BLOCK, &vfs::VFS, &tmpfs::TMPFS];
    boot_with(params, specs, &components)
}

/// Boots a kernel with `components`, `params` and the disks `specs`.
pub fn boot_with(params: &str, specs: &[String], components: &[&'static Component]) -> TestKernel {
    let console = ConsoleCapture::new();
    let disks: Vec<DiskSpec> = specs
        .iter()
        .map(|spec| spec.parse().expect("a disk spec"))
        .collect();
    let host = Posix::new(PosixConfig {
        boot_parameters: params.to_owned(),
        console: ConsoleSink::Capture(console.clone()),
        exit: ExitMode::Unwind,
        disks,
        ..PosixConfig::default()
    });
    let config = BootConfig { components };
    let kernel = Kernel::boot(host, config).expect("the kernel boots");
    TestKernel { kernel, console }
}

/// The file system blocks debugfs says `path` of `image` holds.
pub fn blocks_of(image: &std::path::Path, path: &str) -> Vec<u64> {
    let listing = images::debugfs(image, &format!("blocks {path}"));
    let blocks: Vec<u64> = listing
        .split_whitespace()
        .map(|word| word.parse().expect("a block number"))
        .collect();
    assert!(!blocks.is_empty(), "debugfs lists no blocks of {path}");
    blocks
}
