//! PCI hypercalls: the functions on the bus, configuration space, BARs and
//! I/O ports for device components (the rump papers' `rumpcomp_pci_*`).
//!
//! Reached through [`crate::Hypercalls::pci`]; hosts without PCI return
//! `None` there. The host owns the bus's resources: before the kernel
//! starts it has enumerated the bus, numbered bridges, sized and assigned
//! every BAR and routed interrupt lines (firmware does part of this under
//! SeaBIOS; `hypercall-bm` does all of it under qboot and microvm). So
//! the kernel never walks the bus itself ([`PciBus::functions`] lists and
//! describes what the host found) and never moves a BAR: configuration writes to the
//! registers that place a function in the address space are refused
//! ([`is_resource_register`]), and memory BARs reach the kernel only as
//! the host's own mapping ([`PciBar::mapping`]).

use alloc::vec::Vec;
use core::fmt;

use crate::device_memory::MmioRegion;

/// A PCI function: segment, bus, device (0..=31), function (0..=7).
pub use pci_types::PciAddress;

/// A function as the host found it: identity, class, interrupt routing.
/// Read from its configuration header when the host enumerated the bus;
/// the interrupt line is the GSI the host routed its pin to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciFunction {
    /// Where it is.
    pub address: PciAddress,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Base class (0x02 network, 0x06 bridge, …).
    pub class: u8,
    /// Subclass.
    pub subclass: u8,
    /// Programming interface.
    pub interface: u8,
    /// Revision.
    pub revision: u8,
    /// Header type without the multi-function bit ([`HEADER_DEVICE`],
    /// [`HEADER_BRIDGE`], …).
    pub header_type: u8,
    /// Interrupt pin: 1..=4 for INTA..INTD, 0 for none.
    pub interrupt_pin: u8,
    /// Interrupt line: the GSI the pin arrives on (0xff: none).
    pub interrupt_line: u8,
}

/// The four configuration dwords a [`PciFunction`] is read from: at 0x00
/// (vendor, device), 0x08 (revision, interface, subclass, class), 0x0c
/// (header type in byte 2) and 0x3c (line, pin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciHeaderWords {
    /// Vendor ID (low half) and device ID (high half).
    pub vendor_device: u32,
    /// Revision, programming interface, subclass, class (low to high).
    pub class_revision: u32,
    /// Cache line size, latency timer, header type, BIST.
    pub header: u32,
    /// Interrupt line (byte 0) and pin (byte 1).
    pub interrupt: u32,
}

impl PciHeaderWords {
    /// The offsets of the four words, in field order.
    pub const OFFSETS: [u16; 4] = [0x00, 0x08, 0x0c, 0x3c];
}

impl PciFunction {
    /// The function at `address` as its header `words` describe it; `None`
    /// for an absent function (vendor 0xffff).
    pub fn from_header(address: PciAddress, words: PciHeaderWords) -> Option<Self> {
        let [vendor_low, vendor_high, device_low, device_high] = words.vendor_device.to_le_bytes();
        let vendor = u16::from_le_bytes([vendor_low, vendor_high]);
        if vendor == u16::MAX {
            return None;
        }
        let [revision, interface, subclass, class] = words.class_revision.to_le_bytes();
        let [line, pin, ..] = words.interrupt.to_le_bytes();
        Some(Self {
            address,
            vendor,
            device: u16::from_le_bytes([device_low, device_high]),
            class,
            subclass,
            interface,
            revision,
            header_type: words.header.to_le_bytes()[2] & 0x7f,
            interrupt_pin: pin,
            interrupt_line: line,
        })
    }
}

impl fmt::Display for PciFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pci {} {:04x}:{:04x} class {:02x}.{:02x}",
            self.address, self.vendor, self.device, self.class, self.subclass
        )
    }
}

/// What a BAR decodes, as its low bits say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// Memory below 4 GiB (a 32-bit BAR).
    Memory32 {
        /// Prefetchable memory.
        prefetchable: bool,
    },
    /// Memory anywhere (a 64-bit BAR; it takes two BAR slots).
    Memory64 {
        /// Prefetchable memory.
        prefetchable: bool,
    },
    /// I/O port space, reached with [`PciBus::io_read`] and
    /// [`PciBus::io_write`].
    Io,
}

impl BarKind {
    /// Whether this is memory space.
    pub fn is_memory(self) -> bool {
        !matches!(self, Self::Io)
    }

    /// Whether this BAR also takes the next slot.
    pub fn is_64_bit(self) -> bool {
        matches!(self, Self::Memory64 { .. })
    }
}

/// An assigned BAR as the host hands it to the kernel: its kind, place and
/// size, and for memory BARs the host's mapping of it. Only a host can
/// make one that maps memory, because only a host can make the
/// [`MmioRegion`] inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciBar {
    kind: BarKind,
    address: u64,
    size: u64,
    mapping: Option<MmioRegion>,
}

impl PciBar {
    /// A memory BAR of `kind` (not [`BarKind::Io`]) that `mapping` maps
    /// whole; `None` for an I/O kind.
    pub fn memory(kind: BarKind, mapping: MmioRegion) -> Option<Self> {
        kind.is_memory().then(|| Self {
            kind,
            address: mapping.phys(),
            size: mapping.len() as u64,
            mapping: Some(mapping),
        })
    }

    /// An I/O BAR of `size` ports from `port`.
    pub fn io(port: u16, size: u16) -> Self {
        Self {
            kind: BarKind::Io,
            address: u64::from(port),
            size: u64::from(size),
            mapping: None,
        }
    }

    /// Memory or I/O, and for memory its width and prefetchability.
    pub fn kind(&self) -> BarKind {
        self.kind
    }

    /// The physical address (memory) or first port (I/O).
    pub fn address(&self) -> u64 {
        self.address
    }

    /// Length in bytes (memory) or ports (I/O).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The host's mapping of a memory BAR; `None` for I/O BARs.
    pub fn mapping(&self) -> Option<&MmioRegion> {
        self.mapping.as_ref()
    }
}

/// Why a PCI call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciError {
    /// Address outside the bus, device, function or register ranges, or an
    /// offset that is not 4-byte aligned.
    InvalidAddress,
    /// No function at this address.
    NoDevice,
    /// The BAR index is beyond 5, is the upper half of a 64-bit BAR, is not
    /// implemented by the device, or was left unassigned.
    NoSuchBar,
    /// The BAR could not be mapped.
    MapFailed,
    /// A write to a register that places the function in the address space
    /// (see [`is_resource_register`]): the host owns those.
    Refused,
}

impl fmt::Display for PciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidAddress => "invalid PCI address or register offset",
            Self::NoDevice => "no PCI function at this address",
            Self::NoSuchBar => "no such BAR",
            Self::MapFailed => "BAR could not be mapped",
            Self::Refused => "the host owns this register (BARs, bus numbers, windows)",
        })
    }
}

impl core::error::Error for PciError {}

/// Width of an I/O port access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoWidth {
    /// 8 bits.
    Byte,
    /// 16 bits.
    Word,
    /// 32 bits.
    Dword,
}

/// Header type of an ordinary function.
pub const HEADER_DEVICE: u8 = 0x00;
/// Header type of a PCI-to-PCI bridge.
pub const HEADER_BRIDGE: u8 = 0x01;

/// Whether the configuration dword at `offset` places a function with
/// header type `header_type` (multi-function bit clear) in the address
/// space: its BARs and expansion ROM, and for a bridge also its bus
/// numbers, forwarding windows and their upper halves. Writes there are
/// refused with [`PciError::Refused`]. CardBus bridges and unknown header
/// types have everything past the common header refused.
pub const fn is_resource_register(header_type: u8, offset: u16) -> bool {
    let dword = offset & !3;
    match header_type {
        HEADER_DEVICE => matches!(dword, 0x10..=0x24 | 0x30),
        HEADER_BRIDGE => matches!(dword, 0x10..=0x30 | 0x38),
        _ => dword >= 0x10 && dword < 0x40,
    }
}

/// A PCI bus. All calls never block.
///
/// Functions the host found are numbered as they are found; addresses
/// outside [`PciBus::functions`] read as absent (all ones).
pub trait PciBus: Send + Sync {
    /// Every function the host found, in bus order: depth-first from bus 0,
    /// a bridge before the functions behind it.
    fn functions(&self) -> Vec<PciFunction>;

    /// Reads the 32-bit configuration register at `offset` (4-byte aligned,
    /// below 256). An absent function reads as all ones.
    ///
    /// # Errors
    /// [`PciError::InvalidAddress`].
    fn config_read(&self, address: PciAddress, offset: u16) -> Result<u32, PciError>;

    /// Writes the 32-bit configuration register at `offset`.
    ///
    /// # Errors
    /// [`PciError::InvalidAddress`]; [`PciError::Refused`] for a resource
    /// register ([`is_resource_register`]), which is left as it was.
    fn config_write(&self, address: PciAddress, offset: u16, value: u32) -> Result<(), PciError>;

    /// BAR `index` (0..=5) as assigned, mapped if it is memory; the
    /// function decodes that BAR's kind from now on. Asking again returns
    /// the same mapping.
    ///
    /// # Errors
    /// [`PciError::NoDevice`], [`PciError::NoSuchBar`],
    /// [`PciError::MapFailed`].
    fn bar(&self, address: PciAddress, index: u8) -> Result<PciBar, PciError>;

    /// Reads I/O port `port`. Only ports inside an I/O BAR the host
    /// assigned reach a device; any other port (the machine's own: timer,
    /// interrupt controllers, serial) reads as all ones, as an absent
    /// device would, and the access goes nowhere.
    fn io_read(&self, port: u16, width: IoWidth) -> u32;

    /// Writes I/O port `port`. As for [`PciBus::io_read`], a port outside
    /// every assigned I/O BAR is not written.
    fn io_write(&self, port: u16, width: IoWidth, value: u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_rom_of_devices_are_resource_registers() {
        for offset in (0x10..=0x24).step_by(4) {
            assert!(is_resource_register(HEADER_DEVICE, offset));
        }
        assert!(is_resource_register(HEADER_DEVICE, 0x26), "any byte of it");
        assert!(is_resource_register(HEADER_DEVICE, 0x30));
        for offset in [0x00, 0x04, 0x0c, 0x28, 0x2c, 0x34, 0x3c, 0x40, 0xfc] {
            assert!(!is_resource_register(HEADER_DEVICE, offset), "{offset:#x}");
        }
    }

    #[test]
    fn bridges_keep_buses_and_windows_too() {
        for offset in (0x10..=0x30).step_by(4).chain([0x38]) {
            assert!(is_resource_register(HEADER_BRIDGE, offset), "{offset:#x}");
        }
        for offset in [0x04, 0x34, 0x3c, 0x40] {
            assert!(!is_resource_register(HEADER_BRIDGE, offset), "{offset:#x}");
        }
        assert!(is_resource_register(0x02, 0x3c), "CardBus: all refused");
        assert!(!is_resource_register(0x02, 0x04));
    }

    #[test]
    fn a_header_decodes_into_a_function() {
        let address = PciAddress::new(0, 0, 2, 0);
        let words = PciHeaderWords {
            vendor_device: 0x1041_1af4,
            class_revision: 0x0200_0001,
            header: 0x0080_0000,
            interrupt: 0x0000_010b,
        };
        let function = PciFunction::from_header(address, words).unwrap();
        assert_eq!((function.vendor, function.device), (0x1af4, 0x1041));
        assert_eq!(
            (function.class, function.subclass, function.revision),
            (2, 0, 1)
        );
        assert_eq!(function.header_type, 0, "without the multi-function bit");
        assert_eq!((function.interrupt_pin, function.interrupt_line), (1, 11));
        assert_eq!(
            alloc::format!("{function}"),
            "pci 0000:00:02.0 1af4:1041 class 02.00"
        );
        let absent = PciHeaderWords {
            vendor_device: u32::MAX,
            ..words
        };
        assert_eq!(PciFunction::from_header(address, absent), None);
    }

    #[test]
    fn io_bars_carry_no_mapping() {
        let bar = PciBar::io(0xc040, 32);
        assert_eq!(bar.kind(), BarKind::Io);
        assert_eq!((bar.address(), bar.size()), (0xc040, 32));
        assert!(bar.mapping().is_none());
    }
}
