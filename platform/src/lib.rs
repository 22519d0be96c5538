//! x86_64 machine support for the bare-metal anykernel image.
//!
//! Everything that touches the machine directly lives here: the boot entry
//! (PVH and multiboot2), CPU tables, exceptions, the serial console, timers,
//! interrupt controllers, ACPI tables, PCI configuration and reset. `hypercall-bm` builds
//! the hypercall interface on top of it; kernel crates never see it.
//!
//! Boot-time and hardware code is compiled only for `target_os = "none"`;
//! pure parts (parsers of boot information, symbol tables) also build on
//! the host so that their unit tests run there.

#![no_std]

#[cfg(test)]
extern crate std;

pub mod acpi;
pub mod backtrace;
#[cfg(target_os = "none")]
pub mod boot;
pub mod bootinfo;
#[cfg(target_os = "none")]
pub mod bring_up;
#[cfg(target_os = "none")]
pub mod console;
pub mod cpu;
#[cfg(target_os = "none")]
pub mod exceptions;
#[cfg(target_os = "none")]
pub mod faults;
#[cfg(target_os = "none")]
pub mod gdt;
#[cfg(target_os = "none")]
pub mod idt;
#[cfg(target_os = "none")]
pub mod interrupts;
#[cfg(target_os = "none")]
mod mmio;
#[cfg(target_os = "none")]
pub mod paging;
#[cfg(target_os = "none")]
pub mod panic;
pub mod pci;
#[cfg(target_os = "none")]
mod port;
#[cfg(target_os = "none")]
pub mod power;
pub mod rtc;
pub mod symbols;
pub mod timer;
