//! The software interrupt a fake device raises, served by the driver.
//!
//! It is an interrupt of the test's kernel, established once the driver
//! under test has started, with the driver's handler.

use alloc::sync::Arc;
use std::sync::OnceLock;

use base::Kernel;
use base::hypercall::InterruptSource;
use base::interrupt::Interrupt;

use crate::Started;

/// A fake device's interrupt, set once the driver has started: the
/// device thread is made before the driver, the interrupt after.
#[derive(Debug, Clone, Default)]
pub struct SoftInterrupt(Arc<OnceLock<Arc<Interrupt>>>);

impl SoftInterrupt {
    /// What the device thread calls: raises the interrupt once it is set,
    /// does nothing before.
    pub fn raiser(&self) -> impl Fn() + Send + 'static {
        let slot = self.0.clone();
        move || {
            if let Some(interrupt) = slot.get() {
                interrupt.raise();
            }
        }
    }

    /// Establishes the interrupt on `kernel` as `name`, served by
    /// `device`; the caller keeps it (its last handle ends its thread).
    ///
    /// # Panics
    /// When the host refuses it or it was established already: the test
    /// cannot go on.
    pub fn establish<D: Started>(
        &self,
        kernel: &Arc<Kernel>,
        name: &str,
        device: Arc<D>,
    ) -> Arc<Interrupt> {
        let handler = move |context: &base::Context<'_>| device.service(context);
        let interrupt = kernel.interrupt_establish(name, InterruptSource::Software, handler);
        let interrupt = Arc::new(interrupt.expect("a software interrupt"));
        let set = self.0.set(interrupt.clone());
        set.map_err(drop).expect("established once");
        interrupt
    }
}
