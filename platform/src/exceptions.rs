//! CPU exception reports: name, registers, backtrace, then exit code 62.
//!
//! Every exception is fatal: the image has no demand paging, no FPU
//! emulation and no debugger protocol in the guest. The report, per the
//! protocol notes, is
//!
//! ```text
//! exception: page fault (vector 14, error code 0x2)
//! RIP=0x... RSP=0x... RFLAGS=0x... CS=0x8 SS=0x10
//! RAX=... (all general registers)
//! CR0=0x... CR2=0x... CR3=0x... CR4=0x...     (CR2 for page faults only)
//! backtrace:
//!   #0 0x... <symbol>+0x...                    (the faulting instruction)
//!   #1 ...
//! ```
//!
//! followed by `power::exit(failure_value(62))`. An exception while a
//! report (panic or exception) is already being printed gets one short line.

use x86_64::registers::control::{Cr0, Cr2, Cr3, Cr4};

use crate::idt::InterruptFrame;
use crate::panic::{Report, enter_report};
use crate::{backtrace, console, power, println};

/// The failure code of a CPU exception (QEMU exit status 253).
pub const EXCEPTION_FAILURE_CODE: u8 = 62;

/// Vector number of the page fault, whose report includes CR2.
const PAGE_FAULT: u64 = 14;

/// The architectural names of vectors 0..=31.
const NAMES: [&str; 32] = [
    "divide error",
    "debug",
    "non-maskable interrupt",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved (15)",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point error",
    "virtualization exception",
    "control protection exception",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "hypervisor injection exception",
    "VMM communication exception",
    "security exception",
    "reserved (31)",
];

/// The name of exception `vector`.
pub fn name(vector: u64) -> &'static str {
    usize::try_from(vector)
        .ok()
        .and_then(|index| NAMES.get(index))
        .copied()
        .unwrap_or("unknown vector")
}

/// Reports the exception in `frame` and ends the machine. Called by the
/// IDT dispatcher for vectors 0..=31, with interrupts disabled.
pub(crate) fn report(frame: &InterruptFrame) -> ! {
    let name = name(frame.vector);
    match enter_report() {
        Report::First => {}
        Report::Nested => {
            console::seize_for_report();
            println!(
                "exception: {name} (vector {}) while reporting; stopping",
                frame.vector
            );
            power::exit(power::failure_value(EXCEPTION_FAILURE_CODE))
        }
        Report::Abandoned => power::exit(power::failure_value(EXCEPTION_FAILURE_CODE)),
    }
    console::seize_for_report();
    println!(
        "exception: {name} (vector {}, error code {:#x})",
        frame.vector, frame.error_code
    );
    print_registers(frame);
    backtrace::print(Some(frame.rip), frame.rbp);
    power::exit(power::failure_value(EXCEPTION_FAILURE_CODE))
}

/// Prints the saved general registers and the control registers.
fn print_registers(frame: &InterruptFrame) {
    let f = frame;
    println!(
        "RIP={:#x} RSP={:#x} RFLAGS={:#x} CS={:#x} SS={:#x}",
        f.rip, f.rsp, f.rflags, f.cs, f.ss
    );
    println!(
        "RAX={:#x} RBX={:#x} RCX={:#x} RDX={:#x}",
        f.rax, f.rbx, f.rcx, f.rdx
    );
    println!(
        "RSI={:#x} RDI={:#x} RBP={:#x} R8={:#x}",
        f.rsi, f.rdi, f.rbp, f.r8
    );
    println!(
        "R9={:#x} R10={:#x} R11={:#x} R12={:#x}",
        f.r9, f.r10, f.r11, f.r12
    );
    println!("R13={:#x} R14={:#x} R15={:#x}", f.r13, f.r14, f.r15);
    let (cr3_frame, cr3_flags) = Cr3::read_raw();
    let cr3 = cr3_frame.start_address().as_u64() | u64::from(cr3_flags);
    if f.vector == PAGE_FAULT {
        let cr2 = Cr2::read_raw();
        println!(
            "CR0={:#x} CR2={cr2:#x} CR3={cr3:#x} CR4={:#x}",
            Cr0::read_raw(),
            Cr4::read_raw()
        );
        println!("page fault: {}", PageFaultCause(f.error_code));
    } else {
        println!(
            "CR0={:#x} CR3={cr3:#x} CR4={:#x}",
            Cr0::read_raw(),
            Cr4::read_raw()
        );
    }
}

/// The page-fault error code in words.
struct PageFaultCause(u64);

impl core::fmt::Display for PageFaultCause {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let bit = |number: u32| self.0 & (1 << number) != 0;
        f.write_str(if bit(0) {
            "protection violation"
        } else {
            "page not present"
        })?;
        f.write_str(if bit(4) {
            ", instruction fetch"
        } else if bit(1) {
            ", write"
        } else {
            ", read"
        })?;
        if bit(3) {
            f.write_str(", reserved bit set")?;
        }
        Ok(())
    }
}
