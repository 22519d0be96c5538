//! Memory: the allocator case passes, and a small machine still boots.

use qemu_tests::protocol::{READY_MARKER, pass_line};
use qemu_tests::{BOOT_DEADLINE, Machine, QemuConfig, appliance_image, boot, selftest};

#[test]
fn the_memory_case_passes() {
    let outcome = selftest("memory", Machine::Q35);
    outcome.assert_passed();
    outcome.assert_contains(&pass_line("memory"));
}

#[test]
fn the_appliance_becomes_ready_with_16_mib() {
    let mut qemu = boot(&QemuConfig::kernel(appliance_image()).memory_mib(16));
    qemu.expect_line(READY_MARKER, BOOT_DEADLINE);
}
