//! Boots Anykernel images under QEMU and reports what they did.
//!
//! The one place that knows how to start QEMU: xtask (run, gdb, bench) and
//! the integration tests in `tests/` both go through [`QemuConfig`].
//! Conventions between image and host (serial lines, exit codes) are in
//! `app/src/report.rs`, which writes them; [`protocol`] parses them.
//!
//! ```no_run
//! use std::time::Duration;
//! use qemu_tests::{Machine, QemuConfig, Qemu};
//!
//! let config = QemuConfig::kernel("target/x86_64-unknown-none/release/anykernel-selftest")
//!     .machine(Machine::Microvm)
//!     .param("test=threads");
//! let mut qemu = Qemu::spawn(&config).expect("QEMU starts");
//! let ready = qemu.expect_line("anykernel: ready", Duration::from_secs(10));
//! println!("ready {:?} after spawn", ready.at);
//! qemu.wait_for_exit(Duration::from_secs(30)).assert_passed();
//! ```

pub mod bulk;
pub mod clients;
mod config;
mod console;
pub mod crowd;
mod disk;
pub mod ext2;
pub mod flood;
mod images;
pub mod locations;
mod machine;
pub mod netns;
mod network;
mod outcome;
mod power_down;
pub mod protocol;
pub mod qmp;
pub mod router;
mod running;
mod serial;
mod terminal;
mod verdict;

pub use config::QemuConfig;
pub use console::{ConsoleSocket, MAX_CONSOLE_SOCKETS};
pub use disk::Disk;
pub use ext2::Ext2Image;
pub use images::{
    BOOT_DEADLINE, IMAGE_ENV, ISO_DEADLINE, ISO_ENV, KV_IMAGE_ENV, SELFTEST_DEADLINE,
    SELFTEST_IMAGE_ENV, appliance_image, boot, iso_image, kv_image, selftest, selftest_config,
    selftest_image,
};
pub use machine::{
    Accel, BootMedium, CPU_MODEL, ConfigError, DEFAULT_MEMORY_MIB, EXIT_DEVICE, Firmware, GDB_PORT,
    Machine, QBOOT_PATH, QEMU_PROGRAM,
};
pub use network::{Forward, Network, Nic};
pub use outcome::Outcome;
pub use power_down::POWER_DOWN_GRACE;
pub use running::{Qemu, SpawnError, WaitError};
pub use serial::{SerialLine, format_log};
pub use terminal::{TerminalRun, run_command_in_terminal};
pub use verdict::{EXCEPTION_CODE, PANIC_CODE, PASSED_STATUS, Verdict};
