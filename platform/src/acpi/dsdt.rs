//! virtio-mmio devices in the DSDT, found without an AML interpreter.
//!
//! Why by hand: rust-osdev's AML interpreters (the `aml` feature of
//! `acpi` 6 and 7, the `aml` 0.16 crate beside `acpi` 5) all need nightly
//! Rust, and an interpreter that builds a namespace on the heap would be
//! a large part of a ~530 KB image to read four numbers per device. This
//! scan reads only what QEMU's microvm writes, and is bounded as follows.
//!
//! microvm (and other VMMs) describe each virtio-mmio slot with a device
//! as `Device (VRnn) { Name (_HID, "LNRO0005") … Name (_CRS,
//! ResourceTemplate () { Memory32Fixed (…, base, size) Interrupt (…) {
//! irq } }) }`. The scan finds each `"LNRO0005"` string and, within the
//! bytes up to the next one (at most 256), the `_CRS` name; it decodes
//! the buffer after it as a resource template (PkgLength, buffer size,
//! then small and large resource descriptors up to the end tag). A device
//! without both a 32-bit fixed memory range and an interrupt is skipped.
//! Methods (`_CRS` computed at run time, `_STA`) are not evaluated. Every
//! read is checked; malformed AML yields fewer devices, never a fault.

use crate::bootinfo::physical::u32_at;

/// The _HID of a virtio-mmio device.
const VIRTIO_MMIO_HID: &[u8] = b"LNRO0005";
/// How far after the _HID the _CRS may be.
const DEVICE_WINDOW: usize = 256;
const BUFFER_OP: u8 = 0x11;
const MEMORY32_FIXED: u8 = 0x86;
pub(super) const EXTENDED_INTERRUPT: u8 = 0x89;
const SMALL_IRQ: u8 = 0x04;
const SMALL_END: u8 = 0x0f;

/// One virtio-mmio device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtioMmio {
    /// Physical address of its registers.
    pub base: u64,
    /// Length of the register block.
    pub size: u64,
    /// Its interrupt (a GSI).
    pub irq: u32,
}

/// The virtio-mmio devices the AML `aml` describes, in table order.
pub fn virtio_mmio_devices(aml: &[u8]) -> impl Iterator<Item = VirtioMmio> + '_ {
    let mut rest = aml;
    core::iter::from_fn(move || {
        loop {
            let start = find(rest, VIRTIO_MMIO_HID)? + VIRTIO_MMIO_HID.len();
            let after = rest.get(start..)?;
            let end = find(after, VIRTIO_MMIO_HID)
                .unwrap_or(after.len())
                .min(DEVICE_WINDOW);
            rest = after;
            if let Some(device) = device(after.get(..end)?) {
                return Some(device);
            }
        }
    })
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The resources of one device: `bytes` start after its _HID.
fn device(bytes: &[u8]) -> Option<VirtioMmio> {
    let crs = find(bytes, b"_CRS")?;
    let template = resource_template(bytes.get(crs + 4..)?)?;
    let mut memory = None;
    let mut irq = None;
    for (kind, body) in descriptors(template) {
        match kind {
            MEMORY32_FIXED if body.len() >= 9 => {
                memory = Some((u64::from(u32_at(body, 1)), u64::from(u32_at(body, 5))));
            }
            EXTENDED_INTERRUPT if body.len() >= 6 && body[1] >= 1 => {
                irq.get_or_insert(u32_at(body, 2));
            }
            SMALL_IRQ if body.len() >= 2 => {
                let mask = u16::from_le_bytes([body[0], body[1]]);
                if mask != 0 {
                    irq.get_or_insert(mask.trailing_zeros());
                }
            }
            _ => {}
        }
    }
    let (base, size) = memory?;
    Some(VirtioMmio {
        base,
        size,
        irq: irq?,
    })
}

/// The descriptor bytes of the buffer `bytes` starts with.
pub(super) fn resource_template(bytes: &[u8]) -> Option<&[u8]> {
    if *bytes.first()? != BUFFER_OP {
        return None;
    }
    let lead = *bytes.get(1)?;
    let package_end = 2 + usize::from(lead >> 6);
    let size_op = *bytes.get(package_end)?;
    let size_length = match size_op {
        0x0a => 1,
        0x0b => 2,
        0x0c => 4,
        0x00 | 0x01 | 0xff => 0,
        _ => return None,
    };
    bytes.get(package_end + 1 + size_length..)
}

/// `(kind, body)` of each resource descriptor up to the end tag: large
/// descriptors by their full tag, small ones by their 4-bit type.
pub(super) fn descriptors(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut offset = 0;
    core::iter::from_fn(move || {
        let tag = *bytes.get(offset)?;
        let (kind, start, length) = if tag & 0x80 != 0 {
            let length = bytes.get(offset + 1..offset + 3)?;
            (
                tag,
                offset + 3,
                usize::from(u16::from_le_bytes([length[0], length[1]])),
            )
        } else {
            ((tag >> 3) & 0x0f, offset + 1, usize::from(tag & 7))
        };
        if kind == SMALL_END && tag & 0x80 == 0 {
            return None;
        }
        let body = bytes.get(start..start.checked_add(length)?)?;
        offset = start + length;
        Some((kind, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A device as QEMU's microvm writes it.
    fn device_aml(index: u8, base: u32, irq: u32) -> Vec<u8> {
        let mut aml = std::vec![0x5b, 0x82, 0x30]; // Device, PkgLength
        aml.extend_from_slice(b"VR0");
        aml.push(b'0' + index);
        aml.extend_from_slice(b"\x08_HID\x0dLNRO0005\x00");
        aml.extend_from_slice(&[0x08, b'_', b'U', b'I', b'D', 0x0a, index]);
        aml.extend_from_slice(b"\x08_CCA\x01");
        aml.extend_from_slice(b"\x08_CRS\x11\x1a\x0a\x17");
        aml.extend_from_slice(&[MEMORY32_FIXED, 9, 0, 1]);
        aml.extend_from_slice(&base.to_le_bytes());
        aml.extend_from_slice(&0x200u32.to_le_bytes());
        aml.extend_from_slice(&[EXTENDED_INTERRUPT, 6, 0, 0x01, 1]);
        aml.extend_from_slice(&irq.to_le_bytes());
        aml.extend_from_slice(&[0x79, 0]);
        aml
    }

    #[test]
    fn finds_each_device_with_its_block_and_interrupt() {
        let mut aml = b"\x10\x47\x05\\_SB_".to_vec();
        aml.extend(device_aml(0, 0xfeb0_0000, 24));
        aml.extend_from_slice(b"\x08_HID\x0dPNP0501\x00");
        aml.extend(device_aml(7, 0xfeb0_0e00, 31));
        let found: Vec<_> = virtio_mmio_devices(&aml).collect();
        assert_eq!(
            found,
            [
                VirtioMmio {
                    base: 0xfeb0_0000,
                    size: 0x200,
                    irq: 24
                },
                VirtioMmio {
                    base: 0xfeb0_0e00,
                    size: 0x200,
                    irq: 31
                }
            ]
        );
    }

    #[test]
    fn small_irq_descriptors_count_too() {
        let mut aml = device_aml(1, 0xd000_0000, 5);
        let interrupt = aml.iter().position(|&b| b == EXTENDED_INTERRUPT).unwrap();
        aml.splice(interrupt..interrupt + 9, [0x22, 0x20, 0x00]); // IRQ {5}
        let found: Vec<_> = virtio_mmio_devices(&aml).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].irq, 5);
    }

    #[test]
    fn every_truncation_is_harmless() {
        let aml = device_aml(3, 0xfeb0_0600, 27);
        for length in 0..aml.len() {
            let found = virtio_mmio_devices(&aml[..length]).count();
            assert!(found <= 1);
        }
        assert_eq!(virtio_mmio_devices(&aml).count(), 1);
        let mut broken = aml.clone();
        let crs = find(&broken, b"_CRS").unwrap();
        broken[crs + 4] = 0x12; // not a buffer
        assert_eq!(virtio_mmio_devices(&broken).count(), 0);
    }
}
