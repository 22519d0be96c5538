//! Boot: every image reaches `anykernel: ready` through PVH and GRUB.
//!
//! The first serial line names the loader (`PVH` for QEMU `-kernel`,
//! `multiboot2` under GRUB). Images that do not exit by themselves are
//! killed when the handle drops.

use qemu_tests::protocol::{BOOT_MARKER, READY_MARKER, boot_loader, ready_micros};
use qemu_tests::{
    BOOT_DEADLINE, ISO_DEADLINE, Machine, Qemu, QemuConfig, appliance_image, boot, iso_image,
    selftest_image,
};

/// Asserts that `qemu` announces `loader` and then becomes ready.
fn assert_loader_then_ready(qemu: &mut Qemu, loader: &str, within: std::time::Duration) {
    let boot_line = qemu.expect_line(BOOT_MARKER, within);
    assert_eq!(boot_loader(&boot_line.text), Some(loader), "{}", qemu.log());
    let ready = qemu.expect_line(READY_MARKER, within);
    assert!(
        ready_micros(&ready.text).is_some(),
        "malformed ready line; {}",
        qemu.log()
    );
}

/// Boots `image` through PVH on `machine` and checks the first line and readiness.
fn assert_pvh_boot(image: std::path::PathBuf, machine: Machine) {
    let mut qemu = boot(&QemuConfig::kernel(image).machine(machine));
    let first = qemu.expect_first_line(BOOT_DEADLINE);
    assert_eq!(
        boot_loader(&first.text),
        Some("PVH"),
        "first line; {}",
        qemu.log()
    );
    assert_loader_then_ready(&mut qemu, "PVH", BOOT_DEADLINE);
}

#[test]
fn selftest_image_boots_through_pvh_on_q35_with_qboot() {
    assert_pvh_boot(selftest_image(), Machine::Q35);
}

#[test]
fn selftest_image_boots_through_pvh_on_microvm() {
    assert_pvh_boot(selftest_image(), Machine::Microvm);
}

#[test]
fn appliance_boots_through_pvh_on_q35_with_qboot() {
    assert_pvh_boot(appliance_image(), Machine::Q35);
}

#[test]
fn appliance_boots_through_pvh_on_microvm() {
    assert_pvh_boot(appliance_image(), Machine::Microvm);
}

/// GRUB prints its own output first, so the kernel's first line is found
/// by its marker rather than by position.
#[test]
fn grub_iso_boots_the_appliance_through_multiboot2_with_seabios() {
    let mut qemu = boot(&QemuConfig::iso(iso_image()));
    assert_loader_then_ready(&mut qemu, "multiboot2", ISO_DEADLINE);
    // The files baked into the image are there on this boot path too.
    assert!(qemu.log().contains("nodes at /www"), "{}", qemu.log());
}
