//! A hardware-reduced machine's power button: the Generic Event Device.
//!
//! Hardware-reduced ACPI (microvm) has no PM1 registers: QEMU signals
//! its platform events through a Generic Event Device in the DSDT, as
//! its interface document (`docs/specs/acpi_hw_reduced_hotplug.rst`)
//! describes: `Device (GED) { Name (_HID, "ACPI0013") Name (_CRS,
//! ResourceTemplate () { Interrupt (…, Edge, ActiveHigh, …) { gsi } })
//! OperationRegion (EREG, SystemMemory, selector, 4) … Method (_EVT) }`.
//! Each event raises the interrupt; the 32-bit event selector says which
//! (reading it clears it); bit 1 is the power-down request. The `_EVT`
//! method that maps bits to devices is not interpreted: this is QEMU's
//! convention, and another VMM's GED may not be understood (then there is
//! no power button). As in [`super::dsdt`], the scan is bounded: the
//! first `"ACPI0013"`, its `_CRS` and its first system-memory operation
//! region within 256 bytes; anything malformed yields none.

use super::dsdt::{EXTENDED_INTERRUPT, descriptors, find, resource_template};
use crate::bootinfo::physical::u32_at;

/// The _HID of a Generic Event Device.
const GED_HID: &[u8] = b"ACPI0013";
/// How far after the _HID its resources and region may be.
const DEVICE_WINDOW: usize = 256;
/// AML's OperationRegion op and the system-memory region space.
const OPERATION_REGION: [u8; 2] = [0x5b, 0x80];
const SYSTEM_MEMORY: u8 = 0;
/// The event selector bit of a power-down request.
pub const POWER_DOWN_EVENT: u32 = 1 << 1;

/// A Generic Event Device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenericEventDevice {
    /// Its interrupt (a GSI).
    pub gsi: u32,
    /// Level-triggered (else edge).
    pub level_triggered: bool,
    /// Active low (else high).
    pub active_low: bool,
    /// Physical address of its 32-bit event selector.
    pub selector: u64,
}

/// The Generic Event Device the AML `aml` describes, if it does.
pub fn generic_event_device(aml: &[u8]) -> Option<GenericEventDevice> {
    let start = find(aml, GED_HID)? + GED_HID.len();
    let after = aml.get(start..)?;
    let window = after.get(..after.len().min(DEVICE_WINDOW))?;
    let (gsi, flags) = interrupt(window)?;
    let selector = selector(window)?;
    Some(GenericEventDevice {
        gsi,
        level_triggered: flags & 0b10 == 0,
        active_low: flags & 0b100 != 0,
        selector,
    })
}

/// The first extended interrupt of the `_CRS` in `window`: its GSI and
/// its flags byte.
fn interrupt(window: &[u8]) -> Option<(u32, u8)> {
    let crs = find(window, b"_CRS")?;
    let template = resource_template(window.get(crs + 4..)?)?;
    descriptors(template).find_map(|(kind, body)| {
        (kind == EXTENDED_INTERRUPT && body.len() >= 6 && body[1] >= 1)
            .then(|| (u32_at(body, 2), body[0]))
    })
}

/// The address of the first system-memory operation region in `window`,
/// if it is a non-zero, 4-aligned constant at least 4 bytes long.
fn selector(window: &[u8]) -> Option<u64> {
    let at = find(window, &OPERATION_REGION)?;
    // OperationRegion (NameSeg, RegionSpace, Offset, Length).
    let rest = window.get(at + 2 + 4..)?;
    if *rest.first()? != SYSTEM_MEMORY {
        return None;
    }
    let (address, used) = integer(rest.get(1..)?)?;
    let (length, _) = integer(rest.get(1 + used..)?)?;
    (address != 0 && address.is_multiple_of(4) && length >= 4).then_some(address)
}

/// The integer constant `bytes` starts with and its length in bytes.
fn integer(bytes: &[u8]) -> Option<(u64, usize)> {
    let width = match *bytes.first()? {
        0x0a => 1,
        0x0b => 2,
        0x0c => 4,
        0x0e => 8,
        _ => return None,
    };
    let mut value = [0u8; 8];
    value[..width].copy_from_slice(bytes.get(1..1 + width)?);
    Some((u64::from_le_bytes(value), 1 + width))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The GED as QEMU's microvm writes it.
    fn ged_aml() -> Vec<u8> {
        let mut aml = b"\x5b\x82\x4a\x04GED_".to_vec();
        aml.extend_from_slice(b"\x08_HID\x0dACPI0013\x00");
        aml.extend_from_slice(b"\x08_UID\x0dGED\x00");
        aml.extend_from_slice(b"\x08_CRS\x11\x0e\x0a\x0b");
        aml.extend_from_slice(&[EXTENDED_INTERRUPT, 6, 0, 0x03, 1, 9, 0, 0, 0]);
        aml.extend_from_slice(&[0x79, 0]);
        aml.extend_from_slice(b"\x5b\x80EREG\x00\x0c\x00\x00\xa0\xfe\x0a\x04");
        aml.extend_from_slice(b"\x5b\x81\x0b");
        aml
    }

    #[test]
    fn finds_qemus_generic_event_device() {
        let mut aml = b"\x08_HID\x0dLNRO0005\x00".to_vec();
        aml.extend(ged_aml());
        let expected = GenericEventDevice {
            gsi: 9,
            level_triggered: false,
            active_low: false,
            selector: 0xfea0_0000,
        };
        assert_eq!(generic_event_device(&aml), Some(expected));
    }

    #[test]
    fn no_device_or_a_region_elsewhere_gives_none() {
        assert_eq!(generic_event_device(b""), None);
        assert_eq!(generic_event_device(b"ACPI0013"), None);
        let mut io = ged_aml();
        let region = find(&io, &OPERATION_REGION).unwrap();
        io[region + 6] = 1; // SystemIO
        assert_eq!(generic_event_device(&io), None);
        let mut unaligned = ged_aml();
        unaligned[region + 8] = 2;
        assert_eq!(generic_event_device(&unaligned), None);
    }

    #[test]
    fn every_truncation_and_corruption_is_harmless() {
        let aml = ged_aml();
        let whole = generic_event_device(&aml);
        for length in 0..aml.len() - 3 {
            assert!(generic_event_device(&aml[..length]).is_none());
        }
        assert_eq!(generic_event_device(&aml[..aml.len() - 3]), whole);
        for at in 0..aml.len() {
            for value in [0x00, 0x0a, 0x0e, 0x11, 0x5b, 0x80, 0x89, 0xff] {
                let mut corrupt = aml.clone();
                corrupt[at] = value;
                let _ = generic_event_device(&corrupt);
            }
        }
    }
}
