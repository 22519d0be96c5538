//! Smallest bootable image: prints a line and exits QEMU with success.
//!
//! The line includes the TSC cycles from the first instruction of the
//! entry code to `main` (console, GDT, IDT and boot information set-up).

#![cfg_attr(target_os = "none", no_std, no_main)]

/// On the host (`cargo test` builds every example) this is an empty program.
#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod image {
    use platform::boot::BootInfo;

    platform::entry_point!(main);

    fn main(info: &'static BootInfo) -> ! {
        // SAFETY: rdtsc only reads the time-stamp counter.
        let now = unsafe { core::arch::x86_64::_rdtsc() };
        let cycles = now.wrapping_sub(info.entry_tsc);
        platform::println!(
            "hello from the platform example ({:?}, {cycles} cycles from entry)",
            info.loader
        );
        platform::power::exit(platform::power::EXIT_SUCCESS)
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        platform::panic::report(info)
    }
}
