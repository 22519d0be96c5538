//! Hosted kernels for the network tests: boot several on one
//! shared-memory bus, run socket calls inside them, check what arrives.
//!
//! Every kernel is a real kernel on `hypercall-posix` with the net faction
//! and virtif linked; its NIC is a bus file private to the test. Waits
//! have deadlines; a test that hangs fails with what it waited for.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod chain;

use hypercall_posix::{ConsoleSink, ExitMode, Posix, PosixConfig};
use kernel::net::{Errno, Fd, Net, SocketOption, SocketType};
use kernel::{Context, Kernel};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};
use std::net::SocketAddrV4;

/// One hosted kernel.
pub struct Node {
    pub name: String,
    pub host: Arc<Posix>,
    pub kernel: Arc<Kernel>,
    pub net: Arc<Net>,
}

impl Node {
    /// Boots a kernel named `name` with `params` and one NIC per spec.
    pub fn boot(name: &str, params: &str, nics: &[String]) -> Node {
        let config = PosixConfig {
            name: name.to_string(),
            boot_parameters: params.to_string(),
            nics: nics
                .iter()
                .map(|spec| {
                    spec.parse()
                        .unwrap_or_else(|e| panic!("NIC spec {spec}: {e}"))
                })
                .collect(),
            console: ConsoleSink::Stderr,
            exit: ExitMode::Unwind,
            ..PosixConfig::default()
        };
        let host = Posix::new(config);
        let kernel = kernel::boot(host.clone()).unwrap_or_else(|e| panic!("{name}: boot: {e}"));
        let net = {
            let context = kernel.enter().expect("enter");
            Net::of(&context).expect("the net faction is linked")
        };
        Node {
            name: name.to_string(),
            host,
            kernel,
            net,
        }
    }

    /// Runs `f` inside the kernel on this thread.
    pub fn run<R>(&self, f: impl FnOnce(&Context<'_>, &Net) -> R) -> R {
        let context = self.kernel.enter().expect("enter");
        f(&context, &self.net)
    }

    /// Runs `f` inside the kernel on a new host thread.
    pub fn spawn<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Context<'_>, &Net) -> R + Send + 'static,
    ) -> std::thread::JoinHandle<R> {
        let node = self.clone();
        std::thread::spawn(move || node.run(f))
    }

    /// The `/stats` text of this node's stack.
    pub fn stats(&self) -> String {
        self.run(|context, net| {
            let mut text = String::new();
            net.with_stack(context, |stack| stack.write_stats(&mut text))
                .expect("a String takes any text");
            text
        })
    }
}

impl Node {
    /// The counter `name` (e.g. `tcp syn_drops`) from a `name value` line.
    pub fn counter(&self, name: &str) -> u64 {
        let stats = self.stats();
        stats
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no counter `{name}` in:\n{stats}"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// A bus file of its own for `test` (removed when dropped).
pub struct Bus {
    pub path: PathBuf,
}

impl Bus {
    pub fn new(test: &str) -> Bus {
        let path =
            std::env::temp_dir().join(format!("anykernel-test-{}-{test}.bus", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Bus { path }
    }

    /// The NIC spec of a node on this bus, with `options` (`,loss=0.1`…).
    pub fn spec(&self, options: &str) -> String {
        format!("bus:{}{options}", self.path.display())
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Boots nodes `10.0.0.1`, `10.0.0.2`, … on `bus`, each with `options`.
pub fn nodes_on_bus(bus: &Bus, count: u8, options: &str, extra_params: &str) -> Vec<Arc<Node>> {
    (1..=count)
        .map(|host| {
            let params = format!("ip={}/24 {extra_params}", address(host));
            Arc::new(Node::boot(
                &format!("node{host}"),
                &params,
                &[bus.spec(options)],
            ))
        })
        .collect()
}

/// The address of node `host` on the test subnet.
pub fn address(host: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, host)
}

/// Node `host`'s static global IPv6 address (`nodes_on_bus6`).
pub fn address6(host: u8) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(host))
}

/// [`nodes_on_bus`] with IPv6 too: each node also has `address6(host)`,
/// through DAD before this returns.
pub fn nodes_on_bus6(bus: &Bus, count: u8, options: &str, extra_params: &str) -> Vec<Arc<Node>> {
    let nodes: Vec<Arc<Node>> = (1..=count)
        .map(|host| {
            let params = format!(
                "ip={}/24 ip6={}/64 {extra_params}",
                address(host),
                address6(host)
            );
            let nic = bus.spec(options);
            Arc::new(Node::boot(&format!("node{host}"), &params, &[nic]))
        })
        .collect();
    for (node, host) in nodes.iter().zip(1..) {
        usable_address(node, |a| a == address6(host));
    }
    nodes
}

/// Waits (polling, with a deadline) until `node` has a usable IPv6
/// address that `wanted` picks, and returns it.
pub fn usable_address(node: &Node, wanted: impl Fn(Ipv6Addr) -> bool) -> Ipv6Addr {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = node.run(|context, net| {
            net.interfaces(context)
                .iter()
                .flat_map(|i| i.ipv6.clone())
                .find(|a| a.usable() && wanted(a.address))
                .map(|a| a.address)
        });
        if let Some(address) = found {
            return address;
        }
        assert!(
            Instant::now() < deadline,
            "{}: no such address after DAD:\n{}",
            node.name,
            node.stats()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `node`'s link-local IPv6 address, once through DAD.
pub fn link_local(node: &Node) -> Ipv6Addr {
    usable_address(node, |a| a.segments()[0] == 0xfe80)
}

/// FNV-1a over `bytes`, continued from `hash`.
pub fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// FNV-1a's starting value.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

pub fn listener(context: &Context<'_>, net: &Net, port: u16, backlog: usize) -> Fd {
    let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
    listener_at(context, net, any, backlog)
}

/// A listener at `local` (`[::]:port` takes both families).
pub fn listener_at(context: &Context<'_>, net: &Net, local: SocketAddr, backlog: usize) -> Fd {
    let fd = net.socket(context, SocketType::Stream).expect("socket");
    net.set_option(context, fd, SocketOption::ReuseAddress(true))
        .expect("SO_REUSEADDR");
    net.bind(context, fd, local).expect("bind");
    net.listen(context, fd, backlog).expect("listen");
    fd
}

pub fn connect(context: &Context<'_>, net: &Net, host: u8, port: u16) -> Result<Fd, Errno> {
    connect_to(context, net, SocketAddrV4::new(address(host), port).into())
}

/// A connection to `remote`, of either family.
pub fn connect_to(context: &Context<'_>, net: &Net, remote: SocketAddr) -> Result<Fd, Errno> {
    let fd = net.socket(context, SocketType::Stream)?;
    match net.connect(context, fd, remote) {
        Ok(()) => Ok(fd),
        Err(error) => {
            let _ = net.close(context, fd);
            Err(error)
        }
    }
}

/// Writes `length` bytes of the seeded stream `seed` and closes; returns
/// their hash.
pub fn send_pattern(context: &Context<'_>, net: &Net, fd: Fd, seed: u64, length: u64) -> u64 {
    let mut hash = FNV_START;
    let mut stream = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut chunk = vec![0u8; 32 * 1024];
    let mut sent = 0u64;
    while sent < length {
        let count = chunk.len().min((length - sent) as usize);
        stream.fill_bytes(&mut chunk[..count]);
        net.write(context, fd, &chunk[..count]).expect("write");
        hash = fnv1a(hash, &chunk[..count]);
        sent += count as u64;
    }
    hash
}

/// Reads to end of stream; returns the byte count and hash.
pub fn receive_all(context: &Context<'_>, net: &Net, fd: Fd) -> (u64, u64) {
    let mut hash = FNV_START;
    let mut total = 0u64;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let count = net.read(context, fd, &mut buffer).expect("read");
        if count == 0 {
            return (total, hash);
        }
        hash = fnv1a(hash, &buffer[..count]);
        total += count as u64;
    }
}
