//! The hosted appliance against Linux's own stack, over a tap device in a
//! network namespace the test creates and removes (`qemu_tests::netns`).
//!
//! The appliance runs in the namespace as a process (`anykernel
//! --net=tap:tap0 …`) and Linux's tools (ping, curl, dnsmasq) run there
//! too, so nothing outside the namespace is touched. Needs root: the tests
//! are `#[ignore = "needs root: …"]`, `cargo xtask test` runs them in their
//! own stage, and without root or the tools they fail saying why.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub use qemu_tests::netns::Namespace;

/// Panics, saying why, unless this process can create taps and
/// namespaces and finds `tools` (besides ping and curl).
pub fn require_privilege(tools: &[&str]) {
    let needed: Vec<&str> = ["ping", "curl"].iter().chain(tools).copied().collect();
    if let Some(reason) = qemu_tests::netns::missing_privilege(&needed) {
        panic!("this test needs root, /dev/net/tun and its tools: {reason}");
    }
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
