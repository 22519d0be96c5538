//! The I/O APIC: routes global system interrupts (GSIs) to vectors.
//!
//! Registers are reached indirectly: write the index to IOREGSEL (base+0),
//! then access IOWIN (base+0x10); the pair is made atomic by a lock taken
//! with interrupts disabled. Redirection entry n is two registers at
//! 0x10 + 2n. The first controller sits at 0xFEC00000 with GSI base 0;
//! more (microvm's second one at 0xFEC10000 serves GSIs 24..=47) are
//! added from the ACPI MADT ([`super::add_io_apic`]). ISA IRQs map to GSIs one to one
//! except IRQ 0 (the PIT), which QEMU and most firmware route to GSI 2.

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

/// I/O APICs served at most; the first is the one at [`DEFAULT_BASE`].
const MAXIMUM_IO_APICS: usize = 4;

static IO_APICS: [Once<IoApic>; MAXIMUM_IO_APICS] = [const { Once::new() }; MAXIMUM_IO_APICS];
/// The next free slot for [`add`] (slot 0 belongs to [`probe`]).
static NEXT_SLOT: Mutex<usize> = Mutex::new(1);

/// The first I/O APIC, once [`init`](super::init) found one.
pub fn get() -> Option<&'static IoApic> {
    IO_APICS[0].get()
}

/// The I/O APIC with a pin for `gsi`.
pub fn serving(gsi: u32) -> Option<&'static IoApic> {
    IO_APICS
        .iter()
        .filter_map(Once::get)
        .find(|io_apic| io_apic.serves(gsi))
}

/// Looks for the I/O APIC at [`DEFAULT_BASE`], serving GSIs from 0, and
/// masks all its pins. `None` if nothing answers there.
pub(crate) fn probe() -> Option<&'static IoApic> {
    if let Some(found) = IO_APICS[0].get() {
        return Some(found);
    }
    let io_apic = open(DEFAULT_BASE, 0)?;
    Some(IO_APICS[0].call_once(|| io_apic))
}

/// Adds the I/O APIC at `base` serving GSIs from `gsi_base` (from the
/// MADT), its pins masked. The one at [`DEFAULT_BASE`] and GSIs already
/// served are not added twice. `None` if nothing answers, its GSIs
/// overlap another's, or all slots are taken.
pub(crate) fn add(base: u64, gsi_base: u32) -> Option<&'static IoApic> {
    if base == DEFAULT_BASE {
        return get();
    }
    let mut next = NEXT_SLOT.lock();
    let slot = IO_APICS.get(*next)?;
    let io_apic = open(base, gsi_base)?;
    let last = gsi_base.checked_add(io_apic.pins - 1)?;
    if serving(gsi_base).is_some() || serving(last).is_some() {
        return None;
    }
    *next += 1;
    Some(slot.call_once(|| io_apic))
}

/// Maps and checks the I/O APIC at `base` and masks all its pins.
fn open(base: u64, gsi_base: u32) -> Option<IoApic> {
    // SAFETY: `base` is where the I/O APIC lives (the PC default or the
    // MADT's word): the block holds only registers, which program
    // interrupt delivery, never DMA. Where nothing answers, reads return
    // all ones and the version check gives up.
    let registers = unsafe { Registers::map(base, BLOCK_SIZE) }.ok()?;
    let mut io_apic = IoApic {
        registers,
        window: Mutex::new(()),
        gsi_base,
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
    Some(io_apic)
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
