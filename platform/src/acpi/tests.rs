//! Tests of the way to the tables: loader or scan, RSDT fallback, guards.
//!
//! The firmware: RSDP at 0xF0000 → XSDT at 0x10000 (and RSDT at 0x14000)
//! → FACP at 0x11000 → DSDT at 0x12000; APIC at 0x13000. Signature and
//! checksum checks are the crate's and not tested again here; what is
//! tested is which root is read, and that no corrupted length or address
//! makes the crate fault, panic or spin.

use std::vec::Vec;

use super::build::{fix_checksum, table};
use super::mapper::MAXIMUM_MAPPING;
use super::*;
use crate::bootinfo::physical::fake::FakeMemory;

const RSDP: u64 = 0xf_0000;
const XSDT: u64 = 0x1_0000;
const FADT: u64 = 0x1_1000;
const DSDT: u64 = 0x1_2000;
const MADT: u64 = 0x1_3000;
const RSDT: u64 = 0x1_4000;

/// The firmware's structures, before placing.
struct Firmware {
    rsdp: Vec<u8>,
    xsdt: Vec<u8>,
    rsdt: Vec<u8>,
    fadt: Vec<u8>,
    dsdt: Vec<u8>,
    madt: Vec<u8>,
}

impl Firmware {
    /// An RSDP of `revision` naming the XSDT at `xsdt` and the RSDT.
    fn new(revision: u8, xsdt: u64) -> Self {
        let mut rsdp = std::vec![0u8; 36];
        rsdp[..8].copy_from_slice(b"RSD PTR ");
        rsdp[15] = revision;
        rsdp[16..20].copy_from_slice(&(RSDT as u32).to_le_bytes());
        rsdp[20..24].copy_from_slice(&36u32.to_le_bytes());
        rsdp[24..32].copy_from_slice(&xsdt.to_le_bytes());
        let wide: Vec<u8> = [MADT, FADT].iter().flat_map(|a| a.to_le_bytes()).collect();
        let narrow: Vec<u8> = [MADT as u32].iter().flat_map(|a| a.to_le_bytes()).collect();
        let mut fadt = std::vec![0u8; 244 - HEADER_LENGTH];
        fadt[40 - HEADER_LENGTH..][..4].copy_from_slice(&(DSDT as u32).to_le_bytes());
        let mut madt = std::vec![0u8; 8];
        madt.extend_from_slice(&[1, 12, 1, 0, 0, 0, 0xc1, 0xfe, 24, 0, 0, 0]);
        Self {
            rsdp,
            xsdt: table(b"XSDT", &wide),
            rsdt: table(b"RSDT", &narrow),
            fadt: table(b"FACP", &fadt),
            dsdt: table(b"DSDT", b"aml"),
            madt: table(b"APIC", &madt),
        }
    }

    /// Memory holding the structures, their checksums fixed.
    fn place(mut self) -> FakeMemory {
        fix_checksum(&mut self.rsdp[..20], 8);
        fix_checksum(&mut self.rsdp, 32);
        let mut memory = FakeMemory::new(0x1_0000, 0x10_0000);
        memory.write(RSDP, &self.rsdp);
        for (address, mut table) in [
            (XSDT, self.xsdt),
            (RSDT, self.rsdt),
            (FADT, self.fadt),
            (DSDT, self.dsdt),
            (MADT, self.madt),
        ] {
            fix_checksum(&mut table, 9);
            memory.write(address, &table);
        }
        memory
    }
}

/// What the tables at `rsdp` yield: I/O APICs and DSDT length.
fn read(memory: &FakeMemory, rsdp: Option<u64>) -> Option<(usize, Option<usize>)> {
    let tables = Tables::find(memory, rsdp)?;
    // Asked for their effect: neither may fault, panic or spin.
    let _ = (tables.fixed_hardware(), tables.soft_off());
    let _ = tables.hardware_reduced();
    let io_apics = tables.madt().map_or(0, |madt| madt.io_apics().count());
    Some((io_apics, tables.dsdt().map(<[u8]>::len)))
}

#[test]
fn finds_the_tables_from_the_loader_or_in_the_bios_area() {
    let memory = Firmware::new(2, XSDT).place();
    assert_eq!(read(&memory, Some(RSDP)), Some((1, Some(3))));
    assert_eq!(scan_for_rsdp(Mapper::new(&memory)), Some(RSDP));
    let tables = Tables::find(&memory, None).unwrap();
    assert_eq!(tables.dsdt(), Some(&b"aml"[..]));
    let io_apic = tables.madt().unwrap().io_apics().next().unwrap();
    assert_eq!((io_apic.address, io_apic.gsi_base), (0xfec1_0000, 24));
}

#[test]
fn revision_0_or_no_xsdt_reads_the_rsdt() {
    for firmware in [Firmware::new(0, XSDT), Firmware::new(2, 0)] {
        let memory = firmware.place();
        assert_eq!(
            read(&memory, Some(RSDP)),
            Some((1, None)),
            "the RSDT lists no FADT"
        );
    }
}

#[test]
fn nothing_valid_gives_no_tables() {
    let empty = FakeMemory::new(0x1_0000, 0x10_0000);
    assert!(Tables::find(&empty, None).is_none());
    let memory = Firmware::new(2, XSDT).place();
    assert!(Tables::find(&memory, Some(RSDP + 16)).is_none());
    assert!(
        Tables::find(&memory, Some(0x20_0000)).is_none(),
        "unreadable"
    );
}

/// Values for a corrupted byte: lengths around a header, and extremes.
const GARBAGE: [u8; 6] = [0, 1, 0x23, 0x24, 0x80, 0xff];

/// Sets each byte of one structure to each [`GARBAGE`] value, checksums
/// fixed again, and reads the tables: nothing may fault, panic or spin,
/// and nothing beyond the real tables may appear.
fn corrupt_each_byte(part: fn(&mut Firmware) -> &mut Vec<u8>) {
    let length = part(&mut Firmware::new(2, XSDT)).len();
    for (offset, value) in (0..length).flat_map(|offset| GARBAGE.map(|value| (offset, value))) {
        let mut firmware = Firmware::new(2, XSDT);
        part(&mut firmware)[offset] = value;
        let memory = firmware.place();
        if let Some((io_apics, dsdt)) = read(&memory, Some(RSDP)) {
            assert!(io_apics <= 1, "byte {offset} = {value:#x}");
            assert!(dsdt.is_none_or(|length| length <= MAXIMUM_MAPPING));
        }
    }
}

#[test]
fn corrupt_rsdp_and_root_tables_are_harmless() {
    corrupt_each_byte(|firmware| &mut firmware.rsdp);
    corrupt_each_byte(|firmware| &mut firmware.xsdt);
}

#[test]
fn corrupt_fadt_dsdt_and_madt_are_harmless() {
    corrupt_each_byte(|firmware| &mut firmware.fadt);
    corrupt_each_byte(|firmware| &mut firmware.dsdt);
    corrupt_each_byte(|firmware| &mut firmware.madt);
}

/// Sets the FADT's `width`-byte field at table offset `offset`.
fn set_fadt(firmware: &mut Firmware, offset: usize, value: u32, width: usize) {
    firmware.fadt[offset..offset + width].copy_from_slice(&value.to_le_bytes()[..width]);
}

/// Firmware with QEMU q35's power hardware and `\_S5_` (SLP_TYP 5).
fn power_firmware() -> Firmware {
    let mut firmware = Firmware::new(2, XSDT);
    for (offset, value, width) in [
        (46, 9, 2),     // SCI_INT
        (48, 0xb2, 4),  // SMI_CMD
        (52, 2, 1),     // ACPI_ENABLE
        (56, 0x600, 4), // PM1a_EVT_BLK
        (64, 0x604, 4), // PM1a_CNT_BLK
        (80, 0x620, 4), // GPE0_BLK
        (88, 4, 1),     // PM1_EVT_LEN
        (89, 2, 1),     // PM1_CNT_LEN
        (92, 16, 1),    // GPE0_BLK_LEN
    ] {
        set_fadt(&mut firmware, offset, value, width);
    }
    firmware.dsdt = table(b"DSDT", b"\x08\\_S5_\x12\x08\x04\x0a\x05\x0a\x05\x00\x00");
    firmware
}

#[test]
fn the_power_button_and_soft_off_come_from_fadt_and_dsdt() {
    let memory = power_firmware().place();
    let tables = Tables::find(&memory, Some(RSDP)).unwrap();
    let hardware = tables.fixed_hardware().expect("a power button");
    let block = |port, length| Some(fixed::Block { port, length });
    assert_eq!(hardware.sci, 9);
    assert_eq!(hardware.controls.acpi_enable, Some((0xb2, 2)));
    assert_eq!(hardware.events, [block(0x600, 4), None]);
    assert_eq!(hardware.controls.blocks, [block(0x604, 2), None]);
    assert_eq!(tables.controls(), Some(hardware.controls));
    assert_eq!(hardware.general_events, [block(0x620, 16), None]);
    assert_eq!(tables.soft_off(), Some(SleepTypes { a: 5, b: 5 }));
}

#[test]
fn flags_and_missing_registers_say_why_there_is_no_button() {
    let cases: [(usize, u32, usize, NoButton); 7] = [
        (88, 32, 1, NoButton::Registers), // the crate's u8 would overflow
        (92, 0xff, 1, NoButton::Registers),
        (112, 1 << 20, 4, NoButton::HardwareReduced),
        (112, 1 << 4, 4, NoButton::ControlMethod),
        (46, 0, 2, NoButton::NoSci),
        (46, 300, 2, NoButton::NoSci),
        (56, 0, 4, NoButton::Registers),
    ];
    for (offset, value, width, why) in cases {
        let mut firmware = power_firmware();
        set_fadt(&mut firmware, offset, value, width);
        let memory = firmware.place();
        let tables = Tables::find(&memory, Some(RSDP)).unwrap();
        assert_eq!(tables.fixed_hardware(), Err(why), "offset {offset}");
    }
    let mut firmware = power_firmware();
    set_fadt(&mut firmware, 89, 0x80, 1);
    let memory = firmware.place();
    let tables = Tables::find(&memory, Some(RSDP)).unwrap();
    assert_eq!(tables.controls(), None, "PM1_CNT_LEN would overflow");
    let memory = Firmware::new(0, XSDT).place();
    let tables = Tables::find(&memory, Some(RSDP)).unwrap();
    assert_eq!(tables.fixed_hardware(), Err(NoButton::NoFadt));
    assert_eq!(tables.soft_off(), None);
}
