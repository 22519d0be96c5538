//! PCI function addresses and configuration mechanism #1 address words.

use core::fmt;

use super::PciError;

/// A PCI function on segment 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    /// Bus 0..=255.
    pub bus: u8,
    /// Device 0..=31.
    pub device: u8,
    /// Function 0..=7.
    pub function: u8,
}

impl PciAddress {
    /// The address `bus:device.function` (not validated; see
    /// [`config_address`]).
    pub const fn new(bus: u8, device: u8, function: u8) -> Self {
        Self {
            bus,
            device,
            function,
        }
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// The word written to port 0xCF8 to reach register `offset` of `address`:
/// enable bit, bus, device, function, dword-aligned register number.
///
/// # Errors
/// [`PciError::InvalidAddress`] for device > 31, function > 7, offset
/// beyond 255 or not 4-byte aligned.
pub fn config_address(address: PciAddress, offset: u16) -> Result<u32, PciError> {
    if address.device > 31 || address.function > 7 || offset > 0xfc || !offset.is_multiple_of(4) {
        return Err(PciError::InvalidAddress);
    }
    Ok(0x8000_0000
        | u32::from(address.bus) << 16
        | u32::from(address.device) << 11
        | u32::from(address.function) << 8
        | u32::from(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_field() {
        assert_eq!(config_address(PciAddress::new(0, 0, 0), 0), Ok(0x8000_0000));
        assert_eq!(
            config_address(PciAddress::new(0xab, 0x1f, 7), 0xfc),
            Ok(0x80ab_fffc)
        );
        assert_eq!(
            config_address(PciAddress::new(1, 2, 3), 0x10),
            Ok(0x8001_1310)
        );
    }

    #[test]
    fn rejects_out_of_range_or_unaligned() {
        let invalid = Err(PciError::InvalidAddress);
        assert_eq!(config_address(PciAddress::new(0, 32, 0), 0), invalid);
        assert_eq!(config_address(PciAddress::new(0, 0, 8), 0), invalid);
        assert_eq!(config_address(PciAddress::new(0, 0, 0), 0x100), invalid);
        assert_eq!(config_address(PciAddress::new(0, 0, 0), 0x12), invalid);
        assert_eq!(config_address(PciAddress::new(0, 0, 0), 3), invalid);
    }

    #[test]
    fn displays_like_lspci() {
        assert_eq!(std::format!("{}", PciAddress::new(0, 0x1f, 3)), "00:1f.3");
    }
}
