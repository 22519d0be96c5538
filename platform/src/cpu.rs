//! The processor: time-stamp counter, CPUID features, RDRAND/RDSEED, IF flag.
//!
//! Everything here runs on the current CPU and has no state except the
//! feature summary cached by [`features()`]. `halt_until_interrupt` is the
//! only correct way to idle: `sti; hlt` executes atomically, so an
//! interrupt that became pending while interrupts were off ends the `hlt`
//! instead of being lost before it.

mod features;

use core::arch::asm;
use core::arch::x86_64::{__cpuid_count, CpuidResult};

pub use features::{Features, Hypervisor, features};

/// RDRAND may fail transiently; Intel's guide recommends 10 retries.
const RDRAND_RETRIES: u32 = 10;
/// RDSEED fails more often under load; retry longer, pausing in between.
const RDSEED_RETRIES: u32 = 100;

/// Reads the time-stamp counter (not ordered against earlier loads).
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC reads a counter; CR4.TSD is clear in ring 0 anyway.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Reads the time-stamp counter after all earlier instructions completed
/// (`lfence; rdtsc`), for measuring short intervals.
#[inline]
pub fn rdtsc_ordered() -> u64 {
    // SAFETY: LFENCE only orders execution; SSE2 is architectural on x86_64.
    unsafe { core::arch::x86_64::_mm_lfence() };
    rdtsc()
}

/// Executes CPUID for `leaf` and `subleaf`.
#[inline]
pub fn cpuid(leaf: u32, subleaf: u32) -> CpuidResult {
    __cpuid_count(leaf, subleaf)
}

/// One 64-bit value from RDRAND, retried up to 10 times; `None` if the
/// instruction is missing or kept failing.
pub fn rdrand64() -> Option<u64> {
    if !features().rdrand {
        return None;
    }
    (0..RDRAND_RETRIES).find_map(|_| rdrand_step())
}

/// One 64-bit value from RDSEED, retried up to 100 times with a pause in
/// between; `None` if the instruction is missing or kept failing.
pub fn rdseed64() -> Option<u64> {
    if !features().rdseed {
        return None;
    }
    (0..RDSEED_RETRIES).find_map(|_| {
        let value = rdseed_step();
        if value.is_none() {
            core::hint::spin_loop();
        }
        value
    })
}

fn rdrand_step() -> Option<u64> {
    let value: u64;
    let ok: u8;
    // SAFETY: only called after CPUID reported RDRAND; it writes a register
    // and the carry flag, nothing else.
    unsafe {
        asm!("rdrand {0}", "setc {1}", out(reg) value, out(reg_byte) ok, options(nomem, nostack))
    };
    (ok != 0).then_some(value)
}

fn rdseed_step() -> Option<u64> {
    let value: u64;
    let ok: u8;
    // SAFETY: only called after CPUID reported RDSEED; it writes a register
    // and the carry flag, nothing else.
    unsafe {
        asm!("rdseed {0}", "setc {1}", out(reg) value, out(reg_byte) ok, options(nomem, nostack))
    };
    (ok != 0).then_some(value)
}

/// Whether maskable interrupts are enabled (RFLAGS.IF).
#[inline]
pub fn interrupts_enabled() -> bool {
    x86_64::instructions::interrupts::are_enabled()
}

/// Enables maskable interrupts (`sti`).
#[inline]
pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

/// Disables maskable interrupts (`cli`).
#[inline]
pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}

/// Runs `f` with interrupts disabled, restoring the previous state after.
#[inline]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    x86_64::instructions::interrupts::without_interrupts(f)
}

/// Enables interrupts and halts until one arrives, atomically (`sti; hlt`),
/// then disables them again. Call with interrupts disabled after checking
/// the condition to wait for: an interrupt already pending ends the halt
/// at once, so no wakeup is lost. Returns with interrupts disabled after
/// the handler ran.
#[inline]
pub fn halt_until_interrupt() {
    // SAFETY: STI takes effect after the next instruction, so no interrupt
    // is taken between STI and HLT; the handler runs, HLT ends, and CLI
    // restores the interrupts-off state the caller relies on. Not `nomem`:
    // the handler that runs in between writes memory the caller then
    // reads, so the compiler must not carry values across this block.
    unsafe { asm!("sti", "hlt", "cli", options(nostack)) };
}

/// Reads model-specific register `msr`.
///
/// # Safety
/// `msr` must exist on this processor (otherwise #GP) and reading it must
/// have no side effect the caller does not intend.
#[inline]
pub unsafe fn read_msr(msr: u32) -> u64 {
    // SAFETY: the caller guarantees the MSR exists and may be read.
    unsafe { x86_64::registers::model_specific::Msr::new(msr).read() }
}

/// Writes model-specific register `msr`.
///
/// # Safety
/// `msr` must exist and `value` must be valid for it; the write must not
/// break memory safety (e.g. by moving a structure other code still uses).
#[inline]
pub unsafe fn write_msr(msr: u32, value: u64) {
    // SAFETY: the caller guarantees the MSR exists and the value is safe.
    unsafe { x86_64::registers::model_specific::Msr::new(msr).write(value) }
}
