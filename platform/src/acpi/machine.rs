//! This machine's ACPI tables, read through the boot identity map.
//!
//! Firmware tables lie below 4 GiB (RSDT entries are 32-bit; QEMU's and
//! typical firmware's XSDT entries too), inside the identity map the boot
//! code set up, and nothing writes them after boot.

use super::Tables;
use super::dsdt::{self, VirtioMmio};
use super::madt::IoApicEntry;
use crate::boot::info::IdentityMap;

static IDENTITY_MAP: IdentityMap = IdentityMap;

/// The tables, from the loader's RSDP or the BIOS area.
fn tables(rsdp: Option<u64>) -> Option<Tables<'static, IdentityMap>> {
    Tables::find(&IDENTITY_MAP, rsdp)
}

/// Hands `visit` each I/O APIC the MADT lists (none without tables).
pub fn io_apics(rsdp: Option<u64>, visit: impl FnMut(IoApicEntry)) {
    if let Some(madt) = tables(rsdp).and_then(|tables| tables.madt()) {
        madt.io_apics().for_each(visit);
    }
}

/// The virtio-mmio devices the DSDT describes (none without tables).
pub fn virtio_mmio_devices(rsdp: Option<u64>) -> impl Iterator<Item = VirtioMmio> {
    tables(rsdp)
        .and_then(|tables| tables.dsdt())
        .into_iter()
        .flat_map(dsdt::virtio_mmio_devices)
}
