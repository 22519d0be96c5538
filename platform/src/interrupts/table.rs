//! The vector table: which handler runs for which vector, and counters.
//!
//! Vector layout (fixed): 0..=31 CPU exceptions; 0x20..=0x2F the 8259 PIC's
//! ISA IRQs 0..=15 (only when lines go through the PIC); 0x30..=0xEF
//! allocated by [`allocate`]; 0xF0 the wakeup timer; 0xFE the local APIC
//! error interrupt; 0xFF the local APIC spurious vector. The table lock is
//! only ever held with interrupts disabled, so the dispatcher, which runs
//! with interrupts disabled, cannot spin on a lock its own CPU holds.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use spin::Mutex;

use super::{Handler, InterruptError, Vector};
use crate::cpu;

/// First vector of the PIC's IRQ range (IRQ n arrives at `PIC_BASE + n`).
pub const PIC_BASE: u8 = 0x20;
/// First vector handed out by [`allocate`].
pub const FIRST_ALLOCATABLE: u8 = 0x30;
/// Last vector handed out by [`allocate`].
pub const LAST_ALLOCATABLE: u8 = 0xEF;
/// The wakeup timer's vector (local APIC timer).
pub const WAKEUP: u8 = 0xF0;
/// The local APIC error interrupt.
pub const APIC_ERROR: u8 = 0xFE;
/// The local APIC spurious-interrupt vector.
pub const APIC_SPURIOUS: u8 = 0xFF;

/// How a registered vector is fed, which decides masking and EOI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// An I/O APIC pin; `level` lines are masked on delivery.
    IoApic {
        /// The pin's global system interrupt.
        gsi: u32,
        /// Level-triggered.
        level: bool,
    },
    /// A PIC line (ISA IRQ 0..=15), at vector `PIC_BASE + irq`.
    Pic {
        /// The ISA IRQ.
        irq: u8,
        /// Level-triggered (masked on delivery).
        level: bool,
    },
    /// An MSI, a self-IPI or a local APIC source: nothing to mask.
    Local,
}

/// One registered vector.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// What to call.
    pub handler: Handler,
    /// Where the interrupt comes from.
    pub route: Route,
}

static ENTRIES: Mutex<[Option<Entry>; 256]> = Mutex::new([None; 256]);
static DELIVERED: [AtomicU32; 256] = [const { AtomicU32::new(0) }; 256];
static SPURIOUS: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);
static LAST_UNEXPECTED: AtomicU32 = AtomicU32::new(u32::MAX);

fn with_entries<R>(f: impl FnOnce(&mut [Option<Entry>; 256]) -> R) -> R {
    cpu::without_interrupts(|| f(&mut ENTRIES.lock()))
}

/// Takes the lowest free vector in the allocatable range for `entry`.
pub fn allocate(entry: Entry) -> Result<Vector, InterruptError> {
    with_entries(|entries| {
        let free = (FIRST_ALLOCATABLE..=LAST_ALLOCATABLE)
            .find(|&vector| entries[usize::from(vector)].is_none())
            .ok_or(InterruptError::NoFreeVector)?;
        entries[usize::from(free)] = Some(entry);
        Ok(Vector(free))
    })
}

/// Installs `entry` at a fixed `vector` (PIC lines, the wakeup timer).
pub fn install(vector: u8, entry: Entry) -> Result<Vector, InterruptError> {
    with_entries(|entries| match entries[usize::from(vector)] {
        Some(_) => Err(InterruptError::Busy),
        None => {
            entries[usize::from(vector)] = Some(entry);
            Ok(Vector(vector))
        }
    })
}

/// Frees `vector`, returning what was registered there.
pub fn remove(vector: Vector) -> Option<Entry> {
    with_entries(|entries| entries[usize::from(vector.0)].take())
}

/// The entry registered at `vector`, if any.
pub fn lookup(vector: u8) -> Option<Entry> {
    with_entries(|entries| entries[usize::from(vector)])
}

/// Counts one delivery of `vector`.
pub fn count_delivery(vector: u8) {
    DELIVERED[usize::from(vector)].fetch_add(1, Ordering::Relaxed);
}

/// Counts one spurious interrupt.
pub fn count_spurious() {
    SPURIOUS.fetch_add(1, Ordering::Relaxed);
}

/// Counts one interrupt on a vector with no handler.
pub fn count_unexpected(vector: u8) {
    UNEXPECTED.fetch_add(1, Ordering::Relaxed);
    LAST_UNEXPECTED.store(u32::from(vector), Ordering::Relaxed);
}

/// Interrupt counters since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statistics {
    /// Spurious interrupts (APIC spurious vector, PIC IRQ 7/15 ghosts).
    pub spurious: u64,
    /// Interrupts on vectors nobody registered.
    pub unexpected: u64,
    /// The most recent such vector.
    pub last_unexpected: Option<u8>,
}

/// Interrupt counters since boot.
pub fn statistics() -> Statistics {
    Statistics {
        spurious: SPURIOUS.load(Ordering::Relaxed),
        unexpected: UNEXPECTED.load(Ordering::Relaxed),
        last_unexpected: u8::try_from(LAST_UNEXPECTED.load(Ordering::Relaxed)).ok(),
    }
}

/// How many times `vector`'s handler ran since boot (wraps at 2^32).
pub fn delivered(vector: Vector) -> u32 {
    DELIVERED[usize::from(vector.0)].load(Ordering::Relaxed)
}
