//! QEMU on the terminal, stopped in order on Ctrl-C (`cargo xtask run`).
//!
//! QEMU runs in a process group of its own, so the terminal's SIGINT
//! reaches only us (QEMU would end on it at once, as if the machine's
//! plug were pulled). Its stdin is empty (the guest reads nothing from
//! COM1), so it never reads from a terminal it does not own; COM1's
//! output still goes to the terminal. The first Ctrl-C asks the guest to
//! power down through QMP (`system_powerdown`: the ACPI power button; an
//! appliance then unmounts its disks clean and exits with success); we
//! wait up to [`POWER_DOWN_GRACE`] for QEMU to exit, and kill it at that
//! deadline or on a second Ctrl-C. QMP listens on a socket in the
//! temporary directory, removed after the run.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::config::QemuConfig;
use crate::qmp;
use crate::running::SpawnError;
use crate::terminal::{InterruptGuard, TerminalRun, lock_terminal};
use crate::verdict::Verdict;

/// How long the guest may take to stop after the first Ctrl-C.
pub const POWER_DOWN_GRACE: Duration = Duration::from_secs(30);
/// How often we look at QEMU and at Ctrl-C while it runs.
const POLL: Duration = Duration::from_millis(50);

impl QemuConfig {
    /// Runs QEMU with the serial port on this terminal until it exits;
    /// Ctrl-C stops the guest in order (see the module docs).
    pub fn run_in_terminal(&self) -> Result<TerminalRun, SpawnError> {
        let _terminal = lock_terminal();
        let socket = SocketFile::new();
        let config = match self.qmp_socket() {
            Some(_) => self.clone(),
            None => self.clone().qmp(socket.path()),
        };
        let qmp_socket = config.qmp_socket().map(Path::to_path_buf);
        let mut command = config.command().map_err(SpawnError::Config)?;
        command.process_group(0).stdin(Stdio::null());
        let guard = InterruptGuard::install();
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .map_err(|error| SpawnError::Io(error.kind()))?;
        let ending = supervise(child, &guard, qmp_socket.as_deref())
            .map_err(|error| SpawnError::Io(error.kind()))?;
        let elapsed = spawned_at.elapsed();
        guard.settle();
        Ok(TerminalRun {
            verdict: Verdict::from_exit_status(ending.status.code(), ""),
            interrupted: ending.interrupted,
            killed: ending.killed,
            elapsed,
        })
    }
}

/// How QEMU ended.
struct Ending {
    status: ExitStatus,
    interrupted: bool,
    killed: bool,
}

/// Waits for `child`, turning Ctrl-C into a power-down request on
/// `socket` and then into a kill (see the module docs).
fn supervise(
    mut child: Child,
    guard: &InterruptGuard,
    socket: Option<&Path>,
) -> std::io::Result<Ending> {
    let mut deadline: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait()? {
            let interrupted = deadline.is_some();
            return Ok(Ending {
                status,
                interrupted,
                killed: false,
            });
        }
        let interrupt = guard.take();
        let stop_now = match deadline {
            None if interrupt => match ask_power_down(socket) {
                Some(until) => {
                    deadline = Some(until);
                    false
                }
                None => true,
            },
            None => false,
            Some(_) if interrupt => true,
            Some(until) => {
                let late = Instant::now() >= until;
                if late {
                    let grace = POWER_DOWN_GRACE.as_secs();
                    eprintln!("\nxtask: the guest did not stop within {grace} s: killing QEMU");
                }
                late
            }
        };
        if stop_now {
            let _ = child.kill();
            let status = child.wait()?;
            return Ok(Ending {
                status,
                interrupted: true,
                killed: true,
            });
        }
        // `Child` has no wait with a deadline, and Ctrl-C arrives as a flag
        // set by the signal handler: look at both every POLL (50 ms, well
        // below what a person at the terminal notices).
        std::thread::sleep(POLL);
    }
}

/// Asks the guest to power down; the deadline for its stop, or `None`
/// if it cannot be asked (then QEMU is killed at once).
fn ask_power_down(socket: Option<&Path>) -> Option<Instant> {
    let asked = socket.map_or(Err("no QMP socket".to_string()), qmp::system_powerdown);
    match asked {
        Ok(()) => {
            let grace = POWER_DOWN_GRACE.as_secs();
            eprintln!(
                "\nxtask: Ctrl-C: asked the guest to power down (ACPI power button); \
                 Ctrl-C again kills QEMU, as does a wait past {grace} s"
            );
            Some(Instant::now() + POWER_DOWN_GRACE)
        }
        Err(error) => {
            eprintln!(
                "\nxtask: Ctrl-C: cannot ask the guest to power down ({error}): killing QEMU"
            );
            None
        }
    }
}

/// A socket path in the temporary directory, removed when dropped.
struct SocketFile(PathBuf);

impl SocketFile {
    fn new() -> SocketFile {
        let name = format!("anykernel-qmp-{}.sock", std::process::id());
        SocketFile(std::env::temp_dir().join(name))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
