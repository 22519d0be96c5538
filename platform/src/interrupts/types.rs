//! The plain types of the interrupt API: sources, handlers, errors, MSI.

use core::fmt;

/// An interrupt vector owned by a registration (0x20..=0xFF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vector(pub(super) u8);

impl Vector {
    /// The vector number.
    pub fn number(self) -> u8 {
        self.0
    }
}

/// What runs when a vector fires: `function(context)`, with interrupts
/// disabled, on the interrupted stack, before the EOI. It must be short
/// and must not block; it typically records the event and wakes a thread.
#[derive(Debug, Clone, Copy)]
pub struct Handler {
    /// The function called.
    pub function: fn(usize),
    /// Passed to `function` unchanged (an index, a pointer, ...).
    pub context: usize,
}

/// How a wired line signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Edge-triggered (ISA devices, the PIT, the RTC).
    Edge,
    /// Level-triggered (PCI INTx, the ACPI SCI): masked on delivery until
    /// [`unmask`](super::unmask) says the device was serviced.
    Level,
}

/// Which level of a wired line is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// Active high (ISA).
    High,
    /// Active low (PCI INTx).
    Low,
}

/// Where an interrupt comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// ISA IRQ 0..=15: edge-triggered, active high, IRQ 0 on GSI 2.
    Isa(u8),
    /// A global system interrupt (I/O APIC pin) with explicit signalling;
    /// GSIs below 16 also work through the PIC.
    Gsi {
        /// The GSI.
        gsi: u32,
        /// Edge or level.
        trigger: Trigger,
        /// Active high or low.
        polarity: Polarity,
    },
    /// A message-signalled interrupt: program [`msi_message`](super::msi_message)
    /// into the device.
    Msi,
    /// No device: raised by [`raise`](super::raise) (a self-IPI).
    Software,
}

/// Which controller carries wired lines, decided by [`init`](super::init).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Local APIC + I/O APIC; the PIC is masked.
    IoApic,
    /// Local APIC, but lines go through the PIC via LINT0 (no I/O APIC).
    ApicWithPic,
    /// No local APIC: the PIC alone; no MSI, no self-IPI.
    Pic,
}

/// Why an interrupt call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptError {
    /// Neither a local APIC nor a PIC answered.
    NoController,
    /// [`init`](super::init) has not run yet.
    NotInitialised,
    /// This kind of interrupt needs a controller the machine lacks.
    Unsupported,
    /// No vector left in 0x30..=0xEF.
    NoFreeVector,
    /// The fixed vector or line is already registered.
    Busy,
    /// The IRQ or GSI does not exist on this machine's controllers.
    InvalidLine,
    /// Nothing is registered at this vector.
    NotRegistered,
    /// The vector is not fed by a wired line (nothing to mask).
    NotALine,
    /// The local APIC did not accept the self-IPI.
    SendFailed,
}

impl fmt::Display for InterruptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoController => "no interrupt controller (neither local APIC nor PIC)",
            Self::NotInitialised => "interrupt controllers not initialised",
            Self::Unsupported => "interrupt kind not supported by this machine's controllers",
            Self::NoFreeVector => "no free interrupt vector",
            Self::Busy => "interrupt vector or line already registered",
            Self::InvalidLine => "no such interrupt line on this machine",
            Self::NotRegistered => "nothing registered at this vector",
            Self::NotALine => "vector is not fed by a wired line",
            Self::SendFailed => "the local APIC did not accept the self-IPI",
        })
    }
}

impl core::error::Error for InterruptError {}

/// The address/data pair a PCI device writes to raise an MSI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiMessage {
    /// `0xFEE0_0000 | apic_id << 12`: physical destination, no redirection.
    pub address: u64,
    /// The vector; fixed delivery, edge-triggered.
    pub data: u32,
}
