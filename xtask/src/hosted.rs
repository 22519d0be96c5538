//! `cargo xtask run --hosted`: the appliance as a hosted kernel.
//!
//! The same application as the bare-metal image (the appliance, or with
//! `--app NAME` the application NAME), built for the host and linked with
//! `hypercall-posix`, runs as a Linux process on this terminal. Each
//! `--net SPEC` gives it a virtual NIC (`tap:NAME` or `bus:PATH`), `--disk
//! FILE` a disk; `--server unix:PATH` serves remote clients there (`cargo
//! run --bin anyctl -- --server unix:PATH ifconfig`); kernel parameters
//! after `--` (`ip=192.168.77.2/24 gw=192.168.77.1`, `dhcp`, `log=debug`,
//! `sysproxy.key=…`) are its boot parameters.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::apps::{App, build_hosted, build_hosted_with};
use crate::args::{ImageKind, RunOptions};
use crate::paths::APPLIANCE;
use crate::run::NO_VERDICT_STATUS;

/// Builds what `options` run hosted (release, host target); returns its
/// path and the boot parameters the application names.
fn build_program(options: &RunOptions) -> Result<(PathBuf, Vec<String>), String> {
    match &options.app {
        None => {
            let program = build_hosted_with("app", APPLIANCE, options.files.as_deref())?;
            Ok((program, Vec::new()))
        }
        Some(name) => {
            let app = App::find(name)?;
            Ok((build_hosted(&app.package, &app.binary)?, app.params))
        }
    }
}

/// The hosted kernel's command line for `options`, the application's
/// `params` before the user's (which win).
pub fn hosted_command(
    binary: &std::path::Path,
    options: &RunOptions,
    params: &[String],
) -> Command {
    let mut command = Command::new(binary);
    for net in &options.net {
        command.arg(format!("--net={net}"));
    }
    for disk in &options.disk {
        let mut option = std::ffi::OsString::from("--disk=");
        option.push(disk);
        command.arg(option);
    }
    if let Some(server) = &options.server {
        command.arg(format!("--server={server}"));
    }
    command.args(params).args(&options.params);
    command
}

/// Runs the hosted appliance on this terminal until it exits or Ctrl-C.
pub fn run_hosted(options: &RunOptions, gdb: bool) -> Result<ExitCode, String> {
    if gdb {
        return Err(
            "`gdb --hosted`: run the hosted binary under gdb directly (target/release/anykernel)"
                .into(),
        );
    }
    if options.image != ImageKind::Appliance {
        return Err(
            "`--hosted` runs the appliance; the selftest runs under `cargo xtask test`".into(),
        );
    }
    let (binary, params) = build_program(options)?;
    let command = hosted_command(&binary, options, &params);
    if let Some(server) = &options.server {
        eprintln!("xtask: remote clients: cargo run --bin anyctl -- --server {server} ifconfig");
    }
    eprintln!(
        "xtask: running {} as a hosted kernel{}; Ctrl-C quits",
        binary.display(),
        match options.net.is_empty() {
            true => String::new(),
            false => format!(" on {}", options.net.join(" and ")),
        }
    );
    let (status, interrupted, elapsed) =
        qemu_tests::run_command_in_terminal(command).map_err(|error| error.to_string())?;
    let seconds = elapsed.as_secs_f64();
    let code = match status.code() {
        Some(code) => {
            eprintln!("xtask: the hosted kernel exited with {code} after {seconds:.2} s");
            u8::try_from(code).unwrap_or(NO_VERDICT_STATUS)
        }
        None if interrupted => {
            eprintln!("xtask: stopped by Ctrl-C after {seconds:.2} s");
            0
        }
        None => {
            eprintln!("xtask: the hosted kernel died of a signal after {seconds:.2} s");
            NO_VERDICT_STATUS
        }
    };
    Ok(ExitCode::from(code))
}
