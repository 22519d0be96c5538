//! A fake PCI bus and fake device memory, for tests of the faction and of
//! its drivers (feature `fake`).
//!
//! The bus keeps configuration dwords in a map. Absent functions read as
//! all ones; writes store the value as given (no read-only or
//! write-one-to-clear bits), except that writes to resource registers are
//! refused as a real host refuses them. Memory BARs and DMA blocks are
//! leaked or allocated heap blocks, so a register window or a DMA buffer
//! over one really reads and writes memory, and "physical" addresses are
//! the blocks' own addresses.

#![allow(unsafe_code, reason = "a fake host makes the tokens only a host may")]
#![allow(missing_docs, reason = "test machinery")]

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::sync::Mutex;

use base::hypercall::{
    BarKind, DeviceMemory, DmaRegion, IoWidth, MemoryError, MmioRegion, PAGE_SIZE, PciAddress,
    PciBar, PciBus, PciError, PciFunction, PciHeaderWords, is_resource_register,
};

use crate::config::{HEADER, VENDOR_DEVICE};

#[derive(Debug, Default)]
struct Function {
    config: BTreeMap<u16, u32>,
    /// The mapping of each memory BAR.
    bars: [Option<MmioRegion>; 6],
}

/// The fake bus.
#[derive(Debug, Default)]
pub struct FakeBus {
    functions: Mutex<BTreeMap<PciAddress, Function>>,
    /// Every accepted config write, in order: (function, offset, value).
    pub writes: Mutex<Vec<(PciAddress, u16, u32)>>,
}

impl FakeBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a single-function device with header type 0.
    pub fn add_function(
        &self,
        bus: u8,
        device: u8,
        function: u8,
        vendor: u16,
        device_id: u16,
    ) -> PciAddress {
        let at = PciAddress::new(0, bus, device, function);
        let mut functions = self.functions.lock().unwrap();
        functions.insert(at, Function::default());
        drop(functions);
        let ids = u32::from(vendor) | u32::from(device_id) << 16;
        self.set(at, VENDOR_DEVICE, ids);
        self.set(at, HEADER, 0);
        at
    }

    /// Sets a configuration dword (as firmware would: nothing refused).
    pub fn set(&self, at: PciAddress, offset: u16, value: u32) {
        let mut functions = self.functions.lock().unwrap();
        let function = functions.get_mut(&at).expect("function added first");
        function.config.insert(offset, value);
    }

    /// Reads a configuration dword (0 if never set).
    pub fn get(&self, at: PciAddress, offset: u16) -> u32 {
        let functions = self.functions.lock().unwrap();
        let function = functions.get(&at).expect("function added first");
        function.config.get(&offset).copied().unwrap_or(0)
    }

    /// Gives `at` a memory BAR of `size` bytes backed by zeroed memory.
    pub fn add_memory_bar(&self, at: PciAddress, index: usize, size: u64) {
        let block = vec![0u64; (size as usize).div_ceil(8)].leak();
        let virt = NonNull::from(&mut block[0]).cast::<u8>();
        // SAFETY: a leaked, zeroed block of at least `size` bytes that
        // nothing else uses, alive for ever; tests access it only through
        // register windows (volatile).
        let region = unsafe { MmioRegion::new(virt, virt.as_ptr() as u64, size as usize) };
        let mut functions = self.functions.lock().unwrap();
        let function = functions.get_mut(&at).expect("function added first");
        function.bars[index] = Some(region);
    }

    fn header_type(&self, at: PciAddress) -> u8 {
        ((self.get(at, HEADER) >> 16) & 0x7f) as u8
    }

    /// What a host tells of the function at `at`, read from its header;
    /// `None` once it reads as absent.
    fn describe(&self, at: PciAddress) -> Option<PciFunction> {
        let [vendor_device, class_revision, header, interrupt] =
            PciHeaderWords::OFFSETS.map(|offset| self.get(at, offset));
        let words = PciHeaderWords {
            vendor_device,
            class_revision,
            header,
            interrupt,
        };
        PciFunction::from_header(at, words)
    }
}

impl PciBus for FakeBus {
    fn functions(&self) -> Vec<PciFunction> {
        let addresses: Vec<_> = self.functions.lock().unwrap().keys().copied().collect();
        addresses
            .into_iter()
            .filter_map(|at| self.describe(at))
            .collect()
    }

    fn config_read(&self, at: PciAddress, offset: u16) -> Result<u32, PciError> {
        if !offset.is_multiple_of(4) || offset >= 256 {
            return Err(PciError::InvalidAddress);
        }
        let functions = self.functions.lock().unwrap();
        Ok(match functions.get(&at) {
            None => u32::MAX,
            Some(function) => function.config.get(&offset).copied().unwrap_or(0),
        })
    }

    fn config_write(&self, at: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
        if !offset.is_multiple_of(4) || offset >= 256 {
            return Err(PciError::InvalidAddress);
        }
        let present = self.functions.lock().unwrap().contains_key(&at);
        if present && is_resource_register(self.header_type(at), offset) {
            return Err(PciError::Refused);
        }
        self.writes.lock().unwrap().push((at, offset, value));
        if let Some(function) = self.functions.lock().unwrap().get_mut(&at) {
            function.config.insert(offset, value);
        }
        Ok(())
    }

    fn bar(&self, at: PciAddress, index: u8) -> Result<PciBar, PciError> {
        let functions = self.functions.lock().unwrap();
        let function = functions.get(&at).ok_or(PciError::NoDevice)?;
        let region = function.bars.get(usize::from(index)).cloned().flatten();
        let region = region.ok_or(PciError::NoSuchBar)?;
        // A block's address is its "physical" one: above 4 GiB only a
        // 64-bit BAR could hold it.
        let kind = match u32::try_from(region.phys()) {
            Ok(_) => BarKind::Memory32 {
                prefetchable: false,
            },
            Err(_) => BarKind::Memory64 {
                prefetchable: false,
            },
        };
        PciBar::memory(kind, region).ok_or(PciError::NoSuchBar)
    }

    fn io_read(&self, _port: u16, _width: IoWidth) -> u32 {
        u32::MAX
    }

    fn io_write(&self, _port: u16, _width: IoWidth, _value: u32) {}
}

/// DMA from the test process's allocator, counting what is outstanding;
/// device addresses are the blocks' own addresses.
#[derive(Debug, Default)]
pub struct FakeDeviceMemory {
    pub outstanding: AtomicUsize,
}

// SAFETY: blocks are fresh, zeroed, page-aligned allocations owned by the
// caller until `dma_free`; the "device" of a test reads them at their own
// addresses, so every range is contiguous; `mmio_map` maps nothing.
unsafe impl DeviceMemory for FakeDeviceMemory {
    fn dma_allocate(&self, size: usize) -> Result<DmaRegion, MemoryError> {
        if size == 0 {
            return Err(MemoryError::InvalidRequest);
        }
        let size = size.next_multiple_of(PAGE_SIZE);
        let layout = Layout::from_size_align(size, PAGE_SIZE).unwrap();
        // SAFETY: the layout has a nonzero size.
        let virt = NonNull::new(unsafe { alloc_zeroed(layout) }).ok_or(MemoryError::Exhausted)?;
        self.outstanding.fetch_add(1, SeqCst);
        // SAFETY: a fresh, zeroed, page-aligned block of whole pages.
        Ok(unsafe { DmaRegion::new(virt, virt.as_ptr() as u64, size) })
    }

    unsafe fn dma_free(&self, region: DmaRegion) {
        let layout = Layout::from_size_align(region.size(), PAGE_SIZE).unwrap();
        // SAFETY: allocated in `dma_allocate` with this layout.
        unsafe { dealloc(region.virt().as_ptr(), layout) };
        self.outstanding.fetch_sub(1, SeqCst);
    }

    fn virt_to_phys(&self, start: *const u8, len: usize) -> Option<u64> {
        (start as u64).checked_add(len as u64).map(|_| start as u64)
    }

    fn mmio_map(&self, _phys: u64, _size: usize) -> Result<MmioRegion, MemoryError> {
        Err(MemoryError::Unsupported)
    }
}
