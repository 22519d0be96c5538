//! The hypercall interface on bare-metal x86_64: `platform` + `scheduler`.
//!
//! An image names its main function with `entry_point!`; `start` then
//! brings the machine up in this order: heap from the boot memory map,
//! interrupt controllers and timer calibration (`platform::bring_up::init`),
//! the scheduler (adopting the boot stack as its first thread), interrupts
//! on, the random source, and finally the image's main function with the
//! `BareMetal` host. What main returns becomes the machine's exit status.
//! The wall clock and PCI are set up at their first use (the RTC read at
//! the first `clock_wall_ns`, the PCI scan at the first `pci()`): boot
//! time under emulation is mostly first-run code, so boot runs only what
//! the kernel needs to start. `boot.trace` on the command line prints the
//! time of each boot phase (`boot_trace.rs`).
//!
//! Everything here runs on one CPU without preemption. Interrupt handlers
//! only set flags; the scheduler turns them into thread wakeups
//! (`scheduling.rs`). Only the random source's pure parts build on the host,
//! for their unit tests.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[allow(dead_code, reason = "wired in on bare metal only; tested on the host")]
mod random;

#[cfg(target_os = "none")]
mod bare_metal;
#[cfg(target_os = "none")]
mod boot_trace;
#[cfg(target_os = "none")]
mod device_memory;
#[cfg(target_os = "none")]
mod global;
#[cfg(target_os = "none")]
mod heap;
#[cfg(target_os = "none")]
mod interrupt_threads;
#[cfg(target_os = "none")]
mod pci_bus;
#[cfg(target_os = "none")]
pub mod probes;
#[cfg(target_os = "none")]
mod scheduling;
#[cfg(target_os = "none")]
mod start;
#[cfg(target_os = "none")]
mod stop;
#[cfg(target_os = "none")]
mod sync;
#[cfg(target_os = "none")]
mod threads;

#[cfg(target_os = "none")]
pub use bare_metal::BareMetal;
#[cfg(target_os = "none")]
pub use start::start;
#[cfg(target_os = "none")]
pub use {hypercall, platform};

/// Names the image's main function, `fn(Arc<BareMetal>) -> ExitStatus`.
#[cfg(target_os = "none")]
#[macro_export]
macro_rules! entry_point {
    ($main:path) => {
        $crate::platform::entry_point!(__hypercall_bm_boot);

        fn __hypercall_bm_boot(info: &'static $crate::platform::boot::BootInfo) -> ! {
            $crate::start(info, $main)
        }
    };
}
