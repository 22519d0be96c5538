//! The local APIC in xAPIC mode: enable, EOI, self-IPI and the timer.
//!
//! The registers are 32-bit MMIO at the base named by the IA32_APIC_BASE
//! MSR (0xFEE00000 on every PC), mapped uncached. If firmware left the APIC
//! in x2APIC mode it is taken back to xAPIC mode through the disabled
//! state. LINT0 is set to ExtINT when a PIC exists, so that PIC interrupts
//! still reach the CPU (qboot and microvm do not route them otherwise);
//! LINT1 delivers NMIs. The timer counts down at the APIC bus or crystal
//! clock with divide-by-1; under QEMU that is 1 GHz.

use spin::Once;

use super::table::{APIC_ERROR, APIC_SPURIOUS};
use crate::mmio::Registers;
use crate::{cpu, paging};

const APIC_BASE_MSR: u32 = 0x1b;
/// IA32_APIC_BASE: this is the bootstrap processor (read-only).
const BASE_BOOTSTRAP: u64 = 1 << 8;
const BASE_X2APIC: u64 = 1 << 10;
const BASE_ENABLE: u64 = 1 << 11;
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
/// The register page.
const PAGE_SIZE: usize = 4096;

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
    registers: Registers,
    id: u8,
}

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
    // SAFETY: IA32_APIC_BASE names the APIC's register page, which holds
    // registers only; programming them raises interrupts, never DMA.
    let registers = unsafe { Registers::map(physical_base, PAGE_SIZE) }.map_err(Error::Map)?;
    let id = (registers.read(ID) >> 24) as u8;
    let apic = LocalApic { registers, id };
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
    unsafe {
        cpu::write_msr(
            APIC_BASE_MSR,
            address | BASE_ENABLE | (base & BASE_BOOTSTRAP),
        )
    };
    address
}

impl LocalApic {
    fn program(&self, pic_present: bool) {
        self.registers.write(TASK_PRIORITY, 0);
        self.registers
            .write(SPURIOUS, SOFTWARE_ENABLE | u32::from(APIC_SPURIOUS));
        let lint0 = if pic_present {
            DELIVERY_EXTINT
        } else {
            DELIVERY_EXTINT | LVT_MASKED
        };
        self.registers.write(LVT_LINT0, lint0);
        self.registers.write(LVT_LINT1, DELIVERY_NMI);
        self.registers.write(LVT_ERROR, u32::from(APIC_ERROR));
        self.registers.write(LVT_TIMER, LVT_MASKED);
        self.registers.write(TIMER_DIVIDE, DIVIDE_BY_1);
        self.registers.write(ERROR_STATUS, 0);
        self.registers.write(ERROR_STATUS, 0);
        self.end_of_interrupt();
    }

    /// This CPU's APIC ID.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// Signals the end of the interrupt being serviced.
    pub fn end_of_interrupt(&self) {
        self.registers.write(END_OF_INTERRUPT, 0);
    }

    /// Sends `vector` to this CPU (fixed delivery, edge). Returns false if
    /// an earlier IPI never left the command register.
    pub fn send_self(&self, vector: u8) -> bool {
        let idle =
            (0..SEND_POLLS).any(|_| self.registers.read(COMMAND_LOW) & DELIVERY_PENDING == 0);
        if idle {
            self.registers
                .write(COMMAND_LOW, SHORTHAND_SELF | u32::from(vector));
        }
        idle
    }

    /// Points the timer at `vector`, one-shot, stopped: [`Self::arm_timer`]
    /// then starts it with one register write.
    pub fn configure_timer(&self, vector: u8) {
        self.registers.write(TIMER_INITIAL, 0);
        self.registers.write(LVT_TIMER, u32::from(vector));
    }

    /// Starts the configured timer: it fires after `count` timer ticks;
    /// `count` 0 stops it.
    pub fn arm_timer(&self, count: u32) {
        self.registers.write(TIMER_INITIAL, count);
    }

    /// Starts the timer counting down from `u32::MAX` with its interrupt
    /// masked, as a reference for calibration (one-shot: it stops at 0,
    /// after 4.3 s at 1 GHz).
    pub fn start_free_running(&self) {
        self.registers.write(LVT_TIMER, LVT_MASKED);
        self.registers.write(TIMER_INITIAL, u32::MAX);
    }

    /// The timer's current count.
    pub fn timer_current(&self) -> u32 {
        self.registers.read(TIMER_CURRENT)
    }
}
