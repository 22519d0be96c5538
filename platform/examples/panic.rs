//! Panics in the way the command line names, to test the panic report.
//!
//! `panic=<kind>`: `plain` (a panic with a message), `in-println` (a
//! `Display` that panics inside `println!`, i.e. while the console lock is
//! held) or `nested` (a panic message whose formatting panics, i.e. a panic
//! while reporting). Each must print its report and exit with QEMU status
//! 255. `fault-in-report` (a panic message whose formatting executes ud2)
//! must print the short nested-exception line and exit with status 253. An
//! unknown kind exits with failure 1.

#![cfg_attr(target_os = "none", no_std, no_main)]

/// On the host (`cargo test` builds every example) this is an empty program.
#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod image {
    use core::fmt;

    use platform::boot::BootInfo;

    platform::entry_point!(main);

    /// A value whose formatting panics.
    struct PanicsWhenFormatted;

    impl fmt::Display for PanicsWhenFormatted {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("formatting panicked")
        }
    }

    /// A value whose formatting raises #UD.
    struct FaultsWhenFormatted;

    impl fmt::Display for FaultsWhenFormatted {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            // SAFETY: deliberately raises #UD, which ends the machine.
            unsafe { core::arch::asm!("ud2") };
            Ok(())
        }
    }

    fn main(info: &'static BootInfo) -> ! {
        let kind = info
            .command_line
            .as_str()
            .split(' ')
            .find_map(|word| word.strip_prefix("panic="));
        platform::println!("panic example: {kind:?}");
        match kind {
            Some("plain") => plain(3),
            Some("in-println") => platform::println!("value: {}", PanicsWhenFormatted),
            Some("nested") => panic!("outer: {}", PanicsWhenFormatted),
            Some("fault-in-report") => panic!("outer: {}", FaultsWhenFormatted),
            _ => {}
        }
        platform::println!("panic example: no panic for {kind:?}");
        platform::power::exit(platform::power::failure_value(1))
    }

    #[inline(never)]
    fn plain(answer: u32) {
        let answer = core::hint::black_box(answer);
        if answer != 42 {
            panic!("the answer is {answer}, not 42");
        }
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        platform::panic::report(info)
    }
}
