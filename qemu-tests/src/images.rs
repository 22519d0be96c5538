//! The images under test, found through environment variables set by xtask.
//!
//! `cargo xtask test` builds the images and the ISO, then runs this crate's
//! tests with their paths in `ANYKERNEL_IMAGE`, `ANYKERNEL_SELFTEST_IMAGE`,
//! `ANYKERNEL_KV_IMAGE` and `ANYKERNEL_ISO`. Without them a test stops with a message saying so.
//! The deadlines are generous: tests run two QEMUs at once under TCG on a
//! loaded two-core machine.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::QemuConfig;
use crate::machine::Machine;
use crate::outcome::Outcome;
use crate::running::Qemu;

/// The appliance ELF (`anykernel`).
pub const IMAGE_ENV: &str = "ANYKERNEL_IMAGE";
/// The selftest ELF (`anykernel-selftest`).
pub const SELFTEST_IMAGE_ENV: &str = "ANYKERNEL_SELFTEST_IMAGE";
/// The GRUB ISO holding the appliance.
pub const ISO_ENV: &str = "ANYKERNEL_ISO";
/// The kv appliance ELF (`kv`).
pub const KV_IMAGE_ENV: &str = "ANYKERNEL_KV_IMAGE";

/// Time for a PVH boot to print `anykernel: ready` (it takes ~0.05 s).
pub const BOOT_DEADLINE: Duration = Duration::from_secs(10);
/// Time for a GRUB ISO (SeaBIOS, TCG) to reach `anykernel: ready`.
pub const ISO_DEADLINE: Duration = Duration::from_secs(20);
/// Time for one selftest case, boot included.
pub const SELFTEST_DEADLINE: Duration = Duration::from_secs(30);

#[track_caller]
fn image_from(variable: &str) -> PathBuf {
    match std::env::var_os(variable) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => panic!(
            "{variable} is not set: run the QEMU tests through `cargo xtask test`, \
             which builds the images and sets it"
        ),
    }
}

/// The appliance ELF; panics if xtask did not say where it is.
#[track_caller]
pub fn appliance_image() -> PathBuf {
    image_from(IMAGE_ENV)
}

/// The selftest ELF; panics if xtask did not say where it is.
#[track_caller]
pub fn selftest_image() -> PathBuf {
    image_from(SELFTEST_IMAGE_ENV)
}

/// The kv appliance ELF; panics if xtask did not say where it is.
#[track_caller]
pub fn kv_image() -> PathBuf {
    image_from(KV_IMAGE_ENV)
}

/// The GRUB ISO; panics if xtask did not say where it is.
#[track_caller]
pub fn iso_image() -> PathBuf {
    image_from(ISO_ENV)
}

/// The selftest image on `machine` with `test=<case>`; add parameters to taste.
pub fn selftest_config(case: &str, machine: Machine) -> QemuConfig {
    QemuConfig::kernel(selftest_image())
        .machine(machine)
        .param(format!("test={case}"))
}

/// Starts `config`; panics with the reason if QEMU cannot start.
#[track_caller]
pub fn boot(config: &QemuConfig) -> Qemu {
    match Qemu::spawn(config) {
        Ok(qemu) => qemu,
        Err(error) => panic!("{error} (configuration {config:?})"),
    }
}

/// Runs selftest `case` on `machine` to its verdict (or [`SELFTEST_DEADLINE`]).
pub fn selftest(case: &str, machine: Machine) -> Outcome {
    boot(&selftest_config(case, machine)).wait_for_exit(SELFTEST_DEADLINE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_says_to_use_xtask() {
        let panic = std::panic::catch_unwind(|| image_from("ANYKERNEL_TEST_UNSET_VARIABLE"))
            .expect_err("the variable is not set");
        let message = panic.downcast_ref::<String>().expect("formatted message");
        assert!(
            message.contains("run the QEMU tests through `cargo xtask test`"),
            "{message}"
        );
    }
}
