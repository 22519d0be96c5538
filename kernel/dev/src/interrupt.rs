//! A PCI function's interrupt as an interrupt thread: MSI-X, else INTx.
//!
//! [`establish`] asks the host for an MSI vector when the function has
//! MSI-X (and the caller allows it), writes the host's message into table
//! entry 0, unmasks it, disables INTx and enables MSI-X. If any step fails
//! it says so in the log, turns MSI-X off again and falls back to the
//! legacy line: the interrupt line register (0x3C, a GSI on a PC, set by
//! firmware) as a level-triggered source, which the host masks on
//! delivery and unmasks after the handler ran (so the handler must quiet
//! the device, e.g. read its interrupt status). Either way the handler
//! runs in a kernel thread with the virtual CPU ([`Kernel::interrupt_establish`]).
//!
//! [`Kernel::interrupt_establish`]: base::Kernel::interrupt_establish

use alloc::sync::Arc;

use base::Context;
use base::hypercall::{InterruptError, InterruptSource, PciBus, PciFunction};
use base::interrupt::{EstablishError, Interrupt};
use log::warn;

use crate::config::{self, CommandRegister};
use crate::error::DevError;
use crate::msix::Msix;

/// Which interrupt a driver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptMode {
    /// MSI-X when the function has it, else INTx.
    Auto,
    /// The legacy INTx line only (MSI-X, if present, is turned off).
    Intx,
}

/// What a device's interrupt turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptKind {
    /// MSI-X, through this table entry.
    Msix {
        /// The table entry programmed (the driver points its queues here).
        entry: u16,
    },
    /// The legacy line, level-triggered.
    Intx {
        /// The GSI it arrives on.
        gsi: u32,
    },
}

/// An established device interrupt. Dropping it stops the thread.
#[derive(Debug)]
pub struct DeviceInterrupt {
    interrupt: Interrupt,
    kind: InterruptKind,
}

impl DeviceInterrupt {
    /// MSI-X or INTx.
    pub fn kind(&self) -> InterruptKind {
        self.kind
    }

    /// The interrupt and its thread.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// The interrupt and its thread, to keep (dropping it stops both).
    pub fn into_interrupt(self) -> Interrupt {
        self.interrupt
    }
}

type Handler = Arc<dyn Fn(&Context<'_>) + Send + Sync>;

/// Establishes `function`'s interrupt, running `handler` in the thread
/// `intr/<name>` each time it fires (see the module docs).
///
/// # Errors
/// [`DevError::NoInterrupt`] when there is neither MSI-X nor a routed
/// line, or what establishing the line failed with.
pub fn establish(
    context: &Context<'_>,
    bus: &dyn PciBus,
    function: &PciFunction,
    name: &str,
    mode: InterruptMode,
    handler: impl Fn(&Context<'_>) + Send + Sync + 'static,
) -> Result<DeviceInterrupt, DevError> {
    let handler: Handler = Arc::new(handler);
    let msix = Msix::find(bus, function.address);
    if let (Some(msix), InterruptMode::Auto) = (msix, mode) {
        match establish_msix(context, bus, function, &msix, name, handler.clone()) {
            Ok(interrupt) => return Ok(interrupt),
            Err(error) => warn!("{function}: MSI-X failed ({error}); trying INTx"),
        }
    }
    if let Some(msix) = msix {
        msix.disable(bus, function.address)?;
    }
    establish_intx(context, bus, function, name, handler)
}

fn establish_msix(
    context: &Context<'_>,
    bus: &dyn PciBus,
    function: &PciFunction,
    msix: &Msix,
    name: &str,
    handler: Handler,
) -> Result<DeviceInterrupt, DevError> {
    let kernel = context.kernel().arc();
    let interrupt =
        kernel.interrupt_establish(name, InterruptSource::Msi, move |context| handler(context))?;
    let message = interrupt
        .msi_message()
        .ok_or(DevError::Interrupt(EstablishError::Host(
            InterruptError::Unsupported,
        )))?;
    let entry = 0;
    msix.program(bus, function.address, entry, message)?;
    let intx = CommandRegister::INTERRUPT_DISABLE;
    config::update_command(bus, function.address, intx, CommandRegister::empty())?;
    msix.enable(bus, function.address)?;
    Ok(DeviceInterrupt {
        interrupt,
        kind: InterruptKind::Msix { entry },
    })
}

fn establish_intx(
    context: &Context<'_>,
    bus: &dyn PciBus,
    function: &PciFunction,
    name: &str,
    handler: Handler,
) -> Result<DeviceInterrupt, DevError> {
    let gsi = intx_line(function).ok_or(DevError::NoInterrupt)?;
    let intx = CommandRegister::INTERRUPT_DISABLE;
    config::update_command(bus, function.address, CommandRegister::empty(), intx)?;
    let source = InterruptSource::Line {
        gsi,
        level_triggered: true,
    };
    let kernel = context.kernel().arc();
    let interrupt = kernel.interrupt_establish(name, source, move |context| handler(context))?;
    Ok(DeviceInterrupt {
        interrupt,
        kind: InterruptKind::Intx { gsi },
    })
}

/// The GSI of the function's INTx line: `None` without a pin, or when
/// the host left the line unrouted (0 or 0xff; GSI 0 is never a PCI line).
pub fn intx_line(function: &PciFunction) -> Option<u32> {
    let (line, pin) = (function.interrupt_line, function.interrupt_pin);
    if pin == 0 || line == 0 || line == 0xff {
        return None;
    }
    Some(u32::from(line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeBus;

    #[test]
    fn intx_needs_a_pin_and_a_routed_line() {
        let bus = FakeBus::new();
        let at = bus.add_function(0, 1, 0, 0x1af4, 0x1041);
        let cases = [
            (0x0000_010b, Some(11)),
            (0x0000_0110, Some(16)),
            (0x0000_000b, None),
            (0x0000_01ff, None),
            (0x0000_0100, None),
        ];
        for (register, expected) in cases {
            bus.set(at, config::INTERRUPT, register);
            let function = bus.functions()[0];
            assert_eq!(intx_line(&function), expected, "{register:#x}");
        }
    }
}
