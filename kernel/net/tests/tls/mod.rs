//! The TLS test's parts: certificates, openssl s_server, the guest kernel.
//!
//! [`Scratch`] makes a test CA and a server certificate signed by it with
//! the openssl command line; [`TlsServer`] runs `openssl s_server` inside
//! the namespace (killed on drop); [`Guest`] is a hosted kernel (net, lo0,
//! virtif) on the namespace's tap whose [`Guest::fetch`] runs embedded-tls
//! over a [`TcpStream`]. Every wait has a deadline.

mod client;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use base::{BootConfig, Kernel};
use hypercall_posix::{ConsoleSink, ExitMode, Posix, PosixConfig};
use net::Net;
use qemu_tests::netns::{Namespace, missing_privilege, run};

/// The name the server certificate is issued to.
pub const SERVER_NAME: &str = "anykernel-tls-test";
/// Where s_server listens (Linux's end of the tap link).
pub const SERVER: &str = "192.168.77.1:4433";
/// The guest kernel's address on the tap link.
const GUEST_PARAMETERS: &str = "ip=192.168.77.2/24 log=warn";

/// Fails the test, naming what is missing, unless it can run here.
pub fn require_tools() {
    if let Some(reason) = missing_privilege(&["openssl"]) {
        panic!(
            "this test needs root, /dev/net/tun, `ip` and `openssl` (Debian package \
             `openssl`, which `cargo xtask setup` installs): {reason}"
        );
    }
}

/// A directory of its own with the run's CA and server certificate.
pub struct Scratch {
    directory: PathBuf,
    ca_certificate: Vec<u8>,
}

impl Scratch {
    /// Makes the directory (named after `test`), a CA and a certificate
    /// for [`SERVER_NAME`].
    pub fn new(test: &str) -> Scratch {
        let name = format!("anykernel-tls-{test}-{}", std::process::id());
        let directory = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).expect("the scratch directory");
        make_certificates(&directory);
        let ca_certificate = std::fs::read(directory.join("ca.der")).expect("the CA in DER");
        Scratch {
            directory,
            ca_certificate,
        }
    }

    /// The test CA's certificate, DER.
    pub fn ca_certificate(&self) -> &[u8] {
        &self.ca_certificate
    }

    fn path(&self, file: &str) -> PathBuf {
        self.directory.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// A P-256 CA, and a P-256 server key with a certificate the CA signed.
fn make_certificates(directory: &Path) {
    let openssl = |line: &str| {
        let words = line.split_whitespace();
        run(Command::new("openssl").current_dir(directory).args(words));
    };
    let names = format!("subjectAltName=DNS:{SERVER_NAME}\n");
    std::fs::write(directory.join("server.ext"), names).expect("server.ext");
    let p256 = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2";
    openssl(&format!(
        "req -x509 {p256} -subj /CN=anykernel-test-CA -keyout ca.key -out ca.pem"
    ));
    openssl("x509 -in ca.pem -outform DER -out ca.der");
    openssl(&format!(
        "req {p256} -subj /CN={SERVER_NAME} -keyout server.key -out server.csr"
    ));
    openssl(
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
         -extfile server.ext -out server.pem",
    );
}

/// `openssl s_server -tls1_3 -www` in the namespace; killed on drop.
pub struct TlsServer {
    child: Child,
}

impl TlsServer {
    /// Starts the server and waits (at most 10 s) until it accepts.
    pub fn start(namespace: &Namespace, scratch: &Scratch) -> TlsServer {
        let mut command = namespace.command("openssl");
        command
            .args(["s_server", "-tls1_3", "-www", "-accept", SERVER])
            .arg("-cert")
            .arg(scratch.path("server.pem"))
            .arg("-key")
            .arg(scratch.path("server.key"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("openssl s_server starts");
        let stdout = child.stdout.take().expect("a piped stdout");
        let server = TlsServer { child };
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        wait_for_line(&received, "ACCEPT", Duration::from_secs(10));
        server
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a line equal to `wanted`, panicking at the deadline.
fn wait_for_line(lines: &mpsc::Receiver<String>, wanted: &str, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.trim() == wanted => return,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                panic!("s_server printed no `{wanted}` in {within:?}")
            }
            Err(RecvTimeoutError::Disconnected) => panic!("s_server ended before `{wanted}`"),
        }
    }
}

/// A hosted kernel with net, lo0 and virtif on the namespace's tap0.
pub struct Guest {
    host: Arc<Posix>,
    kernel: Arc<Kernel>,
}

impl Guest {
    /// Boots it; the tap is opened inside the namespace.
    pub fn boot(namespace: &Namespace) -> Guest {
        let (host, kernel) = namespace.run_inside(|| {
            let config = PosixConfig {
                name: "tls".into(),
                boot_parameters: GUEST_PARAMETERS.into(),
                nics: vec!["tap:tap0".parse().expect("a NIC spec")],
                console: ConsoleSink::Stderr,
                exit: ExitMode::Unwind,
                ..PosixConfig::default()
            };
            let host = Posix::new(config);
            let components = [&net::components::ALL[..], &[&virtif::VIRTIF]].concat();
            let config = BootConfig {
                components: &components,
            };
            let kernel = Kernel::boot(host.clone(), config).expect("the guest boots");
            (host, kernel)
        });
        Guest { host, kernel }
    }

    /// The net service.
    fn net(&self) -> Arc<Net> {
        let context = self.kernel.enter().expect("enter");
        Net::of(&context).expect("the net component is linked")
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}
