//! The HPET main counter, used only as a calibration reference.
//!
//! Found at 0xFED00000 (where PC firmware and QEMU's pc/q35 put it; the ACPI
//! HPET table is not parsed). The capabilities register states the tick
//! period in femtoseconds, so the counter needs no calibration itself. Its
//! comparators are left alone; only the main counter is enabled.

use core::ptr::NonNull;

use spin::Once;

use crate::paging;

/// Where the HPET lives when no ACPI table says otherwise.
pub const DEFAULT_BASE: u64 = 0xfed0_0000;

const CAPABILITIES: usize = 0x00;
const CONFIGURATION: usize = 0x10;
const COUNTER: usize = 0xf0;
const ENABLE: u32 = 1;
const COUNTER_64_BIT: u32 = 1 << 13;
/// The specification caps the period at 100 ns (10 MHz or faster).
const MAX_PERIOD_FS: u32 = 100_000_000;

/// An enabled HPET.
#[derive(Debug)]
pub struct Hpet {
    registers: NonNull<u32>,
    frequency_hz: u64,
    wide: bool,
}

// SAFETY: accesses are single aligned 32-bit volatile MMIO reads of a
// free-running counter, valid from any context.
unsafe impl Send for Hpet {}
// SAFETY: as above.
unsafe impl Sync for Hpet {}

static HPET: Once<Option<Hpet>> = Once::new();

/// The HPET at the default base, enabled on first use; `None` if absent.
pub fn get() -> Option<&'static Hpet> {
    HPET.call_once(|| probe(DEFAULT_BASE)).as_ref()
}

fn probe(physical_base: u64) -> Option<Hpet> {
    let registers = paging::map_mmio(physical_base, 1024).ok()?.cast::<u32>();
    let mut hpet = Hpet {
        registers,
        frequency_hz: 0,
        wide: false,
    };
    let capabilities = hpet.read(CAPABILITIES);
    let period_fs = hpet.read(CAPABILITIES + 4);
    let vendor = capabilities >> 16;
    if period_fs == 0 || period_fs > MAX_PERIOD_FS || vendor == 0 || vendor == 0xffff {
        return None;
    }
    hpet.frequency_hz = 1_000_000_000_000_000 / u64::from(period_fs);
    hpet.wide = capabilities & COUNTER_64_BIT != 0;
    let configuration = hpet.read(CONFIGURATION);
    hpet.write(CONFIGURATION, configuration | ENABLE);
    Some(hpet)
}

impl Hpet {
    fn read(&self, register: usize) -> u32 {
        // SAFETY: `register` is inside the mapped 1 KiB register block;
        // 32-bit aligned reads are always allowed.
        unsafe { self.registers.byte_add(register).read_volatile() }
    }

    fn write(&self, register: usize, value: u32) {
        // SAFETY: as in `read`; only the configuration register is written.
        unsafe { self.registers.byte_add(register).write_volatile(value) }
    }

    /// Ticks per second.
    pub fn frequency_hz(&self) -> u64 {
        self.frequency_hz
    }

    /// Whether the main counter has 64 bits (else it wraps at 2^32).
    pub fn is_64_bit(&self) -> bool {
        self.wide
    }

    /// The low 32 bits of the main counter (one MMIO read).
    pub fn counter_low(&self) -> u32 {
        self.read(COUNTER)
    }

    /// The full main counter (a consistent high/low/high read; the high
    /// half is 0 for a 32-bit counter).
    pub fn counter(&self) -> u64 {
        if !self.wide {
            return u64::from(self.counter_low());
        }
        loop {
            let high = self.read(COUNTER + 4);
            let low = self.read(COUNTER);
            if self.read(COUNTER + 4) == high {
                return (u64::from(high) << 32) | u64::from(low);
            }
        }
    }
}
