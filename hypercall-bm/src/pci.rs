//! The PCI bus hypercalls over the platform's configuration access.
//!
//! The bus is scanned and its BARs assigned when the kernel first asks for
//! it ([`Pci::scan`]), not at boot: an image without PCI drivers never pays
//! for the scan (about 2 ms of first-run code on q35 under TCG).

use hypercall::{BarKind, IoWidth, PciAddress, PciBar, PciBus, PciError};
use platform::pci as bus;

/// The machine's PCI bus (present when the platform's scan succeeded).
#[derive(Debug)]
pub(crate) struct Pci;

impl Pci {
    /// Scans and assigns the bus (once: the platform keeps the result);
    /// `None` if the machine has none or the scan failed (printed).
    pub(crate) fn scan() -> Option<Self> {
        match bus::init() {
            Ok(_) => Some(Self),
            Err(bus::PciError::NoPci) => None,
            Err(error) => {
                platform::println!("platform: PCI: {error}");
                None
            }
        }
    }
}

fn address(address: PciAddress) -> bus::PciAddress {
    bus::PciAddress::new(address.bus, address.device, address.function)
}

fn error(error: bus::PciError) -> PciError {
    match error {
        bus::PciError::NoDevice => PciError::NoDevice,
        bus::PciError::NoSuchBar => PciError::NoSuchBar,
        bus::PciError::MapFailed => PciError::MapFailed,
        _ => PciError::InvalidAddress,
    }
}

impl PciBus for Pci {
    fn config_read(&self, at: PciAddress, offset: u16) -> Result<u32, PciError> {
        bus::config_read(address(at), offset).map_err(error)
    }

    fn config_write(&self, at: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
        bus::config_write(address(at), offset, value).map_err(error)
    }

    fn bar(&self, at: PciAddress, index: u8) -> Result<PciBar, PciError> {
        let (bar, virt) = bus::map_bar(address(at), index).map_err(error)?;
        let kind = match bar.kind {
            bus::BarKind::Memory32 { prefetchable } | bus::BarKind::Memory64 { prefetchable } => {
                BarKind::Memory { prefetchable }
            }
            bus::BarKind::Io => BarKind::Io,
        };
        Ok(PciBar {
            kind,
            address: bar.address,
            size: bar.size,
            virt,
        })
    }

    fn io_read(&self, port: u16, width: IoWidth) -> u32 {
        // A port outside every I/O BAR reads as all ones, like an absent
        // device on the bus.
        bus::io_read(port, platform_width(width)).unwrap_or(u32::MAX)
    }

    fn io_write(&self, port: u16, width: IoWidth, value: u32) {
        // Writes outside every I/O BAR are dropped, as the bus would.
        let _ = bus::io_write(port, platform_width(width), value);
    }
}

fn platform_width(width: IoWidth) -> bus::IoWidth {
    match width {
        IoWidth::Byte => bus::IoWidth::Byte,
        IoWidth::Word => bus::IoWidth::Word,
        IoWidth::Dword => bus::IoWidth::Dword,
    }
}
