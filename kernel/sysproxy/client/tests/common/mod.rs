//! Hosted kernels serving remote clients, for the client's tests (and the
//! hijack library's, which include this file).
//!
//! A [`Served`] kernel runs in the test process on `hypercall-posix`,
//! serving on a Unix socket of its own; the tests connect to it with the
//! client library (or raw frames) and read the kernel's counts (open
//! sockets, the server's memory account, the kernel's memory in use)
//! directly. Every wait has a deadline.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anykernel_client::proto::frame::{self, ReplyHeader};
use anykernel_client::proto::handshake::{Greeting, Hello};
use anykernel_client::proto::{FrameReader, MAX_FRAME};
use hypercall_posix::stream::ServerSpec;
use hypercall_posix::{ConsoleSink, ExitMode, Posix, PosixConfig};
use kernel::Kernel;
use kernel::net::Net;

/// A hosted kernel with the server on a Unix socket.
pub struct Served {
    pub kernel: Arc<Kernel>,
    pub net: Arc<Net>,
    pub path: PathBuf,
}

impl Served {
    /// Boots `name` with `params` and NICs `nics`, serving on a fresh path.
    pub fn boot<S: AsRef<str>>(name: &str, params: &str, nics: &[S]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "anykernel-client-{}-{name}.sock",
            std::process::id()
        ));
        let config = PosixConfig {
            name: name.into(),
            boot_parameters: params.into(),
            nics: nics
                .iter()
                .map(|spec| spec.as_ref().parse().expect("a NIC spec"))
                .collect(),
            servers: vec![ServerSpec::Unix(path.clone())],
            console: ConsoleSink::Stderr,
            exit: ExitMode::Unwind,
            ..PosixConfig::default()
        };
        let kernel = kernel::boot(Posix::new(config)).expect("boots");
        let net = Net::of(&kernel.enter().expect("enters")).expect("net is linked");
        Self { kernel, net, path }
    }

    /// A kernel on loopback only.
    pub fn lo0(name: &str) -> Self {
        Self::boot::<&str>(name, "", &[])
    }

    /// `unix:PATH`.
    pub fn address(&self) -> String {
        format!("unix:{}", self.path.display())
    }

    /// A client of this kernel.
    pub fn client(&self) -> anykernel_client::Client {
        anykernel_client::Client::connect(&self.address()).expect("connects")
    }

    /// The counter `name` (`tcp active_opens`) of the kernel's statistics,
    /// read remotely as `anyctl stats` does.
    pub fn counter(&self, name: &str) -> u64 {
        use anykernel_client::Stubs;
        let text = self.client().statistics().expect("statistics");
        let value = text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(' ')?;
            rest.split_whitespace().next()?.parse().ok()
        });
        value.unwrap_or_else(|| panic!("no counter `{name}` in:\n{text}"))
    }

    /// Sockets open in the kernel.
    pub fn sockets(&self) -> usize {
        let context = self.kernel.enter().expect("enters");
        self.net.with_stack(&context, |stack| stack.sockets.len())
    }

    /// Bytes charged to the account named `name`.
    pub fn account(&self, name: &str) -> usize {
        let accounts = self.kernel.memory().accounts();
        accounts
            .iter()
            .find(|a| a.name == name)
            .map_or(0, |a| a.bytes)
    }

    /// Everything the kernel holds against its limit.
    pub fn memory(&self) -> usize {
        self.kernel.memory().in_use()
    }

    /// Waits until every client has gone (the server's account is empty)
    /// and no worker thread is left (the threads account is back at
    /// `threads`).
    pub fn wait_idle(&self, threads: usize) {
        let what = format!(
            "the clients to go (sysproxy {} bytes, threads {} of {threads})",
            self.account("sysproxy"),
            self.account("threads")
        );
        wait_for(&what, || {
            self.account("sysproxy") == 0 && self.account("threads") == threads
        });
    }

    /// The `/stats` text.
    pub fn stats(&self) -> String {
        let context = self.kernel.enter().expect("enters");
        let mut text = String::new();
        self.net.with_stack(&context, |stack| {
            let _ = stack.write_stats(&mut text);
        });
        text
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// Waits (at most ten seconds) until `condition` holds.
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs `f` on a thread; fails the test if it takes over `seconds`.
pub fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(f()));
    receiver
        .recv_timeout(Duration::from_secs(seconds))
        .expect("finished within its deadline")
}

/// Host descriptors this process has open.
pub fn host_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// A connection speaking raw frames, for what the library never sends.
pub struct Raw {
    pub stream: UnixStream,
    reader: FrameReader,
}

impl Raw {
    /// Connects without a handshake.
    pub fn connect(served: &Served) -> Self {
        let stream = UnixStream::connect(&served.path).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read deadline");
        Self {
            stream,
            reader: FrameReader::new(),
        }
    }

    /// Connects and says hello.
    pub fn welcomed(served: &Served) -> Self {
        let mut raw = Self::connect(served);
        raw.send(&frame::encode::<_, ()>(&Hello::new(None), None));
        let greeting: Greeting = frame::decode(&raw.body().expect("a greeting")).expect("decodes");
        assert!(matches!(greeting, Greeting::Welcome(_)), "{greeting:?}");
        raw
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("the server reads");
    }

    /// The next frame's body; `None` at end of stream.
    pub fn body(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(body) = self.reader.next_frame().expect("short frames") {
                return Some(body);
            }
            let count = self
                .stream
                .read(self.reader.spare())
                .expect("within the deadline");
            self.reader.filled(count);
            if count == 0 {
                return None;
            }
        }
    }

    /// The next reply's header.
    pub fn reply(&mut self) -> ReplyHeader {
        let body = self.body().expect("a reply");
        frame::split_reply(&body).expect("a reply header").0
    }
}

/// A frame with `length` in its prefix and `body` after it.
pub fn framed(length: u32, body: &[u8]) -> Vec<u8> {
    let mut bytes = length.to_le_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes
}

/// Longer than any frame may be.
pub const TOO_LONG: u32 = MAX_FRAME as u32 + 1;

/// `length` bytes of a stream seeded by `seed`.
pub fn pattern(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// FNV-1a over `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
