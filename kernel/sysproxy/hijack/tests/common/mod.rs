//! Hosted kernels serving remote clients, and Linux programs run with the
//! library preloaded against them, for the library's tests.
//!
//! A [`Served`] kernel runs in the test process on `hypercall-posix`,
//! serving on a Unix socket of its own; [`hijacked`] makes a command
//! that runs a program with `LD_PRELOAD` set to the library cargo built
//! beside the test (`target/<profile>/deps/libanykernel_hijack.so`) and
//! `ANYKERNEL_SERVER` set to the kernel's. Every wait has a deadline.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

// The client library's harness: the served kernel, patterns and hashes.
#[path = "../../../client/tests/common/mod.rs"]
mod served;

#[allow(
    unused_imports,
    reason = "each test file uses a different part of the harness"
)]
pub use served::{Served, fnv1a as hash, pattern};

/// The library cargo built for this test run: beside the test, in
/// `target/<profile>/deps` (the rlib the tests depend on is compiled
/// with it, so it is as fresh as they are).
pub fn library() -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    let deps = test.parent().expect("target/<profile>/deps/<test>");
    let library = deps.join("libanykernel_hijack.so");
    assert!(library.is_file(), "cargo built no {}", library.display());
    library
}

/// Panics, saying which package to install, unless `program` is on PATH.
pub fn require(program: &str, package: &str) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| dir.join(program).is_file());
    assert!(
        found,
        "this test runs `{program}`: install the Debian package {package} \
         (`cargo xtask test` does)"
    );
}

/// `program` with the library preloaded against `served`.
pub fn hijacked(served: &Served, program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env("LD_PRELOAD", library())
        .env("ANYKERNEL_SERVER", served.address())
        .stdin(Stdio::null());
    command
}

/// Runs `python3 -c script port` with the library preloaded against
/// `served` and its call trace on; the script checks what it tests and
/// prints `ok`. Fails unless it did; returns what it said on stderr
/// (the trace).
pub fn python(served: &Served, script: &str, port: u16) -> String {
    let mut python = hijacked(served, "python3");
    python
        .args(["-c", script, &port.to_string()])
        .env("ANYKERNEL_HIJACK_TRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = finish(python.spawn().expect("python starts"), 30, "python");
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "python failed:\n{said}");
    assert_eq!(output.stdout, b"ok\n", "{said}");
    said
}

/// Waits for `child` at most `seconds`, reading its piped output
/// meanwhile; kills it and fails past that.
pub fn finish(mut child: Child, seconds: u64, what: &str) -> Output {
    let collect = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = collect(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = collect(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    // A helper thread blocks until the child has exited without reaping
    // it (WNOWAIT), so the pid stays the child's until this thread reaps
    // it: a kill at the deadline can only hit the child.
    let pid = child.id();
    let (exited, exit_signal) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        // SAFETY: siginfo_t is plain data that waitid(2) fills.
        let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
        let options = libc::WEXITED | libc::WNOWAIT;
        // SAFETY: waitid(2) on our child's pid with a live siginfo_t.
        unsafe { libc::waitid(libc::P_PID, pid, &mut info, options) };
        let _ = exited.send(());
    });
    if exit_signal
        .recv_timeout(Duration::from_secs(seconds))
        .is_err()
    {
        let _ = child.kill();
        let _ = child.wait();
        let stderr = stderr.join().unwrap_or_default();
        panic!(
            "{what} did not finish within {seconds} s; it said:\n{}",
            String::from_utf8_lossy(&stderr)
        );
    }
    let status = child.wait().expect("waits");
    Output {
        status,
        stdout: stdout.join().expect("read stdout"),
        stderr: stderr.join().expect("read stderr"),
    }
}

/// A scratch directory for one test, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let path =
            std::env::temp_dir().join(format!("anykernel-hijack-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&path).expect("a scratch directory");
        Scratch(path)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A test's thread (the kernel side of a transfer) whose end is waited
/// for with a deadline.
pub struct Background<T>(std::sync::mpsc::Receiver<T>);

/// Runs `f` on a thread of its own.
pub fn background<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Background<T> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(f()));
    Background(receiver)
}

impl<T> Background<T> {
    /// Its result; fails the test when it panicked or took over `seconds`.
    pub fn wait(self, seconds: u64, what: &str) -> T {
        use std::sync::mpsc::RecvTimeoutError;
        match self.0.recv_timeout(Duration::from_secs(seconds)) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => panic!("{what} did not end within {seconds} s"),
            Err(RecvTimeoutError::Disconnected) => panic!("{what} failed"),
        }
    }
}

/// Connects to `port` on the kernel's lo0 once something listens there.
pub fn connect_when_listening(
    client: &anykernel_client::Client,
    port: u16,
) -> anykernel_client::TcpStream {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match anykernel_client::TcpStream::connect(client, ("127.0.0.1", port)) {
            Ok(stream) => return stream,
            // Nothing tells the test when the program starts listening
            // in the kernel, and a refusal comes back at once: retry
            // briefly until the deadline.
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "nothing listened on {port}"
                );
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(error) => panic!("connecting to {port}: {error}"),
        }
    }
}
