//! The hypercall interface on bare-metal x86_64: `platform` + `scheduler`.
//!
//! An image names its main function with [`entry_point!`]; [`start`] then
//! brings the machine up in this order: heap from the boot memory map,
//! interrupt controllers, timer calibration, wall clock and PCI
//! (`platform::machine::init`), the scheduler (adopting the boot stack as
//! its first thread), interrupts on, the random source, and finally the
//! image's main function with the [`BareMetal`] host. What main returns
//! becomes the machine's exit status.
//!
//! Everything here runs on one CPU without preemption. Interrupt handlers
//! only set flags; the scheduler turns them into thread wakeups
//! ([`machine`]). Only the random source's pure parts build on the host,
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
pub mod diagnostics;
#[cfg(target_os = "none")]
mod global;
#[cfg(target_os = "none")]
mod heap;
#[cfg(target_os = "none")]
mod interrupts;
#[cfg(target_os = "none")]
mod machine;
#[cfg(target_os = "none")]
mod pci;
#[cfg(target_os = "none")]
mod start;
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
