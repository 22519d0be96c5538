//! Checks the IDT's return path: `int 0x41` must come back with every
//! register intact.
//!
//! Vector 0x41 goes through the entry stub and `interrupts::dispatch` (no
//! handler is registered, so dispatch only counts it) and returns with
//! `iretq`. The example loads thirteen registers with distinct values, raises
//! the interrupt 1000 times and compares them afterwards; it exits with
//! success if they all survived, failure 1 otherwise.

#![cfg_attr(target_os = "none", no_std, no_main)]

/// On the host (`cargo test` builds every example) this is an empty program.
#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod image {
    use core::arch::asm;

    use platform::boot::BootInfo;

    platform::entry_point!(main);

    /// Raises vector 0x41 with known values in the scratch and callee-saved
    /// registers; returns what the registers hold afterwards.
    fn interrupt_with(values: [u64; 13]) -> [u64; 13] {
        let mut out = values;
        let [a, c, d, si, di, r8, r9, r10, r11, r12, r13, r14, r15] = &mut out;
        // SAFETY: `int 0x41` enters the platform's interrupt stub, which
        // saves and restores every general register and returns with iretq;
        // all registers it could change are declared as in/out operands.
        unsafe {
            asm!(
                "int 0x41",
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

    fn main(_: &'static BootInfo) -> ! {
        let values: [u64; 13] =
            core::array::from_fn(|index| 0x0101_0101_0101_0101 * (index as u64 + 1));
        let intact = (0..1000).all(|_| interrupt_with(values) == values);
        if intact {
            platform::println!("software interrupt: PASS");
            platform::power::exit(platform::power::EXIT_SUCCESS)
        }
        platform::println!("software interrupt: FAIL registers changed");
        platform::power::exit(platform::power::failure_value(1))
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        platform::panic::report(info)
    }
}
