//! Boots hosted kernels (the real base on hypercall-posix) for tests.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::Arc;

use base::component::Component;
use base::sync::{Condvar, Mutex};
use base::{BootConfig, Context, Kernel};
use hypercall::WaitResult;
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
    try_boot_speaking(params, components, hypercall_posix::SPEAKS)
}

/// Boots on a host that claims to speak interface version `speaks`.
pub fn try_boot_speaking(
    params: &str,
    components: &[&'static Component],
    speaks: hypercall::Version,
) -> Result<TestKernel, base::BootError> {
    let console = ConsoleCapture::new();
    let host = Posix::new(PosixConfig {
        boot_parameters: params.to_owned(),
        console: ConsoleSink::Capture(console.clone()),
        exit: ExitMode::Unwind,
        speaks,
        ..PosixConfig::default()
    });
    let kernel = Kernel::boot(host, BootConfig { components })?;
    Ok(TestKernel { kernel, console })
}

/// A value and a condvar announcing its changes.
pub type Shared<T> = Arc<(Mutex<T>, Condvar)>;

/// A fresh [`Shared`] holding `value`.
pub fn shared<T>(value: T) -> Shared<T> {
    Arc::new((Mutex::new(value), Condvar::new()))
}

/// Waits until `ready` holds for the value of `shared`, failing (with the
/// value) if nobody notifies a change within [`DEADLINE_NS`].
pub fn wait_for<T: std::fmt::Debug>(
    context: &Context<'_>,
    shared: &(Mutex<T>, Condvar),
    mut ready: impl FnMut(&T) -> bool,
) {
    let deadline = context.now_ns() + DEADLINE_NS;
    let mut guard = shared.0.lock(context);
    while !ready(&guard) {
        let (next, result) = shared.1.wait_until(guard, deadline);
        assert_eq!(result, WaitResult::Woken, "still {:?}", *next);
        guard = next;
    }
}

/// Polls `done`, with the CPU released between tries, until it holds;
/// fails after [`DEADLINE_NS`].
pub fn poll(context: &Context<'_>, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = context.now_ns() + DEADLINE_NS;
    while !done() {
        assert!(context.now_ns() < deadline, "timed out waiting for {what}");
        context.yield_now();
    }
}
