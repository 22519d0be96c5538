//! The local APIC in xAPIC mode: enable, EOI, self-IPI and the timer.
//!
//! The registers are 32-bit MMIO at the base named by the IA32_APIC_BASE
//! MSR (0xFEE00000 on every PC), mapped uncached. If firmware left the APIC
//! in x2APIC mode it is taken back to xAPIC mode through the disabled
//! state. LINT0 is set to ExtINT when a PIC exists, so that PIC interrupts
//! still reach the CPU (qboot and microvm do not route them otherwise);
//! LINT1 delivers NMIs. The timer counts down at the APIC bus or crystal
//! clock with divide-by-1; under QEMU that is 1 GHz.

use core::ptr::NonNull;

use spin::Once;

use super::table::{APIC_ERROR, APIC_SPURIOUS};
use crate::{cpu, paging};

const APIC_BASE_MSR: u32 = 0x1b;
const BASE_ENABLE: u64 = 1 << 11;
const BASE_X2APIC: u64 = 1 << 10;
const BASE_ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

const ID: usize = 0x20;
const TASK_PRIORITY: usize = 0x80;
const END_OF_INTERRUPT: usize = 0xb0;
const SPURIOUS: usize = 0xf0;
const ERROR_STATUS: usize = 0x280;
const COMMAND_LOW: usize = 0x300;
const LVT_TIMER: usize = 0x320;
const LVT_LINT0: usize = 0x350;
const LVT_LINT1: usize = 0x360;
const LVT_ERROR: usize = 0x370;
const TIMER_INITIAL: usize = 0x380;
const TIMER_CURRENT: usize = 0x390;
const TIMER_DIVIDE: usize = 0x3e0;

const SOFTWARE_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const DELIVERY_NMI: u32 = 0b100 << 8;
const DELIVERY_EXTINT: u32 = 0b111 << 8;
const DELIVERY_PENDING: u32 = 1 << 12;
const SHORTHAND_SELF: u32 = 0b01 << 18;
const DIVIDE_BY_1: u32 = 0b1011;
/// How many polls to wait for a previous IPI to leave the ICR.
const SEND_POLLS: u32 = 100_000;

/// The enabled local APIC of this CPU.
#[derive(Debug)]
pub struct LocalApic {
    registers: NonNull<u32>,
    physical_base: u64,
    id: u8,
}

// SAFETY: the registers are MMIO of the CPU itself; accesses are single
// 32-bit volatile operations that are safe from any context.
unsafe impl Send for LocalApic {}
// SAFETY: as above.
unsafe impl Sync for LocalApic {}

static LOCAL_APIC: Once<LocalApic> = Once::new();

/// The local APIC, once [`enable`] succeeded.
pub fn get() -> Option<&'static LocalApic> {
    LOCAL_APIC.get()
}

/// Why the local APIC could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// CPUID reports no APIC.
    Absent,
    /// Its register page could not be mapped.
    Map(paging::MapError),
}

/// Enables the local APIC with LINT0 as ExtINT if `pic_present`.
pub fn enable(pic_present: bool) -> Result<&'static LocalApic, Error> {
    if let Some(apic) = LOCAL_APIC.get() {
        return Ok(apic);
    }
    if !cpu::features().apic {
        return Err(Error::Absent);
    }
    let physical_base = enable_xapic_mode();
    let registers = paging::map_mmio(physical_base, 4096).map_err(Error::Map)?;
    let mut apic = LocalApic {
        registers: registers.cast(),
        physical_base,
        id: 0,
    };
    apic.id = (apic.read(ID) >> 24) as u8;
    apic.program(pic_present);
    Ok(LOCAL_APIC.call_once(|| apic))
}

/// Sets the global enable bit (leaving x2APIC mode if needed) and returns
/// the register base.
fn enable_xapic_mode() -> u64 {
    // SAFETY: IA32_APIC_BASE exists whenever CPUID reports an APIC.
    let base = unsafe { cpu::read_msr(APIC_BASE_MSR) };
    if base & BASE_X2APIC != 0 {
        // SAFETY: x2APIC → disabled is an architecturally valid transition;
        // no interrupt is routed yet.
        unsafe { cpu::write_msr(APIC_BASE_MSR, base & !(BASE_X2APIC | BASE_ENABLE)) };
    }
    let address = base & BASE_ADDRESS_MASK;
    // SAFETY: enabling the APIC at its own base changes no memory mapping.
    unsafe { cpu::write_msr(APIC_BASE_MSR, address | BASE_ENABLE | (base & 0x100)) };
    address
}

impl LocalApic {
    fn read(&self, register: usize) -> u32 {
        // SAFETY: `register` is one of the architectural offsets inside the
        // mapped 4 KiB page; 32-bit aligned volatile reads are required.
        unsafe { self.registers.byte_add(register).read_volatile() }
    }

    fn write(&self, register: usize, value: u32) {
        // SAFETY: as in `read`; writes to these registers only affect the
        // APIC's own state.
        unsafe { self.registers.byte_add(register).write_volatile(value) }
    }

    fn program(&self, pic_present: bool) {
        self.write(TASK_PRIORITY, 0);
        self.write(SPURIOUS, SOFTWARE_ENABLE | u32::from(APIC_SPURIOUS));
        let lint0 = if pic_present {
            DELIVERY_EXTINT
        } else {
            DELIVERY_EXTINT | LVT_MASKED
        };
        self.write(LVT_LINT0, lint0);
        self.write(LVT_LINT1, DELIVERY_NMI);
        self.write(LVT_ERROR, u32::from(APIC_ERROR));
        self.write(LVT_TIMER, LVT_MASKED);
        self.write(TIMER_DIVIDE, DIVIDE_BY_1);
        self.write(ERROR_STATUS, 0);
        self.write(ERROR_STATUS, 0);
        self.end_of_interrupt();
    }

    /// This CPU's APIC ID.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// Physical address of the register page.
    pub fn physical_base(&self) -> u64 {
        self.physical_base
    }

    /// Signals the end of the interrupt being serviced.
    pub fn end_of_interrupt(&self) {
        self.write(END_OF_INTERRUPT, 0);
    }

    /// Sends `vector` to this CPU (fixed delivery, edge). Returns false if
    /// an earlier IPI never left the command register.
    pub fn send_self(&self, vector: u8) -> bool {
        let idle = (0..SEND_POLLS).any(|_| self.read(COMMAND_LOW) & DELIVERY_PENDING == 0);
        if idle {
            self.write(COMMAND_LOW, SHORTHAND_SELF | u32::from(vector));
        }
        idle
    }

    /// Reads and clears the error status register.
    pub fn take_error_status(&self) -> u32 {
        self.write(ERROR_STATUS, 0);
        self.read(ERROR_STATUS)
    }

    /// Starts the timer in one-shot mode: `vector` fires after `count`
    /// timer ticks (`count` 0 stops it).
    pub fn start_timer(&self, vector: u8, count: u32) {
        self.write(LVT_TIMER, u32::from(vector));
        self.write(TIMER_INITIAL, count);
    }

    /// Stops the timer and masks its interrupt.
    pub fn stop_timer(&self) {
        self.write(TIMER_INITIAL, 0);
        self.write(LVT_TIMER, LVT_MASKED);
    }

    /// Starts the timer counting down from `u32::MAX` with its interrupt
    /// masked, as a free-running reference for calibration.
    pub fn start_free_running(&self) {
        self.write(LVT_TIMER, LVT_MASKED);
        self.write(TIMER_INITIAL, u32::MAX);
    }

    /// The timer's current count.
    pub fn timer_current(&self) -> u32 {
        self.read(TIMER_CURRENT)
    }
}
