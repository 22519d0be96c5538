//! `cargo xtask test --app NAME [--quick]`: one application's checks.
//!
//! The workspace's lints (the application is a member, so they cover it),
//! the application's own tests (`cargo test -p NAME`), its bare-metal
//! image, and that image booted on q35 and on microvm with a virtio NIC on
//! user networking: each boot must print `anykernel: ready` within
//! [`BOOT_DEADLINE`] and is then stopped, since an appliance serves until
//! it is. `--quick` skips the boots. The first failing stage stops the
//! run; a summary with per-stage timings ends it either way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use qemu_tests::{Machine, Network, Nic, Qemu, QemuConfig, WaitError};

use super::summary::Summary;
use crate::apps::{self, App};
use crate::command::{cargo, run};
use crate::setup::{Need, ensure};

/// How long an image may take to say it is ready (TCG, a loaded machine).
const BOOT_DEADLINE: Duration = Duration::from_secs(60);
/// How long QEMU, having closed its output, may take to exit.
const REAP_DEADLINE: Duration = Duration::from_secs(5);
/// The line an application prints once it serves.
const READY: &str = "anykernel: ready";
/// The machines every application image boots on.
const MACHINES: [Machine; 2] = [Machine::Q35, Machine::Microvm];

/// The `test --app NAME` verb.
pub fn app_test_verb(name: &str, quick: bool) -> Result<(), String> {
    let needs: &[Need] = if quick {
        &[Need::Target]
    } else {
        &[Need::Target, Need::Qemu]
    };
    ensure(needs)?;
    let app = App::find(name)?;
    let mut summary = Summary::default();
    super::lint_stages(&mut summary);
    summary.stage(format!("cargo test -p {}", app.package), || {
        run(cargo(&["test", "-p", &app.package]))
    });
    let mut image: Option<PathBuf> = None;
    summary.stage("bare-metal image", || {
        image = Some(apps::build_image(&app)?);
        Ok(())
    });
    for machine in MACHINES {
        let stage = format!("boot to ready ({machine})");
        match &image {
            Some(image) if !quick => summary.stage(stage, || boot_to_ready(image, machine)),
            _ => summary.skip(stage),
        }
    }
    eprint!("{}", summary.render());
    if summary.failed() {
        Err(format!("the tests of {name} failed"))
    } else {
        Ok(())
    }
}

/// Boots `image` on `machine` with a NIC on user networking, waits for
/// [`READY`], and stops it; on failure, says why with the serial log.
fn boot_to_ready(image: &Path, machine: Machine) -> Result<(), String> {
    let network = Network::User {
        forwards: Vec::new(),
    };
    let config = QemuConfig::kernel(image)
        .machine(machine)
        .nic(Nic::new(network));
    let mut qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    match qemu.wait_for_line(READY, BOOT_DEADLINE) {
        Ok(line) => {
            let seconds = line.at.as_secs_f64();
            eprintln!("xtask: `{}` after {seconds:.2} s", line.text.trim());
            qemu.stop();
            Ok(())
        }
        Err(error) => {
            // QEMU that exited is reaped for its verdict; one that is
            // still running is killed.
            let outcome = match error {
                WaitError::Exited => qemu.wait_for_exit(REAP_DEADLINE),
                WaitError::Timeout => qemu.stop(),
            };
            Err(format!(
                "no `{READY}` line on {machine} ({error}): {outcome}"
            ))
        }
    }
}
