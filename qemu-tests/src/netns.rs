//! Network namespaces with a tap device, for tests that need Linux's own
//! TCP/IP stack as the peer.
//!
//! [`Namespace::new`] creates a namespace with `tap0` up at
//! [`HOST_ADDRESS`]/24; everything a test does with Linux's stack happens
//! inside it (commands through [`Namespace::command`], sockets of this
//! process through [`Namespace::run_inside`]), so no address outside it is
//! touched. Dropping it deletes the namespace and the tap with it. Needs
//! root and `/dev/net/tun`; [`missing_privilege`] says why not when not.
//! [`Namespace::boot_appliance`] boots the appliance on the tap.

use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::time::Duration;

use crate::{Machine, Network, Nic, Qemu, QemuConfig, appliance_image, boot};

/// Linux's address on the tap link.
pub const HOST_ADDRESS: &str = "192.168.77.1";

/// A network namespace with `tap0`; deleted on drop.
#[derive(Debug)]
pub struct Namespace {
    /// Its name under /var/run/netns.
    pub name: String,
}

/// Why tap tests cannot run here, or `None` when they can.
pub fn missing_privilege(tools: &[&str]) -> Option<String> {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: creating tap devices and namespaces needs it".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    let missing = ["ip"].iter().chain(tools).find(|tool| !on_path(tool));
    missing.map(|tool| format!("`{tool}` is not installed"))
}

/// Whether `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

impl Namespace {
    /// Creates `ak-<tag>-<pid>` with `lo` and `tap0` up.
    ///
    /// # Panics
    /// If `ip` fails (the caller checked [`missing_privilege`]).
    pub fn new(tag: &str) -> Namespace {
        let namespace = Namespace::empty(tag);
        namespace.exec(&["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"]);
        let address = format!("{HOST_ADDRESS}/24");
        namespace.exec(&["ip", "addr", "add", &address, "dev", "tap0"]);
        namespace.exec(&["ip", "link", "set", "tap0", "up"]);
        namespace
    }

    /// Creates `ak-<tag>-<pid>` with only `lo`, up.
    ///
    /// # Panics
    /// If `ip` fails (the caller checked [`missing_privilege`]).
    pub fn empty(tag: &str) -> Namespace {
        let name = format!("ak-{tag}-{}", std::process::id());
        let namespace = Namespace { name };
        run(Command::new("ip").args(["netns", "add", &namespace.name]));
        namespace.exec(&["ip", "link", "set", "lo", "up"]);
        namespace
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Runs `words` inside the namespace.
    ///
    /// # Panics
    /// If the command fails, with its output.
    pub fn exec(&self, words: &[&str]) -> Output {
        let mut command = self.command(words[0]);
        command.args(&words[1..]);
        run(&mut command)
    }

    /// Runs `f` on a new thread that lives in this namespace, so that the
    /// sockets and devices it opens are inside it.
    ///
    /// # Panics
    /// If the namespace cannot be entered or `f` panics.
    pub fn run_inside<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        self.spawn_inside(f)
            .join()
            .expect("the thread inside the namespace")
    }

    /// Starts `f` on a new thread that lives in this namespace and
    /// returns at once (see [`Namespace::run_inside`]).
    ///
    /// # Panics
    /// If the namespace file cannot be opened; the thread panics if it
    /// cannot enter the namespace.
    pub fn spawn_inside<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> std::thread::JoinHandle<R> {
        let path = format!("/var/run/netns/{}", self.name);
        let file = std::fs::File::open(&path).expect("the namespace file");
        std::thread::spawn(move || {
            // SAFETY: setns(2) with an open namespace file descriptor; it
            // changes only this thread's network namespace.
            let status = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(status, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
    }
}

/// How long the appliance may take to say it is ready.
const READY_DEADLINE: Duration = Duration::from_secs(60);

impl Namespace {
    /// Boots the appliance on `machine` with QEMU inside this namespace,
    /// its NIC on `tap0`, with boot parameters `params` (its address),
    /// and waits until it says it is ready.
    ///
    /// # Panics
    /// If QEMU does not start or the appliance is not ready in a minute.
    pub fn boot_appliance(&self, machine: Machine, params: &[&str]) -> Qemu {
        let mut qemu = boot(&self.appliance_config(machine, params));
        qemu.expect_line(crate::protocol::READY_MARKER, READY_DEADLINE);
        qemu
    }

    /// The configuration [`Namespace::boot_appliance`] boots, for a test
    /// that adds to it.
    pub fn appliance_config(&self, machine: Machine, params: &[&str]) -> QemuConfig {
        QemuConfig::kernel(appliance_image())
            .machine(machine)
            .params(params.iter().copied())
            .program("ip")
            .program_args(["netns", "exec", self.name.as_str()])
            .program_args([crate::QEMU_PROGRAM])
            .nic(Nic::new(Network::Tap {
                name: "tap0".into(),
            }))
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs `command`.
///
/// # Panics
/// If it cannot start or fails, with its output.
pub fn run(command: &mut Command) -> Output {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
