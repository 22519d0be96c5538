//! The doors virtio-drivers needs to the machine, over our hypercalls.
//!
//! - [`KernelHal`]: the crate's `Hal` (DMA pages from `dma_allocate`,
//!   `share` through `virt_to_phys`, device registers through
//!   `mmio_map`). Its methods take no `self`, so the host they use is a
//!   process-wide value, installed by the first device probe
//!   ([`install`]); a second kernel with another host in the same process
//!   gets no virtio devices (an error, not a mix-up). Only bare metal has
//!   DMA, and it runs one kernel.
//! - [`PciConfiguration`]: `ConfigurationAccess` over [`PciBus`], for
//!   the crate's PCI transport.
//! - [`mmio_transport`]: the MMIO transport over a block `mmio_map` gave.
//!
//! This file and `rings.rs` are the component's only unsafe code.

#![allow(unsafe_code, reason = "the virtio-drivers Hal is an unsafe trait")]

use alloc::sync::Arc;
use core::ptr::NonNull;

use base::Context;
use base::hypercall::{DmaRegion, Hypercalls, PAGE_SIZE, PciAddress, PciBus};
use dev::DevError;
use virtio_drivers::transport::mmio::{MmioError, MmioTransport};
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// The host the Hal reaches (see the module docs).
static HOST: spin::Once<Arc<dyn Hypercalls>> = spin::Once::new();

/// Makes `context`'s host the one [`KernelHal`] uses.
///
/// # Errors
/// [`DevError::Unusable`] when another host was installed first, or the
/// host cannot tell device addresses of kernel memory.
pub(crate) fn install(context: &Context<'_>) -> Result<(), DevError> {
    let host = context.kernel().hypercalls_arc();
    let installed = HOST.call_once(|| host.clone());
    if !core::ptr::addr_eq(Arc::as_ptr(installed), Arc::as_ptr(host)) {
        return Err(DevError::Unusable("virtio serves one host per process"));
    }
    let probe = 0u8;
    if host.virt_to_phys(&probe).is_none() {
        return Err(DevError::Unusable("the host gives no DMA addresses"));
    }
    Ok(())
}

fn host() -> &'static dyn Hypercalls {
    &**HOST
        .get()
        .expect("installed by the probe before any device exists")
}

/// The virtio-drivers `Hal` over the memory hypercalls.
#[derive(Debug)]
pub(crate) struct KernelHal;

// SAFETY: `dma_alloc` returns the host's zeroed, page-aligned DMA pages,
// owned by the caller until `dma_dealloc` (the `dma_allocate` contract);
// `mmio_phys_to_virt` returns the host's uncached mapping of device
// registers; `share` returns the device address of memory the caller
// lends, which on our hosts needs no copy, so `unshare` has nothing to do.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let region = pages
            .checked_mul(PAGE_SIZE)
            .map(|size| host().dma_allocate(size));
        match region {
            Some(Ok(region)) => (region.phys, region.virt),
            // Physical address 0 is how the crate hears of a failure.
            _ => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let region = DmaRegion {
            virt: vaddr,
            phys: paddr,
            size: pages * PAGE_SIZE,
        };
        // SAFETY: the caller passes back what `dma_alloc` returned for
        // `pages` pages (the trait's contract), i.e. the host's region.
        unsafe { host().dma_free(region) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        // The probe mapped every register block the transport will ask
        // for before creating it (`pci.rs`), so this maps nothing new.
        host()
            .mmio_map(paddr, size)
            .expect("register blocks are mapped by the probe first")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        // Kernel memory is physically contiguous where the host maps it
        // (bare metal: identity-mapped), so the first byte's address is
        // the buffer's.
        host()
            .virt_to_phys(buffer.as_ptr().cast::<u8>())
            .expect("install() checked that the host gives DMA addresses")
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// PCI configuration access for the crate's transport, over [`PciBus`].
pub(crate) struct PciConfiguration<'a> {
    bus: &'a dyn PciBus,
}

impl<'a> PciConfiguration<'a> {
    pub(crate) fn new(bus: &'a dyn PciBus) -> Self {
        Self { bus }
    }
}

fn address(function: DeviceFunction) -> PciAddress {
    PciAddress {
        bus: function.bus,
        device: function.device,
        function: function.function,
    }
}

impl ConfigurationAccess for PciConfiguration<'_> {
    fn read_word(&self, function: DeviceFunction, offset: u8) -> u32 {
        // An unreadable register reads as an absent device's would.
        self.bus
            .config_read(address(function), u16::from(offset))
            .unwrap_or(u32::MAX)
    }

    fn write_word(&mut self, function: DeviceFunction, offset: u8, data: u32) {
        // Writes to invalid offsets go nowhere, as on the bus.
        let _ = self
            .bus
            .config_write(address(function), u16::from(offset), data);
    }

    unsafe fn unsafe_clone(&self) -> Self {
        Self { bus: self.bus }
    }
}

/// The MMIO transport over `size` bytes at `virt`, which `mmio_map`
/// returned for a virtio-mmio register block.
///
/// # Errors
/// [`DevError::Unusable`] for a misaligned block, one without the virtio
/// magic, of an unknown device type or version, or too small.
pub(crate) fn mmio_transport(
    virt: NonNull<u8>,
    size: usize,
) -> Result<MmioTransport<'static>, DevError> {
    if !virt.as_ptr().cast::<u32>().is_aligned() {
        return Err(DevError::Unusable(
            "virtio-mmio registers not 4-byte aligned",
        ));
    }
    // SAFETY: `virt` is the host's uncached mapping of `size` bytes of
    // device registers (the `mmio_map` contract), kept for the kernel's
    // lifetime, 4-byte aligned (checked above); the caller owns the block
    // (one transport per command-line device).
    let transport = unsafe { MmioTransport::new(virt.cast(), size) };
    transport.map_err(|error| {
        DevError::Unusable(match error {
            MmioError::BadMagic(_) => "no virtio-mmio device there (bad magic)",
            MmioError::UnsupportedVersion(_) => "unsupported virtio-mmio version",
            MmioError::InvalidDeviceID(_) => "no device behind this virtio-mmio slot",
            MmioError::MmioRegionTooSmall => "virtio-mmio region too small",
        })
    })
}
