//! The driver on the host: a hosted kernel, the real driver on the shared
//! fake console (`virtio::fake::console`), clients played by the test.
//!
//! Buffers and control messages cross the virtqueues exactly as in QEMU:
//! descriptors in device memory, interrupts raised by the device and
//! served in the console's interrupt thread. Every wait has a deadline.

mod control;
mod streams;

use alloc::string::String;
use alloc::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use base::interrupt::Interrupt;
use base::memory::pagedaemon::PAGEDAEMON;
use base::{BootConfig, Context, Kernel};
use dev::fake::FakeDeviceMemory;
use hypercall_posix::{Posix, PosixConfig};
use virtio::fake::console::{self, ConsoleModel};
use virtio::fake::{FakeDevice, Machine, SoftInterrupt};

use crate::console::Console;
use crate::{ConsoleListener, Consoles, device};

/// How long any wait of a test may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// A hosted kernel with one console of `ports` ports on a fake device.
struct Harness {
    device: FakeDevice<ConsoleModel>,
    _interrupt: Arc<Interrupt>,
    kernel: Arc<Kernel>,
}

impl Harness {
    fn new(ports: usize) -> Self {
        virtio::hal::install_for_tests(Arc::new(FakeDeviceMemory::default()));
        let host = Posix::new(PosixConfig::default());
        let components = [&PAGEDAEMON];
        let config = BootConfig {
            components: &components,
        };
        let kernel = Kernel::boot(host, config).expect("boot");
        let raise = SoftInterrupt::default();
        let model = ConsoleModel::new(ports);
        let identity = model.identity();
        let (device, transport) =
            FakeDevice::start(identity, model, console::serve, raise.raiser());
        let context = kernel.enter().expect("enter");
        let queues = device::start(transport).expect("the fake starts");
        let console = Arc::new(Console::new(String::from("fake"), queues));
        let interrupt = raise.establish(&kernel, "viocon fake", console.clone());
        crate::register(&context, console, "software interrupt").expect("registered");
        drop(context);
        Self {
            device,
            _interrupt: interrupt,
            kernel,
        }
    }

    fn context(&self) -> Context<'_> {
        self.kernel.enter().expect("enter")
    }

    fn listener(&self) -> ConsoleListener {
        let context = self.context();
        let consoles = Consoles::of(&context).expect("installed");
        consoles.listeners(&context).pop().expect("one console")
    }

    /// Changes the host's side, then wakes the device thread.
    fn host(&self, change: impl FnOnce(&mut ConsoleModel)) {
        change(&mut self.device.lock().device);
        self.device.shared().wake();
    }

    /// Waits until `done` holds for the device; panics at the deadline.
    fn wait_device(&self, what: &str, done: impl FnMut(&mut Machine<ConsoleModel>) -> bool) {
        let held = self.device.shared().wait_until(DEADLINE, done);
        assert!(held, "the device never saw {what}");
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// Runs `work` on a thread of its own; its result, or a panic at the
/// deadline.
fn within<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> R {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver.recv_timeout(DEADLINE).expect("finished in time")
}
