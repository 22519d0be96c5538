//! Smallest bootable image: prints a line and exits QEMU with success.

#![no_std]
#![no_main]

use platform::boot::BootInfo;

platform::entry_point!(main);

fn main(info: &'static BootInfo) -> ! {
    platform::println!("hello from the platform example ({:?})", info.loader);
    platform::power::exit(platform::power::EXIT_SUCCESS)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    platform::println!("panic: {info}");
    platform::power::exit(platform::power::failure_value(63))
}
