//! The doors virtio-drivers needs to the machine, over our hypercalls.
//!
//! - [`KernelHal`]: the crate's `Hal`: DMA pages from `dma_allocate`,
//!   `share` through `virt_to_phys`, and device registers from the
//!   mappings the host handed out (`register`: the PCI probe registers
//!   its BARs, the MMIO probe its `mmio_map` block). Its methods take no
//!   `self`, so the device memory and the mappings they use are
//!   process-wide values, installed by the first device probe
//!   ([`install`]); a second kernel with another host in the same process
//!   gets no virtio devices (an error, not a mix-up). Only bare metal has
//!   device memory, and it runs one kernel.
//! - `mmio_transport`: the MMIO transport over a block `mmio_map` gave,
//!   and `mmio_device_id`: which device sits there, read without making
//!   a transport (dropping one resets the device, which must not happen
//!   to a device another driver serves).
//!
//! This file is the crate's only unsafe code.

#![allow(unsafe_code, reason = "the virtio-drivers Hal is an unsafe trait")]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;

use base::Context;
use base::hypercall::{DeviceMemory, DmaRegion, MemoryError, MmioRegion, PAGE_SIZE};
use dev::DevError;
use virtio_drivers::transport::mmio::{MmioError, MmioTransport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// The device memory the Hal reaches (see the module docs).
static DEVICE_MEMORY: spin::Once<Arc<dyn DeviceMemory>> = spin::Once::new();
/// Every register mapping a probe registered, for `mmio_phys_to_virt`.
static MAPPINGS: spin::Mutex<Vec<MmioRegion>> = spin::Mutex::new(Vec::new());

/// Makes `context`'s host the one [`KernelHal`] uses.
///
/// # Errors
/// [`DevError::Memory`] on a host without device memory;
/// [`DevError::Unusable`] when another host was installed first, or the
/// host cannot tell device addresses of kernel memory.
pub fn install(context: &Context<'_>) -> Result<(), DevError> {
    let host = context.kernel().hypercalls().device_memory();
    let host = host.ok_or(DevError::Memory(MemoryError::Unsupported))?;
    let installed = DEVICE_MEMORY.call_once(|| host.clone());
    if !Arc::ptr_eq(installed, &host) {
        return Err(DevError::Unusable("virtio serves one host per process"));
    }
    let probe = 0u8;
    if host.virt_to_phys(&probe, 1).is_none() {
        return Err(DevError::Unusable("the host gives no DMA addresses"));
    }
    Ok(())
}

/// Installs `memory` for the host tests, whose kernels run on a host
/// without device memory (the first call wins, as in [`install`]).
#[cfg(feature = "fake")]
pub fn install_for_tests(memory: Arc<dyn DeviceMemory>) {
    DEVICE_MEMORY.call_once(|| memory);
}

fn device_memory() -> &'static dyn DeviceMemory {
    &**DEVICE_MEMORY
        .get()
        .expect("installed by the probe before any device exists")
}

/// Makes `region` reachable through `mmio_phys_to_virt`.
pub(crate) fn register(region: MmioRegion) {
    let mut mappings = MAPPINGS.lock();
    if !mappings.contains(&region) {
        mappings.push(region);
    }
}

/// Where the kernel reaches `size` bytes of registers at `phys`, if a
/// registered mapping covers them.
fn registered(phys: u64, size: usize) -> Option<NonNull<u8>> {
    let mappings = MAPPINGS.lock();
    let region = mappings.iter().find(|region| region.covers(phys, size))?;
    let offset = usize::try_from(phys - region.phys()).ok()?;
    NonNull::new(region.as_ptr().as_ptr().wrapping_add(offset))
}

/// Registers no device owns, for a transport that asks for registers no
/// probe registered (a device whose capabilities changed between the
/// probe's read and the transport's). Only ever reached through raw
/// pointers, with volatile accesses, by that transport.
struct Scratch(UnsafeCell<[u64; PAGE_SIZE / 8]>);

// SAFETY: the block is only reached through raw pointers by virtio-drivers'
// volatile register accesses; its contents mean nothing to anyone.
unsafe impl Sync for Scratch {}

static SCRATCH: Scratch = Scratch(UnsafeCell::new([0; PAGE_SIZE / 8]));

/// The virtio-drivers `Hal` over the device-memory hypercalls.
#[derive(Debug)]
pub struct KernelHal;

// SAFETY: `dma_alloc` returns the host's zeroed, page-aligned DMA pages,
// owned by the caller until `dma_dealloc` (the `DeviceMemory` contract);
// `mmio_phys_to_virt` returns a host mapping of device registers that the
// probe registered, alive until the kernel is dropped (or, for registers
// no probe registered, a scratch block nothing else uses); `share`
// returns the device address of the whole buffer the caller lends, which
// on our hosts needs no copy, so `unshare` has nothing to do.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let region = pages
            .checked_mul(PAGE_SIZE)
            .map(|size| device_memory().dma_allocate(size));
        match region {
            // Taken apart for the crate; `dma_dealloc` rebuilds it.
            Some(Ok(region)) => (region.phys(), region.virt()),
            // Physical address 0 is how the crate hears of a failure.
            _ => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: the caller passes back what `dma_alloc` returned for
        // `pages` pages (the trait's contract): the parts of the host's
        // region, rebuilt unchanged.
        let region = unsafe { DmaRegion::new(vaddr, paddr, pages * PAGE_SIZE) };
        // SAFETY: that region came from this host's `dma_allocate`, and the
        // crate frees it only once the device is done with it.
        unsafe { device_memory().dma_free(region) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        registered(paddr, size).unwrap_or_else(|| {
            log::warn!("virtio: registers at {paddr:#x} were not mapped by the probe");
            NonNull::new(SCRATCH.0.get().cast::<u8>()).expect("a static is not null")
        })
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        device_memory()
            .virt_to_phys(buffer.as_ptr().cast::<u8>(), buffer.len())
            .expect("all kernel memory has device addresses on hosts that pass install()")
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// The virtio-mmio magic value, "virt" little-endian.
const MMIO_MAGIC: u32 = 0x7472_6976;

/// The device ID in the virtio-mmio register block `region`, or `None`
/// when the block is too small, misaligned, or lacks the magic. Reads the
/// magic (offset 0) and the ID (offset 8), nothing else.
pub(crate) fn mmio_device_id(region: &MmioRegion) -> Option<u32> {
    let base = region.as_ptr().as_ptr().cast::<u32>();
    if region.len() < 12 || !base.is_aligned() {
        return None;
    }
    // SAFETY: `region` is the host's uncached mapping of device registers,
    // alive for the kernel's lifetime (`MmioRegion::new`'s contract); both
    // words are 4-byte aligned (checked) and inside its 12 first bytes;
    // reading the magic and device ID registers has no side effect.
    let (magic, id) = unsafe { (base.read_volatile(), base.add(2).read_volatile()) };
    (magic == MMIO_MAGIC).then_some(id)
}

/// The MMIO transport over `region`, which `mmio_map` returned for a
/// virtio-mmio register block.
///
/// # Errors
/// [`DevError::Unusable`] for a misaligned block, one without the virtio
/// magic, of an unknown device type or version, or too small.
pub(crate) fn mmio_transport(region: &MmioRegion) -> Result<MmioTransport<'static>, DevError> {
    let virt = region.as_ptr();
    if !virt.as_ptr().cast::<u32>().is_aligned() {
        return Err(DevError::Unusable(
            "virtio-mmio registers not 4-byte aligned",
        ));
    }
    // SAFETY: `region` is the host's uncached mapping of device registers,
    // kept for the kernel's lifetime (`MmioRegion::new`'s contract), 4-byte
    // aligned (checked above); the caller owns the block (one transport
    // per command-line device).
    let transport = unsafe { MmioTransport::new(virt.cast(), region.len()) };
    transport.map_err(|error| {
        DevError::Unusable(match error {
            MmioError::BadMagic(_) => "no virtio-mmio device there (bad magic)",
            MmioError::UnsupportedVersion(_) => "unsupported virtio-mmio version",
            MmioError::InvalidDeviceID(_) => "no device behind this virtio-mmio slot",
            MmioError::MmioRegionTooSmall => "virtio-mmio region too small",
        })
    })
}
