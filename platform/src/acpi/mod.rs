//! ACPI tables: found and checked by the `acpi` crate.
//!
//! Only what the machine layer needs: the MADT's I/O APICs (microvm has a
//! second one, at 0xFEC10000 serving GSIs 24..=47) and the DSDT's
//! virtio-mmio devices (how microvm describes them when ACPI is on; it
//! then writes no `virtio_mmio.device=` words on the command line). The
//! RSDP comes from the loader (PVH `rsdp_paddr`; multiboot2 tags, into
//! which GRUB copies it) or from a scan of the BIOS area.
//!
//! The `acpi` crate, read through [`PhysicalMemory`], validates the RSDP,
//! walks the RSDT or XSDT, checks each table's signature and checksum,
//! reads the FADT's DSDT address and types the MADT's entries. It is 5.2
//! without default features, the newest that builds on stable Rust: 6.x
//! needs nightly (`allocator_api`), 7 is a pre-release, and every AML
//! interpreter of rust-osdev needs nightly too. What stays ours:
//! - [`mapper`]: how the crate reaches memory, and that it never reaches
//!   past what [`PhysicalMemory`] can read;
//! - guards for the lengths the crate trusts: the RSDP's (`root`), the
//!   root table's and the DSDT's (`holds_header`), the MADT's entry chain
//!   ([`madt`]);
//! - the BIOS-area scan: the crate's own checksums each candidate over the
//!   candidate's unchecked length field;
//! - [`dsdt`]: a bounded scan of the AML for virtio-mmio devices;
//! - [`fixed`] and [`sleep`]: the power button's registers in the FADT
//!   and the soft-off sleep types in the DSDT (`\_S5_`), for an orderly
//!   stop and power off; [`ged`]: a hardware-reduced machine's button
//!   (microvm's Generic Event Device); `button` (image only) drives them.
//!
//! Garbage firmware thus yields no tables, never a fault, panic or hang
//! (the tests corrupt each byte that steers a walk). Everything but
//! `machine` (image only: real memory) runs on the host too.

#[cfg(target_os = "none")]
pub mod button;
pub mod dsdt;
pub mod fixed;
pub mod ged;
#[cfg(target_os = "none")]
pub mod machine;
pub mod madt;
pub mod mapper;
pub mod sleep;

use core::mem::size_of;

use acpi::fadt::Fadt;
use acpi::madt::Madt;
use acpi::rsdp::Rsdp;
use acpi::sdt::SdtHeader;
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};

use crate::bootinfo::PhysicalMemory;
use fixed::{Controls, FixedHardware, NoButton};
use madt::CheckedMadt;
use mapper::{HEADER_LENGTH, Mapper};
use sleep::SleepTypes;

/// Where the BIOS keeps the RSDP when no loader says (16-byte aligned).
const BIOS_AREA: (u64, u64) = (0xe_0000, 0x10_0000);

/// The tables behind one RSDP.
#[derive(Debug)]
pub struct Tables<'m, M: PhysicalMemory> {
    mapper: Mapper<'m, M>,
    tables: AcpiTables<Mapper<'m, M>>,
}

impl<'m, M: PhysicalMemory> Tables<'m, M> {
    /// The tables behind the RSDP at `rsdp` (or found in the BIOS area
    /// when `None`); `None` if there are no valid ones.
    pub fn find(memory: &'m M, rsdp: Option<u64>) -> Option<Self> {
        let mapper = Mapper::new(memory);
        let rsdp = rsdp.or_else(|| scan_for_rsdp(mapper))?;
        let (revision, root) = root(mapper, rsdp)?;
        if !holds_header(mapper, root) {
            return None;
        }
        // SAFETY: the crate reads the root table through `mapper`, which
        // lends only readable memory, and that table is at least a header
        // long (the crate subtracts the header from its length unchecked).
        let tables =
            unsafe { AcpiTables::from_rsdt(mapper, revision, usize::try_from(root).ok()?) };
        Some(Self {
            mapper,
            tables: tables.ok()?,
        })
    }

    /// The MADT, if valid and safe to walk.
    pub fn madt(&self) -> Option<CheckedMadt<'m, M>> {
        CheckedMadt::new(self.mapper, self.tables.find_table::<Madt>().ok()?)
    }

    /// The power button's registers, or why there is no button.
    pub fn fixed_hardware(&self) -> Result<FixedHardware, NoButton> {
        let fadt = self
            .tables
            .find_table::<Fadt>()
            .map_err(|_| NoButton::NoFadt)?;
        if !self.lengths_fit(&fadt) {
            return Err(NoButton::Registers);
        }
        FixedHardware::from_fadt(&fadt)
    }

    /// The PM1 control registers soft off writes, if the FADT has them.
    pub fn controls(&self) -> Option<Controls> {
        let fadt = self.tables.find_table::<Fadt>().ok()?;
        self.lengths_fit(&fadt).then_some(())?;
        Controls::from_fadt(&fadt)
    }

    /// Whether the crate may read `fadt`'s blocks ([`fixed::lengths_fit`]).
    fn lengths_fit(&self, fadt: &PhysicalMapping<Mapper<'m, M>, Fadt>) -> bool {
        let Ok(address) = u64::try_from(fadt.physical_start()) else {
            return false;
        };
        let bytes = self.mapper.bytes(address, fixed::LEGACY_LENGTHS_END);
        bytes.is_some_and(fixed::lengths_fit)
    }

    /// The hardware-reduced power button and sleep control register: the
    /// DSDT's Generic Event Device and the FADT's register, if both exist.
    pub fn hardware_reduced(&self) -> Option<HardwareReduced> {
        let sleep_control = self.sleep_control()?;
        let device = ged::generic_event_device(self.dsdt()?)?;
        Some(HardwareReduced {
            device,
            sleep_control,
        })
    }

    /// A hardware-reduced machine's sleep control register.
    pub fn sleep_control(&self) -> Option<fixed::SleepControl> {
        let fadt = self.tables.find_table::<Fadt>().ok()?;
        fixed::sleep_control_register(&fadt)
    }

    /// The soft-off sleep types the DSDT declares.
    pub fn soft_off(&self) -> Option<SleepTypes> {
        sleep::soft_off(self.dsdt()?)
    }

    /// The DSDT's AML (after its header), through the FADT.
    pub fn dsdt(&self) -> Option<&'m [u8]> {
        let fadt = self.tables.find_table::<Fadt>().ok()?;
        let address = u64::try_from(fadt.dsdt_address().ok()?).ok()?;
        if !holds_header(self.mapper, address) {
            return None;
        }
        let aml = self.tables.dsdt().ok()?;
        let length = usize::try_from(aml.length).ok()?;
        self.mapper.bytes(u64::try_from(aml.address).ok()?, length)
    }
}

/// A hardware-reduced machine's power button and soft-off register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HardwareReduced {
    /// The Generic Event Device that signals the button.
    pub device: ged::GenericEventDevice,
    /// The FADT's sleep control register.
    pub sleep_control: fixed::SleepControl,
}

/// The address of a valid RSDP in the BIOS area, if there is one.
fn scan_for_rsdp<M: PhysicalMemory>(mapper: Mapper<'_, M>) -> Option<u64> {
    (BIOS_AREA.0..BIOS_AREA.1)
        .step_by(16)
        .find(|&address| root(mapper, address).is_some())
}

/// The revision to read the root table with (0: RSDT) and its address,
/// from the RSDP at `address` if the crate validates it. An ACPI 2.0 RSDP
/// whose XSDT address is 0 falls back to its RSDT.
fn root<M: PhysicalMemory>(mapper: Mapper<'_, M>, address: u64) -> Option<(u8, u64)> {
    let start = usize::try_from(address).ok()?;
    // SAFETY: the mapper lends only readable memory (or zeroes).
    let fixed = unsafe { mapper.map_physical_region::<Rsdp>(start, size_of::<Rsdp>()) };
    let extended = fixed.revision() > 0;
    // The crate checksums an ACPI 2.0 RSDP over its own length field: map
    // that much, so the mapper refuses a length past readable memory.
    let length = match extended {
        true => usize::try_from(fixed.length()).ok()?,
        false => size_of::<Rsdp>(),
    };
    if length < size_of::<Rsdp>() {
        return None;
    }
    // SAFETY: as above.
    let rsdp = unsafe { mapper.map_physical_region::<Rsdp>(start, length) };
    rsdp.validate().ok()?;
    match (rsdp.revision() > 0).then(|| rsdp.xsdt_address()) {
        Some(xsdt) if xsdt != 0 => Some((rsdp.revision(), xsdt)),
        _ => Some((0, u64::from(rsdp.rsdt_address()))),
    }
}

/// Whether the table at `address` claims at least a header's length: the
/// crate subtracts the header from root and AML table lengths unchecked.
fn holds_header<M: PhysicalMemory>(mapper: Mapper<'_, M>, address: u64) -> bool {
    let Ok(start) = usize::try_from(address) else {
        return false;
    };
    // SAFETY: the mapper lends only readable memory (or zeroes: length 0).
    let header = unsafe { mapper.map_physical_region::<SdtHeader>(start, HEADER_LENGTH) };
    usize::try_from(header.length).is_ok_and(|length| length >= HEADER_LENGTH)
}

/// Test helpers: tables with correct checksums.
#[cfg(test)]
pub(crate) mod build {
    use std::vec::Vec;

    /// A table with `signature` and `body`, its length and checksum set.
    pub fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut table = std::vec![0u8; super::HEADER_LENGTH];
        table[..4].copy_from_slice(signature);
        table.extend_from_slice(body);
        let length = table.len() as u32;
        table[4..8].copy_from_slice(&length.to_le_bytes());
        fix_checksum(&mut table, 9);
        table
    }

    /// Sets byte `at` so that `bytes` sum to zero.
    pub fn fix_checksum(bytes: &mut [u8], at: usize) {
        bytes[at] = 0;
        let sum = bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte));
        bytes[at] = sum.wrapping_neg();
    }
}

#[cfg(test)]
mod tests;
