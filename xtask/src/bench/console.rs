//! Remote system calls into the bare-metal appliance over virtio-console.
//!
//! For each run the appliance boots on q35 (TCG) with `sysproxy=console`
//! and one Unix socket as a port of its virtio console; the client
//! library's bench (`kernel/sysproxy/client/examples/sysproxy_bench.rs`,
//! release) connects through it and measures a null call, a
//! `getsockname` and a 64-byte echo over the guest's lo0 (the appliance's
//! echo service), as `sysproxy_console_remote_…`: the same figures the
//! hosted bench takes over a Unix socket (`sysproxy_remote_…`, `bench
//! --hosted`), so the two read side by side. Reports; does not assert.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use qemu_tests::protocol::READY_MARKER;
use qemu_tests::{BOOT_DEADLINE, ConsoleSocket, Machine, Qemu, QemuConfig};

use super::{Series, collect_figures};
use crate::command::{cargo, describe, run};
use crate::paths::target_dir;

/// The figures of `runs` runs against `appliance`.
pub fn figures(appliance: &Path, runs: u32) -> Vec<Series> {
    let built = run(cargo(&[
        "build",
        "--release",
        "-p",
        "anykernel-client",
        "--example",
        "sysproxy_bench",
    ]));
    if let Err(error) = built {
        eprintln!("xtask: remote calls over virtio-console left out: {error}");
        return Vec::new();
    }
    let bench = target_dir().join("release/examples/sysproxy_bench");
    let mut figures = BTreeMap::new();
    for number in 1..=runs {
        if let Err(error) = run_once(appliance, &bench, &mut figures) {
            eprintln!("xtask: virtio-console run {number} left out: {error}");
        }
    }
    figures.into_values().collect()
}

/// One boot and one run of the bench against it.
fn run_once(
    appliance: &Path,
    bench: &Path,
    figures: &mut BTreeMap<String, Series>,
) -> Result<(), String> {
    let socket = std::env::temp_dir().join(format!(
        "anykernel-bench-console-{}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&socket);
    let config = QemuConfig::kernel(appliance)
        .machine(Machine::Q35)
        .console(ConsoleSocket::new(&socket))
        .param(ConsoleSocket::PARAMETER)
        .param("log=warn");
    let mut qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    qemu.wait_for_line(READY_MARKER, BOOT_DEADLINE)
        .map_err(|error| format!("not ready: {error}"))?;
    let mut command = Command::new(bench);
    command
        .arg(format!("unix:{}", socket.display()))
        .arg("console")
        .stderr(Stdio::inherit());
    let output = command
        .output()
        .map_err(|error| format!("{}: {error}", describe(&command)));
    drop(qemu);
    let _ = std::fs::remove_file(&socket);
    let output = output?;
    if !output.status.success() {
        return Err(format!(
            "{} ended with {}",
            describe(&command),
            output.status
        ));
    }
    collect_figures(figures, String::from_utf8_lossy(&output.stdout).lines());
    Ok(())
}
