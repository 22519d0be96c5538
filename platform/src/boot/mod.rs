//! From the loader's hand-off to the image's main function.
//!
//! [`entry::_start32`](entry) switches to long mode and calls [`entry64`],
//! which brings up the console, records the boot information and calls the
//! function the image named with [`entry_point!`](crate::entry_point).

pub mod entry;

use core::fmt;

use spin::Once;

/// Which loader started the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// PVH direct boot (QEMU `-kernel`, microvm, Firecracker-style VMMs).
    Pvh,
    /// multiboot2 (GRUB on hardware, BIOS or UEFI).
    Multiboot2,
}

impl fmt::Display for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pvh => "PVH",
            Self::Multiboot2 => "multiboot2",
        })
    }
}

/// What the platform learned at boot.
#[derive(Debug)]
pub struct BootInfo {
    /// The loader that started the image.
    pub loader: Loader,
    /// Physical address of the loader's boot information structure.
    pub loader_info: u64,
    /// The time-stamp counter when the first instruction ran.
    pub entry_tsc: u64,
}

static BOOT_INFO: Once<BootInfo> = Once::new();

unsafe extern "C" {
    /// Written by the entry code before anything else.
    static platform_entry_tsc: u64;
}

unsafe extern "Rust" {
    /// The image's main function, defined by [`entry_point!`](crate::entry_point).
    fn platform_main(info: &'static BootInfo) -> !;
}

/// The first Rust code: runs on the boot stack with interrupts off.
extern "C" fn entry64(loader_magic: u32, loader_info: u32) -> ! {
    crate::console::init();
    let loader = if loader_magic == entry::MULTIBOOT2_LOADER_MAGIC {
        Loader::Multiboot2
    } else {
        Loader::Pvh
    };
    crate::println!("anykernel: boot via {loader}");
    // SAFETY: the entry code wrote the symbol once, before calling us, and
    // nothing writes it again.
    let entry_tsc = unsafe { core::ptr::read_volatile(&raw const platform_entry_tsc) };
    let info = BOOT_INFO.call_once(|| BootInfo {
        loader,
        loader_info: u64::from(loader_info),
        entry_tsc,
    });
    // SAFETY: `entry_point!` defines `platform_main` with exactly this
    // signature; an image without it does not link.
    unsafe { platform_main(info) }
}

/// Names the image's main function, `fn(&'static BootInfo) -> !`.
#[macro_export]
macro_rules! entry_point {
    ($main:path) => {
        #[unsafe(no_mangle)]
        fn platform_main(info: &'static $crate::boot::BootInfo) -> ! {
            let main: fn(&'static $crate::boot::BootInfo) -> ! = $main;
            main(info)
        }
    };
}
