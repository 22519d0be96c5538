//! Interrupt hypercalls: device interrupts delivered to kernel threads.
//!
//! The host never runs kernel code in interrupt context. When a device
//! interrupts, the host acknowledges it (masking a level-triggered line) and
//! wakes the kernel thread sleeping in [`HostInterrupt::wait`]; that thread
//! takes a virtual CPU, runs the driver's handler and calls
//! [`HostInterrupt::complete`], which unmasks the line again.

use alloc::boxed::Box;
use core::fmt;

/// Which interrupt to establish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptSource {
    /// A wired line: a global system interrupt number, i.e. an I/O APIC
    /// input. On a PC, ISA IRQs 1..=15 and the PCI "interrupt line" from
    /// configuration space are their own GSI; ISA IRQ 0 (the PIT) is GSI 2.
    Line {
        /// The line's number.
        gsi: u32,
        /// Level-triggered (PCI INTx: masked until [`HostInterrupt::complete`])
        /// or edge-triggered (ISA).
        level_triggered: bool,
    },
    /// A message-signalled interrupt (MSI or MSI-X). The host reserves a
    /// vector; the driver programs [`HostInterrupt::msi_message`] into the
    /// device.
    Msi,
    /// An interrupt with no device behind it, raised by
    /// [`HostInterrupt::raise`]: a doorbell between threads, and the way
    /// tests exercise the whole interrupt path.
    Software,
}

/// The address/data pair a device writes to raise an MSI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiMessage {
    /// Message address.
    pub address: u64,
    /// Message data.
    pub data: u32,
}

/// Why an interrupt call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptError {
    /// The host has no interrupts of this kind.
    Unsupported,
    /// No vector or line is free, or the line is taken by the host itself.
    Unavailable,
    /// [`HostInterrupt::cancel`] was called.
    Cancelled,
}

impl fmt::Display for InterruptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unsupported => "interrupt kind not supported by this host",
            Self::Unavailable => "no interrupt vector or line available",
            Self::Cancelled => "interrupt wait cancelled",
        })
    }
}

impl core::error::Error for InterruptError {}

/// An established interrupt. Dropping it disestablishes the interrupt.
pub trait HostInterrupt: Send + Sync {
    /// Sleeps until the interrupt has fired since the previous `wait`
    /// returned; firings in between are coalesced into one wakeup. *May
    /// block.* Called by one thread at a time.
    ///
    /// # Errors
    /// [`InterruptError::Cancelled`] once [`HostInterrupt::cancel`] was
    /// called, at once and for every later call.
    fn wait(&self) -> Result<(), InterruptError>;

    /// Says the kernel has handled the interrupt that `wait` reported: a
    /// level-triggered line is unmasked again. Never blocks.
    fn complete(&self);

    /// The message to program into the device, for [`InterruptSource::Msi`].
    fn msi_message(&self) -> Option<MsiMessage>;

    /// Raises the interrupt as if the device had: for
    /// [`InterruptSource::Software`] (other sources may ignore it). Never
    /// blocks; callable from any thread.
    fn raise(&self);

    /// Makes the pending and all later [`HostInterrupt::wait`] calls return
    /// [`InterruptError::Cancelled`], so the thread serving the interrupt
    /// can end. Never blocks.
    fn cancel(&self);
}

/// Interrupt hypercalls.
pub trait Interrupts {
    /// Establishes `source`; from now on it wakes [`HostInterrupt::wait`].
    /// Never blocks.
    ///
    /// # Errors
    /// [`InterruptError::Unsupported`] or [`InterruptError::Unavailable`].
    fn interrupt_establish(
        &self,
        source: InterruptSource,
    ) -> Result<Box<dyn HostInterrupt>, InterruptError>;
}
