//! Interrupt threads: device interrupts handled in kernel threads.
//!
//! The host acknowledges a device interrupt and wakes the thread waiting
//! for it ([`hypercall::HostInterrupt::wait`]); that thread takes the
//! virtual CPU, runs the driver's handler and tells the host it is done, so
//! a level-triggered line is unmasked only after the device was serviced.
//! Handlers never run in interrupt context and never preempt kernel code:
//! they are scheduled, like any thread (the rump papers' §3.3.2).

use alloc::boxed::Box;
use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hypercall::{HostInterrupt, InterruptError, InterruptSource, MsiMessage, ThreadError};

use crate::context::Context;
use crate::kernel::Kernel;
use crate::lwp::LwpId;

/// Why an interrupt could not be established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstablishError {
    /// The host refused the interrupt.
    Host(InterruptError),
    /// No thread could be created to serve it.
    Thread(ThreadError),
}

impl core::fmt::Display for EstablishError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Host(error) => write!(f, "host refused the interrupt: {error}"),
            Self::Thread(error) => write!(f, "no interrupt thread: {error}"),
        }
    }
}

impl core::error::Error for EstablishError {}

/// An established interrupt and its thread. Dropping it disestablishes
/// the interrupt and lets the thread end.
pub struct Interrupt {
    host: Arc<dyn HostInterrupt>,
    shared: Arc<Shared>,
    thread: LwpId,
}

struct Shared {
    handled: AtomicU64,
}

impl Interrupt {
    /// The message to program into an MSI-capable device.
    pub fn msi_message(&self) -> Option<MsiMessage> {
        self.host.msi_message()
    }

    /// Raises a software interrupt (see [`InterruptSource::Software`]).
    pub fn raise(&self) {
        self.host.raise();
    }

    /// How many times the handler ran.
    pub fn handled(&self) -> u64 {
        self.shared.handled.load(Relaxed)
    }

    /// The interrupt thread's lwp.
    pub fn thread(&self) -> LwpId {
        self.thread
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.host.cancel();
    }
}

impl core::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Interrupt")
            .field("thread", &self.thread)
            .field("handled", &self.handled())
            .finish()
    }
}

impl Kernel {
    /// Establishes `source` and starts a thread that runs `handler` under
    /// the virtual CPU each time it fires.
    ///
    /// # Errors
    /// [`EstablishError`] when the host refuses or no thread can start.
    pub fn interrupt_establish(
        self: &Arc<Self>,
        name: &str,
        source: InterruptSource,
        handler: impl Fn(&Context<'_>) + Send + 'static,
    ) -> Result<Interrupt, EstablishError> {
        let host: Arc<dyn HostInterrupt> = Arc::from(
            self.hypercalls()
                .interrupt_establish(source)
                .map_err(EstablishError::Host)?,
        );
        let shared = Arc::new(Shared {
            handled: AtomicU64::new(0),
        });
        let body = serve(host.clone(), shared.clone(), Box::new(handler));
        let thread = self
            .spawn_detached(&format!("intr/{name}"), body)
            .map_err(EstablishError::Thread)?;
        Ok(Interrupt {
            host,
            shared,
            thread,
        })
    }
}

/// The interrupt thread: wait with the CPU released, handle with it held.
fn serve(
    host: Arc<dyn HostInterrupt>,
    shared: Arc<Shared>,
    handler: Box<dyn Fn(&Context<'_>) + Send>,
) -> impl FnOnce(&Context<'_>) + Send + 'static {
    move |context| {
        loop {
            let waiting = host.clone();
            if context.block_on_host(move || waiting.wait()).is_err() {
                return;
            }
            handler(context);
            shared
                .handled
                .store(shared.handled.load(Relaxed) + 1, Relaxed);
            host.complete();
        }
    }
}
