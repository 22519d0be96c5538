//! Faults raised on purpose, for the test image's exception case.

use core::arch::asm;

/// Executes `ud2`: the CPU raises an invalid-opcode exception, which the
/// platform reports (registers and backtrace) before ending the machine.
#[inline(never)]
pub fn raise_invalid_opcode() {
    // SAFETY: `ud2` only raises #UD; the exception handler never returns
    // here (it ends the machine), so no state is left inconsistent.
    unsafe { asm!("ud2", options(nomem, nostack)) };
}
