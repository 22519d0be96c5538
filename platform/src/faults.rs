//! Faults raised on purpose, for the test image's exception and panic cases.
//!
//! Each [`Failure`] ends the machine through one path of the exception or
//! panic report: every CPU exception the boot code must survive long enough
//! to report (including a fault on the boot stack's guard page and a stack
//! overflow, which only the double-fault IST stack can report), and the
//! cases where a report must break the console lock or must not nest.
//! [`interrupt_preserves_registers`] checks the IDT's return path.

use core::arch::asm;
use core::fmt;
use core::hint::black_box;

/// A way to end the machine on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `ud2`: #UD.
    InvalidOpcode,
    /// A read at 64 GiB, beyond the identity map: #PF.
    PageFault,
    /// A read at a non-canonical address: #GP.
    GeneralProtection,
    /// `div` by zero: #DE (Rust's `/` would panic instead).
    DivideError,
    /// `int3`: #BP.
    Breakpoint,
    /// A write to the boot stack's guard page: #PF.
    GuardPage,
    /// `ud2` inside a `println!`, with the console lock held: #UD.
    FaultInPrintln,
    /// Unbounded recursion: a page fault that cannot push its frame, hence
    /// a double fault on its own stack.
    StackOverflow,
    /// A panic inside a `println!`, with the console lock held.
    PanicInPrintln,
    /// A panic whose message panics while it is formatted.
    NestedPanic,
    /// A panic whose message executes `ud2` while it is formatted: the
    /// exception strikes during the panic report.
    FaultInPanicReport,
}

impl Failure {
    /// Every failure with its name on the command line.
    pub const ALL: [(Failure, &'static str); 11] = [
        (Failure::InvalidOpcode, "invalid-opcode"),
        (Failure::PageFault, "page"),
        (Failure::GeneralProtection, "general-protection"),
        (Failure::DivideError, "divide"),
        (Failure::Breakpoint, "breakpoint"),
        (Failure::GuardPage, "guard-page"),
        (Failure::FaultInPrintln, "in-println"),
        (Failure::StackOverflow, "stack-overflow"),
        (Failure::PanicInPrintln, "panic-in-println"),
        (Failure::NestedPanic, "nested-panic"),
        (Failure::FaultInPanicReport, "fault-in-panic-report"),
    ];

    /// The failure named `name`, if there is one.
    pub fn named(name: &str) -> Option<Failure> {
        Self::ALL
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(failure, _)| *failure)
    }
}

/// Ends the machine the way `failure` says; never returns.
pub fn raise(failure: Failure) -> ! {
    crate::println!("faults: raising {failure:?} on purpose");
    match failure {
        Failure::InvalidOpcode => raise_invalid_opcode(),
        Failure::PageFault => read(0x10_0000_0000),
        Failure::GeneralProtection => read(0x8000_0000_0000_0000),
        Failure::DivideError => divide_by_zero(),
        Failure::Breakpoint => breakpoint(),
        Failure::GuardPage => write(crate::boot::stack_guard().start + 64),
        Failure::FaultInPrintln => crate::println!("formatting: {}", FaultsWhenFormatted),
        Failure::StackOverflow => crate::println!("depth {}", recurse(0)),
        Failure::PanicInPrintln => crate::println!("value: {}", PanicsWhenFormatted),
        Failure::NestedPanic => panic!("outer: {}", PanicsWhenFormatted),
        Failure::FaultInPanicReport => panic!("outer: {}", FaultsWhenFormatted),
    }
    panic!("{failure:?} did not end the machine")
}

/// A value whose formatting raises #UD.
struct FaultsWhenFormatted;

impl fmt::Display for FaultsWhenFormatted {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        raise_invalid_opcode();
        Ok(())
    }
}

/// A value whose formatting panics.
struct PanicsWhenFormatted;

impl fmt::Display for PanicsWhenFormatted {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("formatting panicked")
    }
}

/// Executes `ud2`: the CPU raises an invalid-opcode exception, which the
/// platform reports (registers and backtrace) before ending the machine.
#[inline(never)]
fn raise_invalid_opcode() {
    // SAFETY: `ud2` only raises #UD; the exception handler never returns
    // here (it ends the machine), so no state is left inconsistent.
    unsafe { asm!("ud2", options(nomem, nostack)) };
}

#[inline(never)]
fn breakpoint() {
    // SAFETY: `int3` only raises #BP, whose report ends the machine.
    unsafe { asm!("int3", options(nomem, nostack)) };
}

#[inline(never)]
fn divide_by_zero() {
    let divisor: u64 = black_box(0);
    // SAFETY: `div` by zero raises #DE, whose report ends the machine; the
    // registers it would change are declared.
    unsafe { asm!("div {0}", in(reg) divisor, inout("rax") 1u64 => _, inout("rdx") 0u64 => _) };
}

#[inline(never)]
fn read(address: u64) {
    // SAFETY: reads an unmapped or non-canonical address on purpose, which
    // raises #PF or #GP; the report ends the machine before the value is used.
    let value = unsafe { core::ptr::read_volatile(address as *const u64) };
    black_box(value);
}

#[inline(never)]
fn write(address: u64) {
    // SAFETY: writes the unmapped guard page on purpose (#PF); the report
    // ends the machine, so nothing ever sees the write.
    unsafe { core::ptr::write_volatile(address as *mut u64, 1) };
}

/// Recurses with 256 bytes of locals per frame until the stack runs out.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let locals = black_box([depth; 32]);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1).wrapping_add(locals[7])
}

/// The vector `interrupt_preserves_registers` raises: 0xEF, the last one
/// the interrupt table hands out (it allocates upwards from 0x30), so in
/// practice nobody's, and dispatch only counts it.
const TEST_VECTOR: u8 = 0xEF;

/// Raises [`TEST_VECTOR`] with known values in thirteen general registers
/// `rounds` times; whether every register came back intact each time.
pub fn interrupt_preserves_registers(rounds: u32) -> bool {
    let values: [u64; 13] =
        core::array::from_fn(|index| 0x0101_0101_0101_0101 * (index as u64 + 1));
    (0..rounds).all(|_| interrupt_with(values) == values)
}

fn interrupt_with(values: [u64; 13]) -> [u64; 13] {
    let mut out = values;
    let [a, c, d, si, di, r8, r9, r10, r11, r12, r13, r14, r15] = &mut out;
    // SAFETY: `int` enters the platform's interrupt stub for TEST_VECTOR
    // (32..=255 all have one), which saves and restores every general
    // register and returns with iretq; every register it could change is
    // declared as an in/out operand.
    unsafe {
        asm!(
            "int {vector}",
            vector = const TEST_VECTOR,
            inout("rax") * a,
            inout("rcx") * c,
            inout("rdx") * d,
            inout("rsi") * si,
            inout("rdi") * di,
            inout("r8") * r8,
            inout("r9") * r9,
            inout("r10") * r10,
            inout("r11") * r11,
            inout("r12") * r12,
            inout("r13") * r13,
            inout("r14") * r14,
            inout("r15") * r15,
        );
    }
    out
}
