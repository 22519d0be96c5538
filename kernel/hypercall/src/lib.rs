//! The hypercall interface: everything the portable kernel needs from a host.
//!
//! This crate is the contract between the anykernel (`kernel/base`, the
//! factions and their components) and whatever runs it: `hypercall-bm` on
//! bare metal, `hypercall-posix` inside a Linux process. It plays the part
//! of rumpuser(3) in the rump kernel papers: narrow, versioned, and
//! documented like a manual page. Read it first.
//!
//! # Shape
//!
//! The interface is one trait, [`Hypercalls`], composed of one trait per
//! group of calls, each in its own module:
//!
//! | group | trait | what |
//! | --- | --- | --- |
//! | init, parameters | [`Hypercalls`] | version handshake, boot parameters |
//! | memory | [`Memory`] | page-aligned allocation |
//! | threads | [`Threads`] | create, join, exit, yield, current, slot |
//! | synchronisation | [`Synchronization`] | mutex, condvar |
//! | clock | [`Clock`] | monotonic and wall time, sleep |
//! | console | [`Console`] | write bytes, never blocking |
//! | random | [`Random`] | cryptographic-quality random bytes |
//! | exit | [`Exit`] | end the host container with a status |
//! | interrupts | [`Interrupts`] | device interrupts delivered to threads |
//! | device memory | [`DeviceMemory`] via [`Hypercalls::device_memory`] | DMA, device addresses, register maps |
//! | device buses | [`PciBus`] via [`Hypercalls::pci`] | PCI functions, config, BARs, I/O ports |
//! | virtual NICs | [`VirtualNics`] via [`Hypercalls::virtual_nics`] | Ethernet frames to a host backend |
//! | stream endpoints | [`StreamEndpoints`] via [`Hypercalls::stream_endpoints`] | listening byte streams for remote clients |
//! | block devices | [`BlockDevices`] via [`Hypercalls::block_devices`] | asynchronous block I/O on a host's disks |
//! | stop requests | [`StopRequests`] via [`Hypercalls::stop_requests`] | the operator asks for an orderly stop (power button) |
//!
//! # Rules every implementation follows
//!
//! - **Blocking.** A call documented as *may block* can put the calling host
//!   thread to sleep. The kernel releases its virtual CPU before making such
//!   a call and takes it back afterwards; the implementation never needs to
//!   know about virtual CPUs. Calls not marked *may block* return without
//!   waiting for another thread.
//! - **Errors.** Failures that the kernel can handle (memory exhausted, no
//!   entropy source, a device that is absent) are `Err` values, never
//!   panics. A panic inside a hypercall means the host itself is broken.
//! - **Types.** Only fixed-width, ABI-neutral values cross: `u64`
//!   nanoseconds, byte slices, plain enums. No host structures.
//! - **Safety.** Where the kernel turns what a call returns into Rust
//!   references (memory blocks, DMA regions, register maps) or rests its
//!   exclusion on it (the host mutex behind the virtual CPU), the trait is
//!   `unsafe` to implement and says under *Implementation safety* what an
//!   implementation guarantees. Raw addresses reach the kernel only inside
//!   tokens a host made ([`DmaRegion`], [`MmioRegion`], [`PciBar`]), so
//!   safe kernel code can only touch what a host handed out.
//! - **Lifetimes.** Everything a host hands out stays valid until the
//!   kernel gives it back or, for mappings, until the kernel is dropped.
//! - **Threads.** Every call may be made from any thread the implementation
//!   created through [`Threads::thread_create`] and from the thread that
//!   called the kernel's `init`. Hosted implementations also accept calls
//!   from other host threads (implicit kernel threads).

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::sync::Arc;

mod block;
mod clock;
mod console;
mod device_memory;
mod exit;
mod interrupt;
mod memory;
mod nic;
mod pci;
mod random;
mod stop;
mod stream;
mod sync;
mod thread;
mod version;

pub use block::{
    BlockCompletion, BlockDevice, BlockDevices, BlockError, BlockGeometry, BlockOperation,
    BlockRequest,
};
pub use clock::Clock;
pub use console::Console;
pub use device_memory::{DeviceMemory, DmaRegion, MmioRegion};
pub use exit::{Exit, ExitStatus};
pub use interrupt::{HostInterrupt, InterruptError, InterruptSource, Interrupts, MsiMessage};
pub use memory::{Memory, MemoryError, PAGE_SIZE};
pub use nic::{MIN_FRAME, NicError, NicOffloads, VIRTIO_HEADER_LENGTH, VirtualNic, VirtualNics};
pub use pci::{
    BarKind, HEADER_BRIDGE, HEADER_DEVICE, IoWidth, PciAddress, PciBar, PciBus, PciError,
    PciFunction, PciHeaderWords, is_resource_register,
};
pub use random::{Random, RandomError};
pub use stop::StopRequests;
pub use stream::{StreamConnection, StreamEndpoints, StreamError, StreamListener};
pub use sync::{HostCondvar, HostMutex, Synchronization, WaitResult};
pub use thread::{ThreadEntry, ThreadError, ThreadId, ThreadSpec, Threads};
pub use version::{VERSION, Version};

/// The whole hypercall interface that a host implements for the kernel.
///
/// The kernel holds one `Arc<dyn Hypercalls>` per kernel instance; two
/// kernels in one process may share an implementation or use two.
pub trait Hypercalls:
    Memory + Threads + Synchronization + Clock + Console + Random + Exit + Interrupts + Send + Sync
{
    /// The interface version this implementation speaks.
    ///
    /// The kernel compares it with [`VERSION`] at `init` and refuses to boot
    /// on a mismatch (see [`Version::supports`]). Implementations return a
    /// literal of the version they were written for, not [`VERSION`] itself,
    /// so that the handshake means something. Never blocks.
    fn interface_version(&self) -> Version;

    /// One line naming the host, for the boot banner
    /// (e.g. `"bare metal x86_64, PVH boot"`). Never blocks.
    fn description(&self) -> &str;

    /// The boot parameters as one string of space-separated `key=value`
    /// words (the kernel command line on bare metal, the command line or the
    /// environment when hosted). The kernel parses it; the implementation
    /// only passes it on. Empty when there are none. Never blocks.
    fn boot_parameters(&self) -> &str;

    /// Device memory (DMA, device addresses, register maps), for device
    /// components, or `None` on hosts without devices (since 2.0). Shared,
    /// because a DMA buffer keeps it until the buffer is freed; every call
    /// returns a handle to the same object. Never blocks.
    fn device_memory(&self) -> Option<Arc<dyn DeviceMemory>> {
        None
    }

    /// The PCI bus, for device components, or `None` on hosts without one.
    /// Never blocks.
    fn pci(&self) -> Option<&dyn PciBus> {
        None
    }

    /// The virtual NICs, for the `virtif` component, or `None` on hosts
    /// without them (since version 1.1). Never blocks.
    fn virtual_nics(&self) -> Option<&dyn VirtualNics> {
        None
    }

    /// The listening stream endpoints, for the `sysproxy` component, or
    /// `None` on hosts without them (since version 2.1). Never blocks.
    fn stream_endpoints(&self) -> Option<&dyn StreamEndpoints> {
        None
    }

    /// The host's block devices, for the block layer, or `None` on hosts
    /// without them (since version 2.3; bare metal's disks are virtio
    /// devices the kernel drives itself). Never blocks.
    fn block_devices(&self) -> Option<&dyn BlockDevices> {
        None
    }

    /// The host's stop requests (the power button on bare metal), or
    /// `None` on hosts that cannot tell when to stop (since version 2.5).
    /// The first call may set the source up (bare metal arms the button
    /// then) and says once on the console why there is none; later calls
    /// return the same. Never blocks.
    fn stop_requests(&self) -> Option<&dyn StopRequests> {
        None
    }
}
