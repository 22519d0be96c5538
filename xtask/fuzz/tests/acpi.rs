//! Fuzz target for the ACPI path: the RSDP, the root table, the FADT, the
//! DSDT and the MADT laid out by the fuzzer in a buffer that plays the BIOS
//! area, with checksums fixed (so the `acpi` crate accepts the tables and
//! our guards and walks are what is exercised) or left broken.
//!
//! Properties: no firmware makes the platform fault, panic or spin (the
//! run ends); what comes out is bounded by what went in: no more I/O APICs
//! than the MADT has room for, no more virtio-mmio devices than the AML
//! has bytes for; the power button's registers are sane I/O blocks, and
//! soft-off sleep types fit their three bits.

use bolero::{TypeGenerator, check};
use fuzz::PlacedMemory;
use platform::acpi::{Tables, dsdt};

/// Where the buffer starts: the BIOS area the RSDP scan covers.
const BASE: u64 = 0xe_0000;
/// Where each structure goes, as offsets into the buffer.
const RSDP: usize = 0x0;
const ROOT: usize = 0x100;
const FADT: usize = 0x400;
const DSDT: usize = 0x600;
const MADT: usize = 0x2000;
/// The buffer's length: room for the largest fuzzed table after `MADT`.
const LENGTH: usize = 0x6000;
/// A table's header length.
const HEADER: usize = 36;

#[derive(Debug, TypeGenerator)]
struct Firmware {
    /// Even: an RSDT (revision 0); odd: an XSDT (revision 2).
    revision: u8,
    /// The root table's entries: below 200, a table of ours by index;
    /// otherwise the raw address.
    entries: Vec<(u8, u32)>,
    /// The FADT's DSDT address: below 200 ours, else the raw value.
    dsdt_pointer: (u8, u32),
    /// The FADT's power fields (SCI, SMI_CMD, PM1 and GPE blocks and
    /// their lengths: bytes 46..110) and its flags.
    power: [u8; 64],
    fadt_flags: u32,
    /// The MADT's entries: a type (by index into [`MADT_ENTRIES`] below
    /// 200, else raw), a length (the type's below 200, else raw), bytes.
    madt_entries: Vec<(u8, u8, [u8; 14])>,
    /// The DSDT's AML.
    aml: Vec<u8>,
    /// Bytes overwritten after checksumming: (offset, value).
    corruption: Vec<(u16, u8)>,
    /// Whether checksums are fixed again after the corruption.
    refix: bool,
    /// Whether the loader names the RSDP (else the BIOS area is scanned).
    loader_rsdp: bool,
}

/// A table with `signature` and `body`, its length and checksum filled.
fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; HEADER];
    bytes[..4].copy_from_slice(signature);
    bytes.extend_from_slice(body);
    let length = bytes.len() as u32;
    bytes[4..8].copy_from_slice(&length.to_le_bytes());
    bytes[8] = 2;
    fix(&mut bytes, 9);
    bytes
}

/// Sets `bytes[at]` so that all of `bytes` sums to zero.
fn fix(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    let sum = bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte));
    bytes[at] = sum.wrapping_neg();
}

fn address(offset: usize) -> u64 {
    BASE + offset as u64
}

/// An address the fuzzer picked: one of our tables, or raw.
fn pointer((knob, raw): (u8, u32)) -> u64 {
    let ours = [FADT, MADT, DSDT, ROOT];
    match knob {
        0..200 => address(ours[usize::from(knob) % ours.len()]),
        _ => u64::from(raw),
    }
}

fn rsdp(wide: bool) -> Vec<u8> {
    let mut bytes = vec![0u8; 36];
    bytes[..8].copy_from_slice(b"RSD PTR ");
    bytes[15] = if wide { 2 } else { 0 };
    bytes[16..20].copy_from_slice(&(address(ROOT) as u32).to_le_bytes());
    bytes[20..24].copy_from_slice(&36u32.to_le_bytes());
    bytes[24..32].copy_from_slice(&address(ROOT).to_le_bytes());
    fix(&mut bytes[..20], 8);
    fix(&mut bytes, 32);
    bytes
}

fn root(firmware: &Firmware, wide: bool) -> Vec<u8> {
    let entries = firmware.entries.iter().take(32).copied().map(pointer);
    let body: Vec<u8> = if wide {
        entries.flat_map(u64::to_le_bytes).collect()
    } else {
        entries.flat_map(|a| (a as u32).to_le_bytes()).collect()
    };
    table(if wide { b"XSDT" } else { b"RSDT" }, &body)
}

fn fadt(firmware: &Firmware) -> Vec<u8> {
    let mut body = vec![0u8; 244 - HEADER];
    let dsdt = pointer(firmware.dsdt_pointer) as u32;
    body[40 - HEADER..][..4].copy_from_slice(&dsdt.to_le_bytes());
    body[46 - HEADER..][..64].copy_from_slice(&firmware.power);
    body[112 - HEADER..][..4].copy_from_slice(&firmware.fadt_flags.to_le_bytes());
    table(b"FACP", &body)
}

/// MADT entry types and their lengths: local APIC, I/O APIC, interrupt
/// source override, NMI source, local APIC NMI, address override, x2APIC.
const MADT_ENTRIES: [(u8, u8); 7] = [(0, 8), (1, 12), (2, 10), (3, 8), (4, 6), (5, 12), (9, 16)];

fn madt(firmware: &Firmware) -> Vec<u8> {
    let mut body = vec![0u8; 8];
    for &(kind, length, bytes) in firmware.madt_entries.iter().take(64) {
        let (kind, typical) = MADT_ENTRIES[usize::from(kind) % MADT_ENTRIES.len()];
        let (kind, length) = match (kind, length) {
            (_, 0..200) => (kind, typical),
            (_, raw) => (raw % 16, raw % 20),
        };
        let fields = usize::from(length.saturating_sub(2)).min(bytes.len());
        body.extend_from_slice(&[kind, length]);
        body.extend_from_slice(&bytes[..fields]);
    }
    table(b"APIC", &body)
}

/// The buffer the firmware describes.
fn memory(firmware: &Firmware) -> Vec<u8> {
    let wide = firmware.revision % 2 == 1;
    let aml: Vec<u8> = firmware
        .aml
        .iter()
        .take(MADT - DSDT - HEADER)
        .copied()
        .collect();
    let mut bytes = vec![0u8; LENGTH];
    let parts = [
        (RSDP, rsdp(wide)),
        (ROOT, root(firmware, wide)),
        (FADT, fadt(firmware)),
        (DSDT, table(b"DSDT", &aml)),
        (MADT, madt(firmware)),
    ];
    for (offset, part) in &parts {
        let end = (*offset + part.len()).min(LENGTH);
        bytes[*offset..end].copy_from_slice(&part[..end - offset]);
    }
    corrupt(firmware, &mut bytes, &parts);
    bytes
}

/// Applies the corruption and, if asked, fixes every checksum again.
fn corrupt(firmware: &Firmware, bytes: &mut [u8], parts: &[(usize, Vec<u8>)]) {
    for &(offset, value) in &firmware.corruption {
        if let Some(byte) = bytes.get_mut(usize::from(offset)) {
            *byte = value;
        }
    }
    if !firmware.refix {
        return;
    }
    fix(&mut bytes[RSDP..RSDP + 20], 8);
    fix(&mut bytes[RSDP..RSDP + 36], 32);
    for (offset, part) in &parts[1..] {
        let end = (offset + part.len()).min(bytes.len());
        fix(&mut bytes[*offset..end], 9);
    }
}

#[test]
fn firmware_tables_never_break_the_platform_and_yield_bounded_answers() {
    check!().with_type::<Firmware>().for_each(|firmware| {
        let memory = PlacedMemory::new(BASE, &memory(firmware));
        let rsdp = firmware.loader_rsdp.then_some(address(RSDP));
        let Some(tables) = Tables::find(&memory, rsdp) else {
            return;
        };
        if let Some(madt) = tables.madt() {
            let room = (LENGTH - MADT) / 12;
            assert!(madt.io_apics().count() <= room, "more I/O APICs than fit");
        }
        if let Some(aml) = tables.dsdt() {
            assert!(dsdt::virtio_mmio_devices(aml).count() <= aml.len());
        }
        check_power(&tables);
    });
}

/// The power button's registers and the soft-off types are sane.
fn check_power(tables: &Tables<'_, PlacedMemory>) {
    if let Ok(hardware) = tables.fixed_hardware() {
        assert!((1..16).contains(&hardware.sci));
        let blocks = hardware.events.iter().chain(&hardware.controls.blocks);
        for block in blocks.flatten() {
            assert!(block.port != 0 && block.length >= 2 && block.length % 2 == 0);
        }
        if let Some(madt) = tables.madt() {
            let _ = madt.isa_override(hardware.sci);
        }
    }
    if let Some(types) = tables.soft_off() {
        assert!(types.a <= 7 && types.b <= 7);
    }
    if let Some(reduced) = tables.hardware_reduced() {
        assert!(reduced.device.selector != 0 && reduced.device.selector % 4 == 0);
    }
}
