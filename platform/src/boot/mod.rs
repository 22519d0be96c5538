//! From the loader's hand-off to the image's main function.
//!
//! [`entry::_start32`](entry) switches to long mode and calls `entry64`,
//! which, in this order: brings up the console and prints
//! `anykernel: boot via <PVH|multiboot2>`; loads the kernel GDT and TSS
//! ([`gdt`](crate::gdt)) and the IDT ([`idt`](crate::idt)), so every later
//! fault is reported; parses the loader's boot information into
//! [`BootInfo`] before anything allocates (see [`crate::bootinfo`]); prints
//! its warnings; then calls the function the image named with
//! [`entry_point!`](crate::entry_point). That function runs on the 64 KiB
//! boot stack (with a guard page below it) with interrupts disabled.
//!
//! Unusable boot information (no memory map, a bad pointer, no usable RAM)
//! is reported as `anykernel: cannot boot: <reason>` and ends the machine
//! with failure code [`BOOT_FAILURE_CODE`].

pub mod entry;
pub(crate) mod info;
pub mod trace;

use spin::Once;

pub use crate::bootinfo::{BootInfo, Loader, MemoryRegion};

/// The failure code when the boot information is unusable (QEMU exit
/// status 251).
pub const BOOT_FAILURE_CODE: u8 = 61;

static BOOT_INFO: Once<BootInfo> = Once::new();

unsafe extern "C" {
    /// Written by the entry code before anything else.
    static platform_entry_tsc: u64;
    /// First byte of the image (`link.ld`).
    static __kernel_start: u8;
    /// The unmapped page below the boot stack (`entry.rs`).
    static platform_boot_stack_guard: u8;
}

unsafe extern "Rust" {
    /// The image's main function, defined by [`entry_point!`](crate::entry_point).
    fn platform_main(info: &'static BootInfo) -> !;
}

/// Physical address of the image's first byte.
pub fn image_start() -> u64 {
    (&raw const __kernel_start) as u64
}

/// Physical address just past everything the loader loaded: code, data,
/// `.bss` and the embedded symbol table at its actual length.
pub fn image_end() -> u64 {
    crate::symbols::embedded_start() + crate::symbols::embedded_bytes().len() as u64
}

/// The unmapped 4 KiB guard page below the boot stack.
pub fn stack_guard() -> MemoryRegion {
    MemoryRegion::with_length((&raw const platform_boot_stack_guard) as u64, 4096)
}

/// The boot information, once `entry64` has parsed it.
pub fn boot_info() -> Option<&'static BootInfo> {
    BOOT_INFO.get()
}

/// The first Rust code: runs on the boot stack with interrupts off.
extern "C" fn entry64(loader_magic: u32, loader_info: u32) -> ! {
    trace::mark("long mode");
    crate::console::init();
    trace::mark("console");
    let loader = if loader_magic == entry::MULTIBOOT2_LOADER_MAGIC {
        Loader::Multiboot2
    } else {
        Loader::Pvh
    };
    crate::println!("anykernel: boot via {loader}");
    crate::gdt::init();
    crate::idt::init();
    trace::mark("gdt, idt");
    // SAFETY: the entry code wrote the symbol once, before calling us, and
    // nothing writes it again.
    let entry_tsc = unsafe { core::ptr::read_volatile(&raw const platform_entry_tsc) };
    let info = BOOT_INFO.call_once(|| info::collect(loader, u64::from(loader_info), entry_tsc));
    for warning in info.warnings.iter() {
        crate::println!("anykernel: warning: {warning}");
    }
    crate::backtrace::set_readable_memory(&info.usable_memory);
    trace::mark("boot information");
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
