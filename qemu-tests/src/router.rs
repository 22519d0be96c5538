//! The appliance as a router between two network namespaces (root only),
//! for the router test and the bench.
//!
//! QEMU runs in the left namespace with two virtio NICs on `tap0` and
//! `tap1`; once the guest is up, `tap1` moves to the right namespace (a
//! tap keeps its open file across the move). Linux holds 192.168.77.1 and
//! fd77::1 on the left, 192.168.78.1 and fd78::1 on the right; the
//! appliance, booted with [`ROUTER_PARAMS`], is .2 and ::2 on both and
//! forwards between them, and each side routes the other's network
//! through it.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::netns::Namespace;
use crate::{Machine, Network, Nic, Qemu, QemuConfig, boot};

/// The appliance's boot parameters: the router appliance's.
pub const ROUTER_PARAMS: [&str; 6] = [
    "ip=192.168.77.2/24",
    "ip6=fd77::2/64",
    "ip.1=192.168.78.2/24",
    "ip6.1=fd78::2/64",
    "ip.forwarding=1",
    "ip6.forwarding=1",
];
/// Linux on the right, behind the appliance, in each family.
pub const RIGHT: [&str; 2] = ["192.168.78.1", "fd78::1"];
/// The appliance's left addresses, where its errors come from.
pub const NEAR: [&str; 2] = ["192.168.77.2", "fd77::2"];
/// Boot, DAD and the services.
const READY: Duration = Duration::from_secs(60);

/// Both namespaces and the routing appliance between them.
#[derive(Debug)]
pub struct Routed {
    /// Where QEMU and the client side are.
    pub left: Namespace,
    /// The server side.
    pub right: Namespace,
    /// The appliance.
    pub qemu: Qemu,
}

impl Routed {
    /// Boots `image` on `machine` between two new namespaces (`tag` names
    /// them), wires both sides and waits until the appliance's IPv6
    /// addresses passed DAD.
    ///
    /// # Panics
    /// When a command fails or the appliance is not ready in a minute.
    pub fn boot(image: std::path::PathBuf, machine: Machine, tag: &str) -> Routed {
        let left = Namespace::new(&format!("{tag}l"));
        let right = Namespace::empty(&format!("{tag}r"));
        left.exec(&["ip", "tuntap", "add", "dev", "tap1", "mode", "tap"]);
        let tap = |name: &str| Nic::new(Network::Tap { name: name.into() });
        let config = QemuConfig::kernel(image)
            .machine(machine)
            .params(ROUTER_PARAMS)
            .program("ip")
            .program_args(["netns", "exec", left.name.as_str()])
            .program_args([crate::QEMU_PROGRAM])
            .nic(tap("tap0"))
            .nic(tap("tap1"));
        let mut qemu = boot(&config);
        qemu.expect_line(crate::protocol::READY_MARKER, READY);
        wire(&left, &right);
        let mut routed = Routed { left, right, qemu };
        routed.line_with("has fd77::2/64 preferred static");
        routed.line_with("has fd78::2/64 preferred static");
        routed
    }

    /// Waits until the appliance printed a line with `text`.
    pub fn line_with(&mut self, text: &str) {
        if !self
            .qemu
            .lines()
            .iter()
            .any(|line| line.text.contains(text))
        {
            self.qemu.expect_line(text, READY);
        }
    }

    /// `bytes` over TCP from the left to a sink at `right` (an address of
    /// the right side), through the appliance; MiB/s.
    ///
    /// # Errors
    /// What failed, as text.
    pub fn throughput(&self, right: IpAddr, bytes: usize) -> Result<f64, String> {
        let any = match right {
            IpAddr::V4(_) => "0.0.0.0:9000",
            IpAddr::V6(_) => "[::]:9000",
        };
        let listener = self
            .right
            .run_inside(move || TcpListener::bind(any))
            .map_err(|error| format!("listen: {error}"))?;
        let sink = std::thread::spawn(move || -> std::io::Result<usize> {
            let (mut stream, _) = listener.accept()?;
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            let mut buffer = vec![0u8; 256 * 1024];
            let mut total = 0;
            loop {
                match stream.read(&mut buffer)? {
                    0 => return Ok(total),
                    count => total += count,
                }
            }
        });
        let started = Instant::now();
        self.left
            .run_inside(move || -> std::io::Result<()> {
                let to = SocketAddr::new(right, 9000);
                let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(20))?;
                stream.set_write_timeout(Some(Duration::from_secs(60)))?;
                let block = vec![0x5au8; 256 * 1024];
                for _ in 0..bytes / block.len() {
                    stream.write_all(&block)?;
                }
                Ok(())
            })
            .map_err(|error| format!("send: {error}"))?;
        let received = sink.join().map_err(|_| "the sink panicked")?;
        let received = received.map_err(|error| format!("receive: {error}"))?;
        let seconds = started.elapsed().as_secs_f64();
        Ok(received as f64 / seconds / 1_048_576.0)
    }
}

/// Linux's addresses and routes on both sides, the second tap moved.
fn wire(left: &Namespace, right: &Namespace) {
    left.exec(&["ip", "link", "set", "tap1", "netns", right.name.as_str()]);
    left.exec(&[
        "ip",
        "-6",
        "addr",
        "add",
        "fd77::1/64",
        "dev",
        "tap0",
        "nodad",
    ]);
    right.exec(&["ip", "addr", "add", "192.168.78.1/24", "dev", "tap1"]);
    right.exec(&[
        "ip",
        "-6",
        "addr",
        "add",
        "fd78::1/64",
        "dev",
        "tap1",
        "nodad",
    ]);
    right.exec(&["ip", "link", "set", "tap1", "up"]);
    left.exec(&[
        "ip",
        "route",
        "add",
        "192.168.78.0/24",
        "via",
        "192.168.77.2",
    ]);
    left.exec(&["ip", "-6", "route", "add", "fd78::/64", "via", "fd77::2"]);
    right.exec(&[
        "ip",
        "route",
        "add",
        "192.168.77.0/24",
        "via",
        "192.168.78.2",
    ]);
    right.exec(&["ip", "-6", "route", "add", "fd77::/64", "via", "fd78::2"]);
}
