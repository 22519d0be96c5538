//! The IDT: 256 assembly entry stubs and the Rust dispatcher, on stable.
//!
//! Stable Rust has no `x86-interrupt` ABI, so each vector gets a 16-byte
//! stub at `platform_interrupt_stubs + 16 * vector` that pushes a zero where
//! the CPU pushes no error code, pushes the vector and jumps to a common
//! path. That path saves the fifteen general registers, calls
//! `interrupt_entry` with a pointer to the resulting [`InterruptFrame`],
//! restores them, drops vector and error code and returns with `iretq`.
//!
//! Stack: the CPU aligns `rsp` to 16 before pushing its five-word frame;
//! error code, vector and fifteen registers make 22 words (176 bytes), so
//! `rsp` is 16-aligned at the call as the C ABI wants. The image target
//! has no red zone and no SSE, so nothing else needs saving.
//!
//! Vectors 0..=31 are CPU exceptions and go to `exceptions::report`, which
//! ends the machine; double fault, NMI and machine check run on their own
//! IST stacks (see [`crate::gdt`]). The reserved vectors 15, 22..=27 and 31
//! have no entry (raising one is a general protection fault). Vectors
//! 32..=255 go to [`interrupts::dispatch`](crate::interrupts::dispatch) and
//! return.

use core::arch::global_asm;

use spin::Once;
use x86_64::VirtAddr;
use x86_64::structures::idt::{Entry, EntryOptions, InterruptDescriptorTable};

use crate::gdt;

/// Bytes per entry stub.
const STUB_SIZE: u64 = 16;

/// The registers an interrupt stub saved, in memory order (lowest first).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs, reason = "register names")]
pub struct InterruptFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// The vector the stub pushed.
    pub vector: u64,
    /// The CPU's error code, or 0 for vectors without one.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

global_asm!(
    r#"
    # The stubs start their own section, so `.org` offsets are stub
    # offsets: `.org` fails to assemble if a stub outgrows its 16 bytes.
    .section .text.platform_interrupts, "ax"
    .balign 16
    .global platform_interrupt_stubs
platform_interrupt_stubs:
    .set vector, 0
    .rept 256
    # These vectors get an error code from the CPU; all others a dummy zero.
    .if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    push $0
    .endif
    push $vector
    jmp platform_interrupt_common
    .set vector, vector + 1
    .org vector * 16, 0xcc
    .endr

platform_interrupt_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call {entry}
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
    "#,
    entry = sym interrupt_entry,
    options(att_syntax)
);

unsafe extern "C" {
    /// The first of the 256 entry stubs (see the module docs).
    static platform_interrupt_stubs: u8;
}

/// Called by the common stub path with interrupts disabled.
extern "C" fn interrupt_entry(frame: &mut InterruptFrame) {
    match u8::try_from(frame.vector) {
        Ok(vector @ 32..) => crate::interrupts::dispatch(vector),
        _ => crate::exceptions::report(frame),
    }
}

/// The address of the stub for `vector`.
fn stub_address(vector: u8) -> VirtAddr {
    VirtAddr::from_ptr(&raw const platform_interrupt_stubs) + u64::from(vector) * STUB_SIZE
}

/// Points `entry` at the stub for `vector`.
fn install<F>(entry: &mut Entry<F>, vector: u8) -> &mut EntryOptions {
    // SAFETY: the stub for `vector` is a complete interrupt handler (it
    // saves all registers and returns with iretq, or ends the machine) and
    // it pushes a dummy error code exactly where the CPU pushes none, so it
    // fits every entry type.
    unsafe { entry.set_handler_addr(stub_address(vector)) }
}

/// Points every architecturally defined entry at its stub.
fn build() -> InterruptDescriptorTable {
    let mut idt = InterruptDescriptorTable::new();
    install(&mut idt.divide_error, 0);
    install(&mut idt.debug, 1);
    let nmi = install(&mut idt.non_maskable_interrupt, 2);
    // SAFETY: the index names an IST slot `gdt::init` filled with a stack
    // used by nothing else.
    unsafe { nmi.set_stack_index(gdt::NMI_STACK_INDEX) };
    install(&mut idt.breakpoint, 3);
    install(&mut idt.overflow, 4);
    install(&mut idt.bound_range_exceeded, 5);
    install(&mut idt.invalid_opcode, 6);
    install(&mut idt.device_not_available, 7);
    let double_fault = install(&mut idt.double_fault, 8);
    // SAFETY: as above, the double fault stack.
    unsafe { double_fault.set_stack_index(gdt::DOUBLE_FAULT_STACK_INDEX) };
    install(&mut idt[9], 9);
    install(&mut idt.invalid_tss, 10);
    install(&mut idt.segment_not_present, 11);
    install(&mut idt.stack_segment_fault, 12);
    install(&mut idt.general_protection_fault, 13);
    install(&mut idt.page_fault, 14);
    install(&mut idt.x87_floating_point, 16);
    install(&mut idt.alignment_check, 17);
    let machine_check = install(&mut idt.machine_check, 18);
    // SAFETY: as above, the machine check stack.
    unsafe { machine_check.set_stack_index(gdt::MACHINE_CHECK_STACK_INDEX) };
    install(&mut idt.simd_floating_point, 19);
    install(&mut idt.virtualization, 20);
    install(&mut idt.cp_protection_exception, 21);
    install(&mut idt.hv_injection_exception, 28);
    install(&mut idt.vmm_communication_exception, 29);
    install(&mut idt.security_exception, 30);
    for (vector, entry) in (32..=255).zip(idt.slice_mut(32..=255)) {
        install(entry, vector);
    }
    idt
}

static IDT: Once<InterruptDescriptorTable> = Once::new();

/// Builds and loads the IDT. Called once by the boot code after
/// `gdt::init` (the entries take the current code segment).
pub(crate) fn init() {
    IDT.call_once(build).load();
}
