//! The orderly stop on bare metal: QEMU's `system_powerdown` (through
//! QMP) presses the guest's ACPI power button; the appliance shuts its
//! kernel down, which unmounts the ext2 disk clean and flushes it, and
//! exits with success (QEMU's exit device says so before ACPI soft off
//! could). Linux then finds the disk clean, not merely repairable: its
//! superblock says "clean" and `e2fsck -fn` finds nothing, and the file
//! uploaded before the stop reads back with `debugfs`. On q35 the button
//! is ACPI's fixed feature (PM1 status, the SCI), on microvm its Generic
//! Event Device. A machine without ACPI says once that it has no power
//! button and serves on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use qemu_tests::clients::{connect, free_port, http_get, http_put};
use qemu_tests::{Disk, Ext2Image, Forward, Machine, Network, Nic, QemuConfig};
use qemu_tests::{appliance_image, boot, qmp};

/// How long the guest may take to boot and get its DHCP lease.
const LEASE_DEADLINE: Duration = Duration::from_secs(60);
/// How long the orderly stop may take, from the button to QEMU's exit.
const STOP_DEADLINE: Duration = Duration::from_secs(60);

/// A scratch directory for the QMP socket, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let directory =
            std::env::temp_dir().join(format!("anykernel-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a scratch directory");
        Scratch(directory)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `length` bytes that are not all alike.
fn contents(length: usize) -> Vec<u8> {
    (0..length)
        .map(|index| (index * 7 + index / 251) as u8)
        .collect()
}

/// Boots the appliance on `machine` with a writable ext2 disk, uploads a
/// file, presses the power button and judges the stop and the disk.
fn power_button_stops_in_order(machine: Machine, tag: &str) {
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("files");
    let image = Ext2Image::new(tag, 16, Some(&site));
    let scratch = Scratch::new(tag);
    let socket = scratch.path("qmp.sock");
    let http = free_port();
    let forward = Forward {
        host_port: http,
        guest_port: 80,
    };
    let config = QemuConfig::kernel(appliance_image())
        .machine(machine)
        .params(["http.writable=1"])
        .nic(Nic::new(Network::User {
            forwards: vec![forward],
        }))
        .disk(Disk::new(&image.path))
        .qmp(&socket);
    let mut qemu = boot(&config);
    qemu.expect_line("vioif0 is 10.0.2.15/24 via 10.0.2.2", LEASE_DEADLINE);
    if !qemu.log().contains("anykernel: ready") {
        qemu.expect_line("anykernel: ready", LEASE_DEADLINE);
    }
    assert!(!qemu.log().contains("no power button"), "{}", qemu.log());
    let upload = contents(300_000);
    let mut client = connect(http).expect("the appliance answers");
    let put = http_put(&mut client, "/files/tmp/stopped.bin", &upload).expect("a response");
    assert_eq!(put.status, 201, "{}", qemu.log());
    drop(client);
    qmp::system_powerdown(&socket).expect("QEMU takes system_powerdown");
    let outcome = qemu.wait_for_exit(STOP_DEADLINE);
    outcome.assert_passed();
    outcome.assert_contains("anykernel: power button pressed");
    outcome.assert_contains("anykernel: stopping");
    outcome.assert_contains("anykernel: stopped");
    assert_eq!(image.state(), "clean", "the superblock after the stop");
    let (clean, report) = image.check();
    assert!(clean, "e2fsck -fn: {report}");
    assert!(
        image.cat("/tmp/stopped.bin") == upload,
        "debugfs reads the upload"
    );
}

#[test]
fn q35_power_button_stops_the_appliance_in_order_with_a_clean_disk() {
    power_button_stops_in_order(Machine::Q35, "power-q35");
}

#[test]
fn microvm_power_button_stops_the_appliance_in_order_with_a_clean_disk() {
    power_button_stops_in_order(Machine::Microvm, "power-microvm");
}

#[test]
fn without_acpi_there_is_no_power_button_and_the_appliance_serves_on() {
    let http = free_port();
    let forward = Forward {
        host_port: http,
        guest_port: 80,
    };
    let config = QemuConfig::kernel(appliance_image())
        .machine(Machine::Microvm)
        .args(["-machine", "acpi=off"])
        .nic(Nic::new(Network::User {
            forwards: vec![forward],
        }));
    let mut qemu = boot(&config);
    qemu.expect_line("vioif0 is 10.0.2.15/24 via 10.0.2.2", LEASE_DEADLINE);
    if !qemu.log().contains("anykernel: ready") {
        qemu.expect_line("anykernel: ready", LEASE_DEADLINE);
    }
    let mut client = connect(http).expect("the appliance answers");
    let page = http_get(&mut client, "/").expect("a response");
    assert_eq!(page.status, 200, "{}", qemu.log());
    let log = qemu.log();
    let said = log
        .matches("anykernel: no power button: no ACPI FADT")
        .count();
    assert_eq!(said, 1, "one line says why: {log}");
    let outcome = qemu.stop();
    outcome.assert_contains("anykernel: ready");
}
