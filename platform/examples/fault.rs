//! Triggers the CPU exception the command line names, to test the reports.
//!
//! `fault=<kind>` with kind one of `invalid-opcode` (ud2), `page` (read at
//! 64 GiB, beyond the identity map), `general-protection` (read at a
//! non-canonical address), `divide` (div by zero), `breakpoint` (int3),
//! `guard-page` (write the boot stack's guard page), `in-println` (ud2
//! inside a `println!`, with the console lock held) or `stack-overflow`
//! (unbounded recursion: a page fault on the guard page that cannot push
//! its frame, hence a double fault on the IST stack). Every kind must end
//! with the exception report and QEMU exit status 253; an unknown kind
//! exits with failure 1.

#![cfg_attr(target_os = "none", no_std, no_main)]

/// On the host (`cargo test` builds every example) this is an empty program.
#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod image {
    use core::arch::asm;
    use core::hint::black_box;

    use platform::boot::BootInfo;

    platform::entry_point!(main);

    fn main(info: &'static BootInfo) -> ! {
        let kind = info
            .command_line
            .as_str()
            .split(' ')
            .find_map(|word| word.strip_prefix("fault="));
        platform::println!("fault example: triggering {kind:?}");
        match kind {
            Some("invalid-opcode") => invalid_opcode(),
            Some("page") => read(0x10_0000_0000),
            Some("general-protection") => read(0x8000_0000_0000_0000),
            Some("divide") => divide_by_zero(),
            Some("breakpoint") => breakpoint(),
            Some("guard-page") => write(platform::boot::stack_guard().start + 64),
            Some("in-println") => platform::println!("formatting: {}", FaultsWhenFormatted),
            Some("stack-overflow") => platform::println!("depth {}", recurse(0)),
            _ => {}
        }
        platform::println!("fault example: no fault for {kind:?}");
        platform::power::exit(platform::power::failure_value(1))
    }

    /// A value whose formatting raises #UD.
    struct FaultsWhenFormatted;

    impl core::fmt::Display for FaultsWhenFormatted {
        fn fmt(&self, _: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            invalid_opcode();
            Ok(())
        }
    }

    #[inline(never)]
    fn invalid_opcode() {
        // SAFETY: deliberately raises #UD, which ends the machine.
        unsafe { asm!("ud2") };
    }

    #[inline(never)]
    fn breakpoint() {
        // SAFETY: deliberately raises #BP, which ends the machine.
        unsafe { asm!("int3") };
    }

    #[inline(never)]
    fn divide_by_zero() {
        let divisor: u64 = black_box(0);
        // SAFETY: deliberately raises #DE (Rust's `/` would panic instead).
        unsafe { asm!("div {0}", in(reg) divisor, inout("rax") 1u64 => _, inout("rdx") 0u64 => _) };
    }

    #[inline(never)]
    fn read(address: u64) {
        // SAFETY: deliberately reads an unmapped or non-canonical address,
        // which raises #PF or #GP and ends the machine.
        let value = unsafe { core::ptr::read_volatile(address as *const u64) };
        black_box(value);
    }

    #[inline(never)]
    fn write(address: u64) {
        // SAFETY: deliberately writes the unmapped guard page (#PF).
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

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        platform::panic::report(info)
    }
}
