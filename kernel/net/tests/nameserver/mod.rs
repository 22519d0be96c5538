//! The DNS test's parts: dnsmasq, the guest kernel, a spoofing relay.
//!
//! [`Dnsmasq`] serves names of the zone `test` on [`DNSMASQ`]:53 inside the
//! namespace (killed on drop); [`Guest`] is a hosted kernel (net, lo0,
//! virtif) on the namespace's tap whose [`Guest::resolve`] is the
//! kernel's own `Net::resolve`; [`relay::Relay`] stands between them on a
//! second address and lies before it relays. Every wait has a deadline.

pub mod relay;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base::{BootConfig, Kernel};
use hypercall_posix::{ConsoleSink, ExitMode, Posix, PosixConfig};
use net::dns::message::{Header, write_query};
use net::dns::{Family, Name};
use net::socket::resolver::state::ResolverStats;
use net::{Net, ResolveError, ServerSource};
use qemu_tests::netns::{Namespace, missing_privilege};

/// Where dnsmasq listens (Linux's end of the tap link).
pub const DNSMASQ: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 1);
/// A second address of Linux's end, where the relay listens.
pub const RELAY: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 3);
/// Addresses in `big.test`: more than one 1232-byte EDNS0 answer holds.
pub const BIG: u8 = 100;

/// Fails the test, naming what is missing, unless it can run here.
pub fn require_tools() {
    if let Some(reason) = missing_privilege(&["dnsmasq"]) {
        panic!(
            "this test needs root, /dev/net/tun, `ip` and `dnsmasq` (Debian package \
             `dnsmasq`, which `cargo xtask setup` installs): {reason}"
        );
    }
}

/// A second address on tap0 for the relay (and as a server with no
/// listener: its port 53 answers with ICMP port unreachable).
pub fn add_relay_address(namespace: &Namespace) {
    let address = format!("{RELAY}/24");
    namespace.exec(&["ip", "addr", "add", &address, "dev", "tap0"]);
}

/// dnsmasq serving the zone `test` on [`DNSMASQ`] only; killed on drop.
///
/// `dual.test` has 192.0.2.20 and 2001:db8::20, `six.test` only
/// 2001:db8::6, `alias.test` is a CNAME of `dual.test`, `a.test` has
/// 192.0.2.10, `big.test` [`BIG`] addresses; anything else in `test` is
/// NXDOMAIN. TTLs are 300 s. With `dhcp`, it also leases addresses.
pub struct Dnsmasq {
    child: Child,
    files: PathBuf,
}

impl Dnsmasq {
    /// Starts it and waits (at most 10 s) until it answers.
    pub fn start(namespace: &Namespace, dhcp: bool) -> Dnsmasq {
        let files = std::env::temp_dir().join(format!("{}-dnsmasq", namespace.name));
        std::fs::create_dir_all(&files).expect("the scratch directory");
        let hosts: String = (1..=BIG)
            .map(|i| format!("192.0.2.{i} big.test\n"))
            .collect();
        std::fs::write(files.join("hosts"), hosts).expect("the hosts file");
        let mut command = namespace.command("dnsmasq");
        command.args([
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--local=/test/",
            "--local-ttl=300",
            "--host-record=dual.test,192.0.2.20,2001:db8::20",
            "--host-record=six.test,2001:db8::6",
            "--cname=alias.test,dual.test",
            "--address=/a.test/192.0.2.10",
        ]);
        command.arg(format!("--listen-address={DNSMASQ}"));
        command.arg(format!("--addn-hosts={}", files.join("hosts").display()));
        command.arg(format!("--pid-file={}", files.join("pid").display()));
        if dhcp {
            command.args([
                "--dhcp-range=192.168.77.50,192.168.77.99,255.255.255.0,1h",
                "--dhcp-authoritative",
            ]);
            command.arg(format!(
                "--dhcp-leasefile={}",
                files.join("leases").display()
            ));
        }
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let child = command.spawn().expect("dnsmasq starts");
        let dnsmasq = Dnsmasq { child, files };
        wait_until_answering(namespace);
        dnsmasq
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.files);
    }
}

/// Asks dnsmasq for `dual.test` from inside the namespace until it
/// answers; panics after 10 s.
fn wait_until_answering(namespace: &Namespace) {
    namespace.run_inside(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("a probe socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("a timeout");
        let name = Name::from_text("dual.test").expect("a name");
        let mut query = [0u8; 512];
        let length = write_query(&mut query, 7, &name, Family::V4, false).expect("fits");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut answer = [0u8; 512];
        while Instant::now() < deadline {
            let _ = socket.send_to(&query[..length], (DNSMASQ, 53));
            if let Ok(count) = socket.recv(&mut answer)
                && Header::parse(&answer[..count]).is_ok_and(|h| h.id == 7)
            {
                return;
            }
        }
        panic!("dnsmasq did not answer in 10 s");
    });
}

/// A hosted kernel with net, lo0 and virtif on the namespace's tap0.
pub struct Guest {
    kernel: Arc<Kernel>,
    net: Arc<Net>,
}

impl Guest {
    /// Boots it with `parameters`; the tap is opened inside the namespace.
    pub fn boot(namespace: &Namespace, parameters: &str) -> Guest {
        let parameters = format!("{parameters} log=warn");
        let kernel = namespace.run_inside(move || {
            let config = PosixConfig {
                name: "dns".into(),
                boot_parameters: parameters,
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
            Kernel::boot(host, config).expect("the guest boots")
        });
        let net = {
            let context = kernel.enter().expect("enter");
            Net::of(&context).expect("the net component is linked")
        };
        Guest { kernel, net }
    }

    /// Pings [`DNSMASQ`] until it answers (at most 10 s). Linux does not
    /// send on a tap until its carrier event ran, which it may defer by up
    /// to a second: the figures are of DNS, not of that.
    pub fn wait_for_link(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut sequence = 0u16;
        loop {
            sequence = sequence.wrapping_add(1);
            let rtt = {
                let context = self.kernel.enter().expect("enter");
                self.net.ping(&context, DNSMASQ, sequence, 200_000_000)
            };
            match rtt {
                Ok(_) => return,
                Err(error) => assert!(
                    Instant::now() < deadline,
                    "{DNSMASQ} never answered a ping: {error}"
                ),
            }
            // An error that came at once (no route yet): look again soon.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sets the servers the application chose.
    pub fn set_name_servers(&self, servers: &[IpAddr]) {
        let context = self.kernel.enter().expect("enter");
        self.net
            .set_name_servers(&context, ServerSource::BootParameters, servers);
    }

    /// `Net::resolve` in the guest, and how long it took.
    pub fn resolve(&self, name: &str) -> (Result<Vec<IpAddr>, ResolveError>, Duration) {
        let context = self.kernel.enter().expect("enter");
        let started = Instant::now();
        let result = self.net.resolve(&context, name);
        (result, started.elapsed())
    }

    /// The servers the guest would ask.
    pub fn name_servers(&self) -> Vec<IpAddr> {
        let context = self.kernel.enter().expect("enter");
        self.net.name_servers(&context)
    }

    /// The resolver's counters.
    pub fn stats(&self) -> ResolverStats {
        let context = self.kernel.enter().expect("enter");
        self.net
            .with_stack(&context, |stack| stack.sockets.resolver.stats)
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// `192.0.2.last` as an `IpAddr`.
pub fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// `2001:db8::last` as an `IpAddr`.
pub fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}
