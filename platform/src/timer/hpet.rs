//! The HPET main counter, used only as a calibration reference.
//!
//! Found at 0xFED00000 (where PC firmware and QEMU's pc/q35 put it; the ACPI
//! HPET table is not parsed). The capabilities register states the tick
//! period in femtoseconds, so the counter needs no calibration itself. Its
//! comparators are left alone; only the main counter is enabled.

use spin::Once;

use crate::mmio::Registers;

/// Where the HPET lives when no ACPI table says otherwise.
pub const DEFAULT_BASE: u64 = 0xfed0_0000;

const CAPABILITIES: usize = 0x00;
const CONFIGURATION: usize = 0x10;
const COUNTER: usize = 0xf0;
const ENABLE: u32 = 1;
const COUNTER_64_BIT: u32 = 1 << 13;
/// The specification caps the period at 100 ns (10 MHz or faster).
const MAX_PERIOD_FS: u32 = 100_000_000;
/// The general registers and the main counter (timers follow at 0x100).
const BLOCK_SIZE: usize = 0x100;
/// High/low/high reads of a 64-bit counter before accepting a torn one:
/// the high half changes once per 2^32 ticks, so a second try succeeds.
const COUNTER_READ_TRIES: u32 = 4;

/// An enabled HPET.
#[derive(Debug)]
pub struct Hpet {
    registers: Registers,
    frequency_hz: u64,
    wide: bool,
}

static HPET: Once<Option<Hpet>> = Once::new();

/// The HPET at the default base, enabled on first use; `None` if absent.
pub fn get() -> Option<&'static Hpet> {
    HPET.call_once(|| probe(DEFAULT_BASE)).as_ref()
}

fn probe(physical_base: u64) -> Option<Hpet> {
    // SAFETY: the HPET block holds timer registers only; they raise
    // interrupts at most (its comparators stay off), never DMA. Where
    // nothing answers, reads return all ones and the checks below fail.
    let registers = unsafe { Registers::map(physical_base, BLOCK_SIZE) }.ok()?;
    let capabilities = registers.read(CAPABILITIES);
    let period_fs = registers.read(CAPABILITIES + 4);
    let vendor = capabilities >> 16;
    if period_fs == 0 || period_fs > MAX_PERIOD_FS || vendor == 0 || vendor == 0xffff {
        return None;
    }
    let configuration = registers.read(CONFIGURATION);
    registers.write(CONFIGURATION, configuration | ENABLE);
    Some(Hpet {
        registers,
        frequency_hz: 1_000_000_000_000_000 / u64::from(period_fs),
        wide: capabilities & COUNTER_64_BIT != 0,
    })
}

impl Hpet {
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
        self.registers.read(COUNTER)
    }

    /// The full main counter (a consistent high/low/high read; the high
    /// half is 0 for a 32-bit counter). A counter whose high half changes
    /// on every read is broken: after a few tries its last reading is taken.
    pub fn counter(&self) -> u64 {
        if !self.wide {
            return u64::from(self.counter_low());
        }
        let mut reading = 0;
        for _ in 0..COUNTER_READ_TRIES {
            let high = self.registers.read(COUNTER + 4);
            let low = self.registers.read(COUNTER);
            reading = (u64::from(high) << 32) | u64::from(low);
            if self.registers.read(COUNTER + 4) == high {
                break;
            }
        }
        reading
    }
}
