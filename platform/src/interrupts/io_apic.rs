//! The I/O APIC: routes global system interrupts (GSIs) to vectors.
//!
//! Registers are reached indirectly: write the index to IOREGSEL (base+0),
//! then access IOWIN (base+0x10); the pair is made atomic by a lock taken
//! with interrupts disabled. Redirection entry n is two registers at
//! 0x10 + 2n. The controller sits at 0xFEC00000 with GSI base 0 unless an
//! ACPI MADT says otherwise (not parsed yet). ISA IRQs map to GSIs one to
//! one except IRQ 0 (the PIT), which QEMU and most firmware route to GSI 2.

use spin::{Mutex, Once};

use crate::cpu;
use crate::mmio::Registers;

/// Where the I/O APIC lives when no ACPI table says otherwise.
pub const DEFAULT_BASE: u64 = 0xfec0_0000;

const SELECT: usize = 0x00;
const WINDOW: usize = 0x10;
/// The register block: IOREGSEL, IOWIN and the EOI register.
const BLOCK_SIZE: usize = 0x44;
const VERSION_REGISTER: u32 = 0x01;
const REDIRECTION_BASE: u32 = 0x10;
const ACTIVE_LOW: u32 = 1 << 13;
const LEVEL_TRIGGERED: u32 = 1 << 15;
const MASKED: u32 = 1 << 16;

/// One I/O APIC.
#[derive(Debug)]
pub struct IoApic {
    registers: Registers,
    /// Held, with interrupts disabled, across each select/window pair.
    window: Mutex<()>,
    gsi_base: u32,
    pins: u32,
}

static IO_APIC: Once<IoApic> = Once::new();

/// The I/O APIC, once [`init`](super::init) found one.
pub fn get() -> Option<&'static IoApic> {
    IO_APIC.get()
}

/// Looks for the I/O APIC at [`DEFAULT_BASE`], serving GSIs from 0, and
/// masks all its pins. `None` if nothing answers there.
pub(crate) fn probe() -> Option<&'static IoApic> {
    if let Some(found) = IO_APIC.get() {
        return Some(found);
    }
    // SAFETY: on a PC the I/O APIC block at DEFAULT_BASE holds only
    // registers; what they program is interrupt delivery, never DMA. Where
    // nothing answers, reads return all ones and the version check gives up.
    let registers = unsafe { Registers::map(DEFAULT_BASE, BLOCK_SIZE) }.ok()?;
    let mut io_apic = IoApic {
        registers,
        window: Mutex::new(()),
        gsi_base: 0,
        pins: 0,
    };
    let version = io_apic.read(VERSION_REGISTER);
    if version == 0 || version == u32::MAX {
        return None;
    }
    io_apic.pins = ((version >> 16) & 0xff) + 1;
    for pin in 0..io_apic.pins {
        io_apic.write_entry(pin, MASKED, 0);
    }
    Some(IO_APIC.call_once(|| io_apic))
}

/// The GSI an ISA IRQ arrives on (IRQ 0 → GSI 2, others identical).
pub fn isa_to_gsi(irq: u8) -> u32 {
    if irq == 0 { 2 } else { u32::from(irq) }
}

impl IoApic {
    fn read(&self, index: u32) -> u32 {
        cpu::without_interrupts(|| {
            let _pair = self.window.lock();
            self.registers.write(SELECT, index);
            self.registers.read(WINDOW)
        })
    }

    fn write(&self, index: u32, value: u32) {
        cpu::without_interrupts(|| {
            let _pair = self.window.lock();
            self.registers.write(SELECT, index);
            self.registers.write(WINDOW, value);
        })
    }

    /// Writes a redirection entry, high half first so that an unmasking
    /// low half never takes effect with a stale destination.
    fn write_entry(&self, pin: u32, low: u32, destination: u8) {
        let index = REDIRECTION_BASE + 2 * pin;
        self.write(index, MASKED);
        self.write(index + 1, u32::from(destination) << 24);
        self.write(index, low);
    }

    /// The pin for `gsi`, if this I/O APIC serves it.
    fn pin(&self, gsi: u32) -> Option<u32> {
        gsi.checked_sub(self.gsi_base)
            .filter(|&pin| pin < self.pins)
    }

    /// Number of pins (GSIs served from `gsi_base`).
    pub fn pins(&self) -> u32 {
        self.pins
    }

    /// Whether this I/O APIC has a pin for `gsi`.
    pub fn serves(&self, gsi: u32) -> bool {
        self.pin(gsi).is_some()
    }

    /// Routes `gsi` to `vector` on the APIC `destination` (fixed delivery,
    /// physical destination), masked or not. False if `gsi` is not served.
    pub fn route(&self, gsi: u32, route: Routing, masked: bool) -> bool {
        let Some(pin) = self.pin(gsi) else {
            return false;
        };
        let mut low = u32::from(route.vector);
        if route.level_triggered {
            low |= LEVEL_TRIGGERED;
        }
        if route.active_low {
            low |= ACTIVE_LOW;
        }
        if masked {
            low |= MASKED;
        }
        self.write_entry(pin, low, route.destination);
        true
    }

    /// Masks (true) or unmasks `gsi`. False if `gsi` is not served.
    pub fn set_masked(&self, gsi: u32, masked: bool) -> bool {
        let Some(pin) = self.pin(gsi) else {
            return false;
        };
        let index = REDIRECTION_BASE + 2 * pin;
        cpu::without_interrupts(|| {
            let low = self.read(index);
            let low = if masked { low | MASKED } else { low & !MASKED };
            self.write(index, low);
        });
        true
    }
}

/// Where and how a GSI is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routing {
    /// The vector raised.
    pub vector: u8,
    /// Level-triggered (else edge).
    pub level_triggered: bool,
    /// Active low (else active high).
    pub active_low: bool,
    /// The destination local APIC ID.
    pub destination: u8,
}
