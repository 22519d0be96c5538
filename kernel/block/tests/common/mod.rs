//! Hosted kernels with the block layer and disks on temporary files.

#![allow(dead_code, reason = "each test file uses a different subset")]

pub mod fake;

use std::path::PathBuf;
use std::sync::Arc;

use base::component::Component;
use base::memory::pagedaemon::PAGEDAEMON;
use base::{BootConfig, Kernel};
use hypercall_posix::block::DiskSpec;
use hypercall_posix::{ConsoleCapture, ConsoleSink, ExitMode, Posix, PosixConfig};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

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

/// Boots a kernel with the pagedaemon and the block layer, `params` and
/// the disks `specs` (`PATH[,options]`).
pub fn boot(params: &str, specs: &[String]) -> TestKernel {
    boot_with(params, specs, &[&PAGEDAEMON, &block::BLOCK])
}

/// Boots a kernel with `components`, `params` and the disks `specs`.
pub fn boot_with(params: &str, specs: &[String], components: &[&'static Component]) -> TestKernel {
    let console = ConsoleCapture::new();
    let disks: Vec<DiskSpec> = specs
        .iter()
        .map(|spec| spec.parse().expect("a spec"))
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

/// A disk image in the temporary directory, removed when dropped.
pub struct Image {
    pub path: PathBuf,
}

impl Image {
    /// `length` bytes of a pattern seeded with `seed`.
    pub fn random(name: &str, length: usize, seed: u64) -> Self {
        Self::with(name, &random_bytes(length, seed))
    }

    /// An image holding `bytes`.
    pub fn with(name: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!("anykernel-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).expect("write the image");
        Self { path }
    }

    /// The spec of this image with `options` (e.g. `",ro"`).
    pub fn spec(&self, options: &str) -> String {
        format!("{}{options}", self.path.display())
    }

    /// What the image holds now.
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read the image")
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `length` bytes from the seeded generator.
pub fn random_bytes(length: usize, seed: u64) -> Vec<u8> {
    let mut generator = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut bytes = vec![0; length];
    generator.fill_bytes(&mut bytes);
    bytes
}

/// The bytes the kernel's memory account `name` holds.
pub fn account_bytes(kernel: &Kernel, name: &str) -> usize {
    let accounts = kernel.memory().accounts();
    let account = accounts.iter().find(|account| account.name == name);
    account.map_or(0, |account| account.bytes)
}

/// Fails naming `what` and the first difference when the bytes differ
/// (without printing them all).
#[track_caller]
pub fn assert_same(actual: &[u8], expected: &[u8], what: &str) {
    if actual != expected {
        let at = actual.iter().zip(expected).position(|(a, b)| a != b);
        panic!(
            "{what}: {} bytes against {} expected, first difference at {at:?}",
            actual.len(),
            expected.len()
        );
    }
}
