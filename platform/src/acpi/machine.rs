//! This machine's ACPI tables, read through the boot identity map.
//!
//! Firmware tables lie below 4 GiB (RSDT entries are 32-bit; QEMU's and
//! typical firmware's XSDT entries too), inside the identity map the boot
//! code set up, and nothing writes them after boot.

use super::Tables;
use super::button::{self, PowerButton};
use super::dsdt::{self, VirtioMmio};
use super::fixed::NoButton;
use super::madt::{IoApicEntry, IsaRoute};
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

/// The ACPI power button, armed, or why there is none: the fixed
/// feature, or on a hardware-reduced machine its Generic Event Device.
pub fn power_button(rsdp: Option<u64>) -> Result<PowerButton, NoButton> {
    let tables = tables(rsdp).ok_or(NoButton::NoFadt)?;
    let hardware = match tables.fixed_hardware() {
        Ok(hardware) => hardware,
        Err(NoButton::HardwareReduced) => {
            let reduced = tables.hardware_reduced();
            let reduced = reduced.ok_or(NoButton::HardwareReduced)?;
            return PowerButton::arm_event_device(reduced.device);
        }
        Err(why) => return Err(why),
    };
    let overridden = tables
        .madt()
        .and_then(|madt| madt.isa_override(hardware.sci));
    // Without an override the SCI is its own GSI, level, active low.
    let route = overridden.unwrap_or(IsaRoute {
        gsi: u32::from(hardware.sci),
        level_triggered: None,
        active_low: None,
    });
    PowerButton::arm(hardware, route)
}

/// Enters ACPI soft off (S5) if the FADT and the DSDT say how; returns
/// if there is no way or the machine still runs.
pub fn soft_off(rsdp: Option<u64>) {
    let Some(tables) = tables(rsdp) else {
        return;
    };
    let Some(types) = tables.soft_off() else {
        return;
    };
    if let Some(controls) = tables.controls() {
        button::soft_off(controls, types);
    } else if let Some(register) = tables.sleep_control() {
        button::soft_off_reduced(register, types);
    }
}
