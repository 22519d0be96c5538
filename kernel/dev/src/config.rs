//! Configuration-space registers: offsets, bits and sub-dword access.
//!
//! The hypercall reads and writes whole aligned dwords; these helpers pick
//! bytes and words out of them. The command register shares its dword
//! with the status register, whose error bits are write-one-to-clear:
//! [`update_command`] writes zeros there so it clears nothing.

use base::hypercall::{PciAddress, PciBus, PciError};
pub use pci_types::CommandRegister;

/// Vendor ID (low half) and device ID (high half).
pub const VENDOR_DEVICE: u16 = 0x00;
/// Command (low half) and status (high half).
pub const COMMAND_STATUS: u16 = 0x04;
/// Revision, programming interface, subclass, class (low to high byte).
pub const CLASS_REVISION: u16 = 0x08;
/// Cache line size, latency timer, header type (byte 2), BIST.
pub const HEADER: u16 = 0x0c;
/// The first capability's offset (byte 0).
pub const CAPABILITIES_POINTER: u16 = 0x34;
/// Interrupt line (byte 0) and interrupt pin (byte 1).
pub const INTERRUPT: u16 = 0x3c;

/// Vendor ID of an absent function.
pub const ABSENT_VENDOR: u16 = 0xffff;
/// Header type bit: the device has functions 1..=7.
pub const MULTI_FUNCTION: u8 = 0x80;
/// Status bit: the capability list is valid.
pub const STATUS_CAPABILITIES: u16 = 1 << 4;

/// The byte at `offset`.
///
/// # Errors
/// [`PciError`] from the hypercall.
pub fn read_u8(bus: &dyn PciBus, address: PciAddress, offset: u16) -> Result<u8, PciError> {
    let dword = bus.config_read(address, offset & !3)?;
    Ok((dword >> ((offset & 3) * 8)) as u8)
}

/// The 16-bit word at `offset` (its low bit is ignored).
///
/// # Errors
/// [`PciError`] from the hypercall.
pub fn read_u16(bus: &dyn PciBus, address: PciAddress, offset: u16) -> Result<u16, PciError> {
    let dword = bus.config_read(address, offset & !3)?;
    Ok((dword >> ((offset & 2) * 8)) as u16)
}

/// The dword at `offset` (its low two bits are ignored).
///
/// # Errors
/// [`PciError`] from the hypercall.
pub fn read_u32(bus: &dyn PciBus, address: PciAddress, offset: u16) -> Result<u32, PciError> {
    bus.config_read(address, offset & !3)
}

/// Sets the command bits `set` and clears `clear`; leaves the status alone.
///
/// # Errors
/// [`PciError`] from the hypercall.
pub fn update_command(
    bus: &dyn PciBus,
    address: PciAddress,
    set: CommandRegister,
    clear: CommandRegister,
) -> Result<(), PciError> {
    let command = CommandRegister::from_bits_retain(read_u16(bus, address, COMMAND_STATUS)?);
    let command = (command | set) - clear;
    bus.config_write(address, COMMAND_STATUS, u32::from(command.bits()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeBus;

    #[test]
    fn bytes_and_words_come_out_of_their_dword() {
        let bus = FakeBus::new();
        let at = bus.add_function(0, 3, 0, 0x1234, 0x5678);
        bus.set(at, 0x3c, 0x0000_010b);
        assert_eq!(read_u8(&bus, at, 0x3c), Ok(0x0b));
        assert_eq!(read_u8(&bus, at, 0x3d), Ok(0x01));
        assert_eq!(read_u16(&bus, at, 0x00), Ok(0x1234));
        assert_eq!(read_u16(&bus, at, 0x02), Ok(0x5678));
        assert_eq!(read_u16(&bus, at, 0x03), Ok(0x5678));
    }

    #[test]
    fn command_updates_keep_the_status_half_zero() {
        let bus = FakeBus::new();
        let at = bus.add_function(0, 1, 0, 0x1af4, 0x1041);
        let intx_disable = CommandRegister::INTERRUPT_DISABLE;
        bus.set(
            at,
            COMMAND_STATUS,
            0xffff_0000 | u32::from(intx_disable.bits()),
        );
        let master = CommandRegister::BUS_MASTER_ENABLE;
        update_command(&bus, at, master, intx_disable).unwrap();
        assert_eq!(bus.get(at, COMMAND_STATUS), u32::from(master.bits()));
    }
}
