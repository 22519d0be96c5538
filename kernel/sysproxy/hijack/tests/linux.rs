//! Unmodified Linux programs reach Linux peers through a hosted kernel's
//! TCP/IP stack: curl fetches a page from Python's web server, and nc
//! moves 64 MiB each way to and from Linux's nc, hash-checked.
//!
//! The kernel runs in this test process on `tap0` of a network namespace
//! the test creates and removes (`qemu_tests::netns`), at 192.168.77.2;
//! the Linux peers run inside the namespace at 192.168.77.1. The
//! hijacked programs run outside it, in a namespace that has no route
//! to 192.168.77.1: only the kernel's stack can have made their
//! connections, and the kernel's counters and the peer's log say it did.
//! Needs root: `#[ignore = "needs root: …"]`, run by `cargo xtask test`.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anykernel_client::Stubs;
use common::{Scratch, Served, finish, hash, hijacked, pattern};
use qemu_tests::netns::{Namespace, missing_privilege};

/// Linux's end of the tap link.
const PEER: &str = "192.168.77.1";

/// Bytes nc moves each way.
const TRANSFER: usize = 64 << 20;

/// Fails the test, naming what is missing, unless it can run here.
fn require_privilege() {
    if let Some(reason) = missing_privilege(&["curl", "nc", "python3", "ss"]) {
        panic!("this test needs root, /dev/net/tun and its peers' tools: {reason}");
    }
}

/// The kernel on the namespace's tap, serving remote clients, once it
/// reaches [`PEER`].
fn boot(namespace: &Namespace, name: &'static str) -> Served {
    let served = namespace
        .run_inside(move || Served::boot(name, "ip=192.168.77.2/24 log=warn", &["tap:tap0"]));
    let client = served.client();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sequence = 0;
    while client.ping(PEER.parse().unwrap(), sequence, 200).is_err() {
        assert!(Instant::now() < deadline, "the kernel never reached {PEER}");
        sequence += 1;
    }
    served
}

/// A process in the namespace, killed on drop.
struct Peer(Option<Child>);

impl Peer {
    /// Starts `command` and waits until something listens on TCP `port`
    /// in `namespace` (at most 30 s).
    fn start(namespace: &Namespace, mut command: Command, port: u16) -> Peer {
        let peer = Peer(Some(command.spawn().expect("the peer starts")));
        let filter = format!("sport = :{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let listening = namespace.exec(&["ss", "-Hltn", &filter]);
            if !listening.stdout.is_empty() {
                return peer;
            }
            assert!(Instant::now() < deadline, "nothing listened on {port}");
            // nc and http.server announce nothing when they listen: ask
            // `ss` again shortly.
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for it to exit successfully (at most `seconds`).
    fn finish(mut self, seconds: u64, what: &str) {
        let child = self.0.take().expect("running");
        let output = finish(child, seconds, what);
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{what} failed: {said}");
    }

    /// Kills it; what it wrote to its (piped) stderr.
    fn stop(mut self) -> String {
        let mut child = self.0.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
        let mut said = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut said);
        }
        said
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Python's web server as the peer"]
fn curl_fetches_a_page_from_linux_over_a_connection_our_stack_made() {
    require_privilege();
    let namespace = Namespace::new("hijack-curl");
    let served = boot(&namespace, "hijack-curl");
    let scratch = Scratch::new("site");
    let page = format!("a page from Linux {}\n", std::process::id());
    std::fs::write(scratch.file("page.txt"), &page).expect("the page");
    let mut python = namespace.command("python3");
    python
        .args(["-m", "http.server", "8000", "--bind", PEER, "--directory"])
        .arg(&scratch.0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let server = Peer::start(&namespace, python, 8000);
    let opened = served.counter("tcp active_opens");
    let mut curl = hijacked(&served, "curl");
    curl.args([
        "-sS",
        "--max-time",
        "20",
        &format!("http://{PEER}:8000/page.txt"),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let output = finish(curl.spawn().expect("curl starts"), 30, "curl");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "curl failed: {said}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), page);
    assert_eq!(served.counter("tcp active_opens"), opened + 1);
    let log = server.stop();
    assert!(
        log.contains("192.168.77.2 - - ") && log.contains("GET /page.txt"),
        "{log}"
    );
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's nc as the peer"]
fn nc_moves_64_mib_each_way_to_and_from_linux_intact() {
    require_privilege();
    let namespace = Namespace::new("hijack-nc");
    let served = boot(&namespace, "hijack-nc");
    let scratch = Scratch::new("nc");
    let data = pattern(64, TRANSFER);
    let expected = hash(&data);
    std::fs::write(scratch.file("data"), &data).expect("the data file");
    drop(data);
    let opened = served.counter("tcp active_opens");
    let seconds = send_to_linux(&namespace, &served, &scratch);
    let received = std::fs::read(scratch.file("at-linux")).expect("what Linux received");
    assert_eq!((received.len(), hash(&received)), (TRANSFER, expected));
    eprintln!("hijacked nc: 64 MiB to Linux in {seconds:.2} s");
    let seconds = receive_from_linux(&namespace, &served, &scratch);
    let received = std::fs::read(scratch.file("from-linux")).expect("what nc received");
    assert_eq!((received.len(), hash(&received)), (TRANSFER, expected));
    eprintln!("hijacked nc: 64 MiB from Linux in {seconds:.2} s");
    assert_eq!(served.counter("tcp active_opens"), opened + 2);
}

/// Hijacked `nc -N` sends the data file to Linux's `nc -l`: seconds taken.
fn send_to_linux(namespace: &Namespace, served: &Served, scratch: &Scratch) -> f64 {
    let mut linux = namespace.command("nc");
    linux
        .args(["-l", PEER, "7010"])
        .stdin(Stdio::null())
        .stdout(create(&scratch.file("at-linux")));
    let linux = Peer::start(namespace, linux, 7010);
    let start = Instant::now();
    let mut nc = hijacked(served, "nc");
    nc.args(["-N", PEER, "7010"])
        .stdin(open(&scratch.file("data")))
        .stderr(Stdio::piped());
    let output = finish(nc.spawn().expect("nc starts"), 300, "nc sending");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    linux.finish(60, "Linux's nc receiving");
    start.elapsed().as_secs_f64()
}

/// Linux's `nc -N -l` sends the data file to hijacked `nc`: seconds taken.
fn receive_from_linux(namespace: &Namespace, served: &Served, scratch: &Scratch) -> f64 {
    let mut linux = namespace.command("nc");
    linux
        .args(["-N", "-l", PEER, "7011"])
        .stdin(open(&scratch.file("data")))
        .stdout(Stdio::null());
    let linux = Peer::start(namespace, linux, 7011);
    let start = Instant::now();
    let mut nc = hijacked(served, "nc");
    nc.args([PEER, "7011"])
        .stdout(create(&scratch.file("from-linux")))
        .stderr(Stdio::piped());
    let output = finish(nc.spawn().expect("nc starts"), 300, "nc receiving");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    linux.finish(60, "Linux's nc sending");
    start.elapsed().as_secs_f64()
}

fn open(path: &Path) -> std::fs::File {
    std::fs::File::open(path).expect("opens")
}

fn create(path: &Path) -> std::fs::File {
    std::fs::File::create(path).expect("creates")
}
