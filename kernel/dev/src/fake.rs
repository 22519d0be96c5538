//! A fake PCI bus for the unit tests: configuration dwords in a map.
//!
//! Absent functions read as all ones; writes store the value as given (no
//! read-only or write-one-to-clear bits). Memory BARs are leaked heap
//! blocks, so a [`crate::registers::RegisterWindow`] over one really reads
//! and writes memory.

use alloc::collections::BTreeMap;
use alloc::vec;
use std::sync::Mutex;

use base::hypercall::{BarKind, IoWidth, PciAddress, PciBar, PciBus, PciError};

use crate::config::{HEADER, VENDOR_DEVICE};

#[derive(Default)]
struct Function {
    config: BTreeMap<u16, u32>,
    /// (address of the leaked block, size in bytes) per BAR.
    bars: [Option<(usize, u64)>; 6],
}

/// The fake bus.
#[derive(Default)]
pub struct FakeBus {
    functions: Mutex<BTreeMap<PciAddress, Function>>,
    /// Every config write, in order: (function, offset, value).
    pub writes: Mutex<vec::Vec<(PciAddress, u16, u32)>>,
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
        let at = PciAddress {
            bus,
            device,
            function,
        };
        self.functions
            .lock()
            .unwrap()
            .insert(at, Function::default());
        self.set(
            at,
            VENDOR_DEVICE,
            u32::from(vendor) | u32::from(device_id) << 16,
        );
        self.set(at, HEADER, 0);
        at
    }

    /// Sets a configuration dword.
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
        let block = vec![0u32; (size / 4) as usize].leak();
        let mut functions = self.functions.lock().unwrap();
        let function = functions.get_mut(&at).expect("function added first");
        function.bars[index] = Some((block.as_mut_ptr() as usize, size));
    }
}

impl PciBus for FakeBus {
    fn config_read(&self, at: PciAddress, offset: u16) -> Result<u32, PciError> {
        if !offset.is_multiple_of(4) || offset >= 256 || at.device > 31 || at.function > 7 {
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
        self.writes.lock().unwrap().push((at, offset, value));
        if let Some(function) = self.functions.lock().unwrap().get_mut(&at) {
            function.config.insert(offset, value);
        }
        Ok(())
    }

    fn bar(&self, at: PciAddress, index: u8) -> Result<PciBar, PciError> {
        let functions = self.functions.lock().unwrap();
        let function = functions.get(&at).ok_or(PciError::NoDevice)?;
        let (block, size) = function
            .bars
            .get(usize::from(index))
            .copied()
            .flatten()
            .ok_or(PciError::NoSuchBar)?;
        Ok(PciBar {
            kind: BarKind::Memory {
                prefetchable: false,
            },
            address: block as u64,
            size,
            virt: core::ptr::NonNull::new(block as *mut u8),
        })
    }

    fn io_read(&self, _port: u16, _width: IoWidth) -> u32 {
        u32::MAX
    }

    fn io_write(&self, _port: u16, _width: IoWidth, _value: u32) {}
}
