//! The two memcached servers in QEMU, and the host's view of them.
//!
//! The kv appliance and Debian's memcached (in the Linux guest's
//! memcached initramfs) get the same QEMU command line but for what boots:
//! machine, accelerator, CPU model, memory and virtio-net NIC, on a tap in
//! the bench's namespace (pinned MAC, fixed neighbour entry) or through
//! user networking with a forward from 127.0.0.1. Each is given the same
//! cache size: `kv.memory=` or memcached's `-m` (through `cache_mb=`).
//! [`ready`] waits for a `VERSION` reply; [`statistics`] reads `stats`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use qemu_tests::clients::free_port;
use qemu_tests::netns::HOST_ADDRESS;
use qemu_tests::{Accel, Forward, Machine, Network, Nic, QEMU_PROGRAM, QemuConfig};

use crate::bench::linux::guest::LinuxGuest;
use crate::bench::linux::measure::{GUEST_MAC, Kind, Link, linux_params};
use crate::bench::target::TAP_GUEST;

/// The memcached port, in both guests.
pub const PORT: u16 = 11211;

/// Both servers and how QEMU runs them.
#[derive(Clone, Debug)]
pub struct Servers {
    pub kv: PathBuf,
    pub linux: LinuxGuest,
    pub machine: Machine,
    pub accel: Accel,
    /// The host's TSC in kHz, for Debian's kernel on microvm.
    pub tsc_khz: Option<u64>,
}

/// How one guest is sized: QEMU's `-m`, the cache, and (ours only) the
/// kernel's own limit `mem=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    pub memory_mib: u32,
    pub cache_mib: u32,
    pub kernel_limit_mib: Option<u32>,
}

/// Where a server answers: `address:port` for memaslap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub address: IpAddr,
    pub port: u16,
}

impl Endpoint {
    pub fn server(&self) -> String {
        SocketAddr::new(self.address, self.port).to_string()
    }
}

impl Servers {
    /// QEMU's configuration for `kind` sized by `sizes` on `link`, and
    /// where its memcached will answer.
    pub fn config(&self, kind: Kind, link: &Link, sizes: Sizes) -> (QemuConfig, Endpoint) {
        let config = match kind {
            Kind::Anykernel => {
                let mut params = vec![format!("kv.memory={}M", sizes.cache_mib)];
                params.extend(sizes.kernel_limit_mib.map(|mib| format!("mem={mib}M")));
                QemuConfig::kernel(&self.kv).params(params)
            }
            Kind::Linux => QemuConfig::kernel(&self.linux.kernel)
                .args([
                    std::ffi::OsString::from("-initrd"),
                    self.linux.initramfs.clone().into(),
                ])
                .params(linux_params(self.machine, self.tsc_khz))
                .param(format!("cache_mb={}", sizes.cache_mib)),
        };
        let config = config
            .machine(self.machine)
            .accel(self.accel)
            .memory_mib(sizes.memory_mib);
        match link {
            Link::User => user_link(config),
            Link::Tap(namespace, _) => {
                let mut nic = Nic::new(Network::Tap {
                    name: "tap0".into(),
                });
                nic.mac = Some(GUEST_MAC);
                let address = match kind {
                    Kind::Anykernel => vec![format!("ip={TAP_GUEST}/24")],
                    Kind::Linux => vec![
                        format!("guest_ip={TAP_GUEST}/24"),
                        format!("guest_gateway={HOST_ADDRESS}"),
                    ],
                };
                let inside = ["netns", "exec", namespace.name.as_str(), QEMU_PROGRAM];
                let config = config.params(address).nic(nic);
                let endpoint = Endpoint {
                    address: IpAddr::V4(TAP_GUEST),
                    port: PORT,
                };
                (config.program("ip").program_args(inside), endpoint)
            }
        }
    }
}

/// A fresh forward from 127.0.0.1 to the guest's memcached.
fn user_link(config: QemuConfig) -> (QemuConfig, Endpoint) {
    let host_port = free_port();
    let forwards = vec![Forward {
        host_port,
        guest_port: PORT,
    }];
    let endpoint = Endpoint {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: host_port,
    };
    (config.nic(Nic::new(Network::User { forwards })), endpoint)
}

/// Milliseconds from `spawned_at` to the first `VERSION` reply, trying
/// until `within` has passed. Through user networking a connect succeeds
/// before the guest listens (slirp accepts it): only a reply tells.
pub fn ready(endpoint: Endpoint, spawned_at: Instant, within: Duration) -> Result<f64, String> {
    let deadline = Instant::now() + within;
    let mut last = String::from("no attempt");
    while Instant::now() < deadline {
        match exchange(
            endpoint,
            b"version\r\n",
            b"\r\n",
            Duration::from_millis(200),
        ) {
            Ok(reply) if reply.starts_with("VERSION ") => {
                return Ok(spawned_at.elapsed().as_secs_f64() * 1e3);
            }
            Ok(reply) => last = format!("`version` answered {reply:?}"),
            Err(error) => last = error,
        }
        // A refusal comes back at once and the guest offers no event to
        // wait on: pause briefly rather than flood it with SYNs.
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "memcached did not answer within {within:?}: {last}"
    ))
}

/// Every numeric `STAT name value` of `stats`.
pub fn statistics(endpoint: Endpoint) -> Result<BTreeMap<String, u64>, String> {
    let reply = exchange(endpoint, b"stats\r\n", b"END\r\n", Duration::from_secs(10))?;
    Ok(parse_statistics(&reply))
}

/// The numeric statistics of a `stats` reply.
pub fn parse_statistics(reply: &str) -> BTreeMap<String, u64> {
    let numbers = reply.lines().filter_map(|line| {
        let mut words = line.strip_prefix("STAT ")?.split_whitespace();
        let name = words.next()?;
        Some((name.to_string(), words.next()?.parse().ok()?))
    });
    numbers.collect()
}

/// Sends `request` on a new connection and reads until the reply ends
/// with `end`, all within `within`.
fn exchange(
    endpoint: Endpoint,
    request: &[u8],
    end: &[u8],
    within: Duration,
) -> Result<String, String> {
    let address = SocketAddr::new(endpoint.address, endpoint.port);
    let failed = |error: std::io::Error| format!("{address}: {error}");
    let deadline = Instant::now() + within;
    let mut stream = TcpStream::connect_timeout(&address, within).map_err(failed)?;
    stream.set_write_timeout(Some(within)).map_err(failed)?;
    stream.write_all(request).map_err(failed)?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while !reply.ends_with(end) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("{address}: no complete reply within {within:?}"));
        }
        stream.set_read_timeout(Some(left)).map_err(failed)?;
        match stream.read(&mut chunk).map_err(failed)? {
            0 => return Err(format!("{address}: closed after {} bytes", reply.len())),
            count => reply.extend_from_slice(&chunk[..count]),
        }
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers() -> Servers {
        Servers {
            kv: "/images/kv".into(),
            linux: LinuxGuest {
                kernel: "/cache/bzImage".into(),
                initramfs: "/cache/initramfs-memcached.cpio.gz".into(),
            },
            machine: Machine::Microvm,
            accel: Accel::Tcg,
            tsc_khz: Some(2_100_000),
        }
    }

    fn words(config: &QemuConfig) -> Vec<String> {
        let line = config.command_line().expect("a valid configuration");
        line.iter()
            .map(|word| word.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn both_get_the_same_machine_memory_nic_and_cache() {
        let sizes = Sizes {
            memory_mib: 256,
            cache_mib: 64,
            kernel_limit_mib: None,
        };
        let (ours, endpoint) = servers().config(Kind::Anykernel, &Link::User, sizes);
        let (linux, _) = servers().config(Kind::Linux, &Link::User, sizes);
        let (ours, linux) = (words(&ours), words(&linux));
        let option = |words: &[String], name: &str| {
            let at = words.iter().position(|word| word == name);
            at.and_then(|at| words.get(at + 1)).cloned()
        };
        for name in ["-M", "-accel", "-cpu", "-m"] {
            assert_eq!(option(&ours, name), option(&linux, name), "{name}");
        }
        let ours_append = option(&ours, "-append").expect("parameters");
        assert_eq!(ours_append, "kv.memory=64M");
        let linux_append = option(&linux, "-append").expect("parameters");
        assert!(linux_append.ends_with(" cache_mb=64"), "{linux_append}");
        let forward = format!("hostfwd=tcp:127.0.0.1:{}-:11211", endpoint.port);
        assert!(option(&ours, "-netdev").is_some_and(|netdev| netdev.contains(&forward)));
        let limited = Sizes {
            kernel_limit_mib: Some(32),
            cache_mib: 16,
            ..sizes
        };
        let (config, _) = servers().config(Kind::Anykernel, &Link::User, limited);
        let append = option(&words(&config), "-append");
        assert_eq!(append.as_deref(), Some("kv.memory=16M mem=32M"));
    }

    #[test]
    fn statistics_are_the_numeric_stat_lines() {
        let reply = "STAT pid 1\r\nSTAT version 1.6.18\r\nSTAT curr_items 42\r\n\
            STAT rusage_user 0.5\r\nEND\r\n";
        let parsed = parse_statistics(reply);
        assert_eq!(parsed.get("curr_items"), Some(&42));
        assert_eq!(parsed.get("pid"), Some(&1));
        assert!(!parsed.contains_key("version") && !parsed.contains_key("rusage_user"));
    }
}
