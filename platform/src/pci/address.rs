//! PCI function addresses and configuration mechanism #1 address words.
//!
//! The address type is the interface's ([`hypercall::PciAddress`], from
//! `pci_types`), so the platform, `hypercall-bm` and the kernel share one
//! definition. Mechanism #1 reaches segment 0 only.

use hypercall::PciError;

pub use hypercall::PciAddress;

/// The function `bus:device.function` on segment 0.
///
/// # Panics
/// If `device > 31` or `function > 7` (callers loop over those ranges).
pub fn at(bus: u8, device: u8, function: u8) -> PciAddress {
    PciAddress::new(0, bus, device, function)
}

/// The word written to port 0xCF8 to reach register `offset` of `address`:
/// enable bit, bus, device, function, dword-aligned register number.
///
/// # Errors
/// [`PciError::InvalidAddress`] for a segment other than 0, an offset
/// beyond 255 or one not 4-byte aligned.
pub fn config_address(address: PciAddress, offset: u16) -> Result<u32, PciError> {
    if address.segment() != 0 || offset > 0xfc || !offset.is_multiple_of(4) {
        return Err(PciError::InvalidAddress);
    }
    Ok(0x8000_0000
        | u32::from(address.bus()) << 16
        | u32::from(address.device()) << 11
        | u32::from(address.function()) << 8
        | u32::from(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_field() {
        assert_eq!(config_address(at(0, 0, 0), 0), Ok(0x8000_0000));
        assert_eq!(config_address(at(0xab, 0x1f, 7), 0xfc), Ok(0x80ab_fffc));
        assert_eq!(config_address(at(1, 2, 3), 0x10), Ok(0x8001_1310));
    }

    #[test]
    fn rejects_other_segments_and_bad_offsets() {
        let invalid = Err(PciError::InvalidAddress);
        assert_eq!(config_address(PciAddress::new(1, 0, 0, 0), 0), invalid);
        assert_eq!(config_address(at(0, 0, 0), 0x100), invalid);
        assert_eq!(config_address(at(0, 0, 0), 0x12), invalid);
        assert_eq!(config_address(at(0, 0, 0), 3), invalid);
    }
}
