//! MSI-X: the capability, its vector table, enabling and disabling.
//!
//! The capability (ID 0x11) holds the message control word (table size
//! minus one in bits 0..=10, function mask bit 14, enable bit 15) and
//! where the vector table lies: a BAR index (low three bits) and an offset
//! into it. Each table entry is 16 bytes: message address low and high,
//! message data, vector control (bit 0 masks the vector). An entry is
//! written masked and unmasked last, so the device never sees a torn
//! message.

use base::hypercall::{MsiMessage, PciAddress, PciBus};

use crate::capability::{self, ID_MSIX};
use crate::config;
use crate::error::DevError;
use crate::registers::RegisterWindow;

const CONTROL_ENABLE: u16 = 1 << 15;
const CONTROL_FUNCTION_MASK: u16 = 1 << 14;
const TABLE_SIZE_MASK: u16 = 0x7ff;
const ENTRY_SIZE: usize = 16;
const VECTOR_MASKED: u32 = 1;

/// A function's MSI-X capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msix {
    /// Where the capability starts in configuration space.
    pub offset: u8,
    /// Entries in the vector table.
    pub table_size: u16,
    /// The BAR holding the table.
    pub table_bar: u8,
    /// The table's offset into that BAR.
    pub table_offset: u32,
}

impl Msix {
    /// The MSI-X capability of the function at `address`, if it has one.
    pub fn find(bus: &dyn PciBus, address: PciAddress) -> Option<Self> {
        let capability = capability::find(bus, address, ID_MSIX)?;
        let offset = u16::from(capability.offset);
        let control = config::read_u16(bus, address, offset + 2).ok()?;
        let table = config::read_u32(bus, address, offset + 4).ok()?;
        Some(Self {
            offset: capability.offset,
            table_size: (control & TABLE_SIZE_MASK) + 1,
            table_bar: (table & 7) as u8,
            table_offset: table & !7,
        })
    }

    /// Writes `message` into table entry `entry` and unmasks it.
    ///
    /// # Errors
    /// [`DevError::BadCapability`] for an entry beyond the table or a table
    /// outside its BAR, [`DevError::Pci`] when the BAR cannot be had.
    pub fn program(
        &self,
        bus: &dyn PciBus,
        address: PciAddress,
        entry: u16,
        message: MsiMessage,
    ) -> Result<(), DevError> {
        if entry >= self.table_size {
            return Err(DevError::BadCapability);
        }
        let bar = bus.bar(address, self.table_bar)?;
        let window = RegisterWindow::from_bar(&bar).ok_or(DevError::BadCapability)?;
        let base = usize::try_from(self.table_offset)
            .ok()
            .and_then(|offset| offset.checked_add(usize::from(entry) * ENTRY_SIZE))
            .ok_or(DevError::BadCapability)?;
        let writes = [
            (12, VECTOR_MASKED),
            (0, message.address as u32),
            (4, (message.address >> 32) as u32),
            (8, message.data),
            (12, 0),
        ];
        for (field, value) in writes {
            window
                .write_u32(base + field, value)
                .ok_or(DevError::BadCapability)?;
        }
        Ok(())
    }

    /// Turns MSI-X on (and the function mask off): the function signals
    /// through its table from now on, never through INTx.
    ///
    /// # Errors
    /// [`DevError::Pci`].
    pub fn enable(&self, bus: &dyn PciBus, address: PciAddress) -> Result<(), DevError> {
        self.set_control(bus, address, CONTROL_ENABLE, CONTROL_FUNCTION_MASK)
    }

    /// Turns MSI-X off: the function falls back to INTx.
    ///
    /// # Errors
    /// [`DevError::Pci`].
    pub fn disable(&self, bus: &dyn PciBus, address: PciAddress) -> Result<(), DevError> {
        self.set_control(bus, address, 0, CONTROL_ENABLE)
    }

    fn set_control(
        &self,
        bus: &dyn PciBus,
        address: PciAddress,
        set: u16,
        clear: u16,
    ) -> Result<(), DevError> {
        let offset = u16::from(self.offset);
        let dword = config::read_u32(bus, address, offset)?;
        let control = ((dword >> 16) as u16 | set) & !clear;
        let value = (dword & 0xffff) | u32::from(control) << 16;
        bus.config_write(address, offset, value)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CAPABILITIES_POINTER, COMMAND_STATUS, STATUS_CAPABILITIES};
    use crate::fake::FakeBus;

    /// A function with a 3-entry MSI-X table at offset 0x800 of BAR 1.
    fn msix_function(bus: &FakeBus) -> PciAddress {
        let at = bus.add_function(0, 2, 0, 0x1af4, 0x1041);
        bus.set(at, COMMAND_STATUS, u32::from(STATUS_CAPABILITIES) << 16);
        bus.set(at, CAPABILITIES_POINTER, 0x98);
        bus.set(at, 0x98, 0x4002_0011); // 3 entries, function masked
        bus.set(at, 0x9c, 0x0000_0801); // BAR 1, offset 0x800
        bus.add_memory_bar(at, 1, 0x1000);
        at
    }

    #[test]
    fn decodes_the_capability() {
        let bus = FakeBus::new();
        let at = msix_function(&bus);
        let msix = Msix::find(&bus, at).unwrap();
        assert_eq!(
            msix,
            Msix {
                offset: 0x98,
                table_size: 3,
                table_bar: 1,
                table_offset: 0x800
            }
        );
    }

    #[test]
    fn programs_an_entry_unmasked() {
        let bus = FakeBus::new();
        let at = msix_function(&bus);
        let msix = Msix::find(&bus, at).unwrap();
        let message = MsiMessage {
            address: 0x1_fee0_1000,
            data: 0x41,
        };
        msix.program(&bus, at, 2, message).unwrap();
        let window = RegisterWindow::from_bar(&bus.bar(at, 1).unwrap()).unwrap();
        let entry = 0x800 + 2 * 16;
        assert_eq!(window.read_u32(entry), Some(0xfee0_1000));
        assert_eq!(window.read_u32(entry + 4), Some(1));
        assert_eq!(window.read_u32(entry + 8), Some(0x41));
        assert_eq!(window.read_u32(entry + 12), Some(0));
        assert_eq!(window.read_u32(0x800), Some(0), "entry 0 untouched");
    }

    #[test]
    fn refuses_entries_and_tables_outside_the_device() {
        let bus = FakeBus::new();
        let at = msix_function(&bus);
        let message = MsiMessage {
            address: 0xfee0_0000,
            data: 0x30,
        };
        let msix = Msix::find(&bus, at).unwrap();
        assert_eq!(
            msix.program(&bus, at, 3, message),
            Err(DevError::BadCapability)
        );
        bus.set(at, 0x9c, 0x0000_0ff9); // offset 0xff8 + 16 > 0x1000
        let msix = Msix::find(&bus, at).unwrap();
        assert_eq!(
            msix.program(&bus, at, 0, message),
            Err(DevError::BadCapability)
        );
        bus.set(at, 0x9c, 0x0000_0005); // BAR 5: absent
        let msix = Msix::find(&bus, at).unwrap();
        assert!(matches!(
            msix.program(&bus, at, 0, message),
            Err(DevError::Pci(_))
        ));
    }

    #[test]
    fn enable_sets_enable_and_clears_the_function_mask() {
        let bus = FakeBus::new();
        let at = msix_function(&bus);
        let msix = Msix::find(&bus, at).unwrap();
        msix.enable(&bus, at).unwrap();
        assert_eq!(bus.get(at, 0x98), 0x8002_0011);
        msix.disable(&bus, at).unwrap();
        assert_eq!(bus.get(at, 0x98), 0x0002_0011);
    }
}
