//! The hosted appliance against Linux's own stack, over a tap device in a
//! network namespace the test creates and removes.
//!
//! Linux's side of the link is `tap0` at 192.168.77.1/24 inside the
//! namespace; the appliance runs in the same namespace as a process
//! (`anykernel --net=tap:tap0 …`) and Linux's tools (ping, curl, dnsmasq)
//! run there too, so nothing outside the namespace is touched. Needs
//! root; without it, or without the tools, a test prints why and returns.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Linux's address on the link.
pub const HOST_ADDRESS: &str = "192.168.77.1";

/// A network namespace with `tap0` up at [`HOST_ADDRESS`]; deleted on drop.
pub struct Namespace {
    pub name: String,
}

/// Why a test cannot run here.
pub fn missing_privilege() -> Option<String> {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { geteuid() } != 0 {
        return Some("not root: creating tap devices and namespaces needs it".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    for tool in ["ip", "ping", "curl"] {
        if !on_path(tool) {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

unsafe extern "C" {
    fn geteuid() -> u32;
}

/// Whether `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

impl Namespace {
    /// Creates the namespace and its tap.
    pub fn new(test: &str) -> Namespace {
        let name = format!("ak-{test}-{}", std::process::id());
        let namespace = Namespace { name };
        run(Command::new("ip").args(["netns", "add", &namespace.name]));
        namespace.exec(&["ip", "link", "set", "lo", "up"]);
        namespace.exec(&["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"]);
        namespace.exec(&[
            "ip",
            "addr",
            "add",
            &format!("{HOST_ADDRESS}/24"),
            "dev",
            "tap0",
        ]);
        namespace.exec(&["ip", "link", "set", "tap0", "up"]);
        namespace
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Runs `words` inside the namespace and insists on success.
    pub fn exec(&self, words: &[&str]) -> Output {
        let mut command = self.command(words[0]);
        command.args(&words[1..]);
        run(&mut command)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs `command`, panicking with its output if it fails.
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

/// The hosted appliance, running; killed on drop.
pub struct Appliance {
    child: Child,
    lines: Receiver<String>,
    pub log: Vec<String>,
}

impl Appliance {
    /// Starts the appliance in `namespace` on `tap0` with `params`.
    pub fn start(namespace: &Namespace, params: &[&str]) -> Appliance {
        let mut command = namespace.command(env!("CARGO_BIN_EXE_anykernel"));
        command
            .arg("--net=tap:tap0")
            .args(params)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the appliance starts");
        let (sender, lines) = channel();
        for stream in [
            Box::new(child.stdout.take().expect("piped")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("piped")),
        ] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    eprintln!("appliance: {line}");
                    if sender.send(line).is_err() {
                        return;
                    }
                }
            });
        }
        Appliance {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits up to `timeout` for a line containing `text`; returns it.
    pub fn expect_line(&mut self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with `{text}` within {timeout:?}; the appliance said:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Byte `offset` of the appliance's source (port 19) stream.
pub fn chargen_byte(offset: u64) -> u8 {
    app::services::chargen_byte(offset)
}

unsafe extern "C" {
    fn setns(fd: i32, nstype: i32) -> i32;
}

/// `setns`'s flag for a network namespace.
const CLONE_NEWNET: i32 = 0x4000_0000;

impl Namespace {
    /// Runs `f` on a new thread that lives in this namespace, so that its
    /// sockets are Linux's end of the link.
    pub fn run_inside<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        use std::os::fd::AsRawFd;
        let path = format!("/var/run/netns/{}", self.name);
        let file = std::fs::File::open(&path).expect("the namespace file");
        std::thread::spawn(move || {
            // SAFETY: setns(2) with an open namespace file descriptor; it
            // changes only this thread's network namespace.
            let status = unsafe { setns(file.as_raw_fd(), CLONE_NEWNET) };
            assert_eq!(status, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("the thread inside the namespace")
    }
}
