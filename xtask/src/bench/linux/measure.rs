//! Boots either guest on a machine and a link, and measures it with the
//! same host-side clients (network.rs's, and wrk).
//!
//! Both guests get the same QEMU command line but for what boots: the same
//! machine, accelerator, CPU model, memory and virtio-net NIC. On a tap
//! QEMU runs inside the bench's namespace (`ip netns exec`) with a pinned
//! MAC that the host already has a neighbour entry for, and the clients run
//! on a thread inside it; over user networking they use fresh forwards on
//! 127.0.0.1. New-connection rates are measured on taps only: slirp
//! accepts about one connection at a time (it listens with a backlog of 1).
//! The `tap6` link is the same tap with both guests given an IPv6 address
//! as well, and the clients speaking IPv6 to it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use qemu_tests::netns::{HOST_ADDRESS, Namespace};
use qemu_tests::{Accel, Machine, Network, Nic, QEMU_PROGRAM, Qemu, QemuConfig};

use super::guest::LinuxGuest;
use super::wrk::{self, Connections};
use crate::bench::target::{
    Family, TAP_GUEST, TAP_GUEST6, Target, bulk, first_answer, median_and_p99, round_trips,
    smallest_passing,
};

/// Guest memory of every measurement but the memory search.
pub const MEMORY_MIB: u32 = 256;
/// The guest's MAC on a tap, pinned so the host's neighbour entry fits.
pub const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xbe, 0x4c, 0x02];
/// How long a guest may take to serve its first answer at full memory.
const READY_DEADLINE: Duration = Duration::from_secs(120);

/// Which guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Anykernel,
    Linux,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Anykernel => "anykernel",
            Kind::Linux => "linux",
        }
    }
}

/// What the guest's NIC is on, and on a tap which family the clients
/// speak (the guest has an IPv6 address besides its IPv4 one for `V6`).
#[derive(Clone, Copy, Debug)]
pub enum Link<'a> {
    User,
    Tap(&'a Namespace, Family),
}

impl Link<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Link::User => "user",
            Link::Tap(_, Family::V4) => "tap",
            Link::Tap(_, Family::V6) => "tap6",
        }
    }
}

/// The boot parameters that give `kind` its addresses on a tap.
fn tap_addresses(kind: Kind, family: Family) -> Vec<String> {
    let mut params = match kind {
        Kind::Anykernel => vec![format!("ip={TAP_GUEST}/24")],
        Kind::Linux => vec![
            format!("guest_ip={TAP_GUEST}/24"),
            format!("guest_gateway={HOST_ADDRESS}"),
        ],
    };
    if family == Family::V6 {
        params.push(match kind {
            Kind::Anykernel => format!("ip6={TAP_GUEST6}/64"),
            Kind::Linux => format!("guest_ip6={TAP_GUEST6}/64"),
        });
    }
    params
}

/// Both guests and how QEMU runs them.
#[derive(Clone, Debug)]
pub struct Guests {
    pub anykernel: PathBuf,
    pub linux: LinuxGuest,
    pub accel: Accel,
    /// The host's TSC in kHz, for Debian's kernel on microvm.
    pub tsc_khz: Option<u64>,
    /// Boot parameters for the appliance beyond the link's (e.g.
    /// `virtio_net.offload=none`).
    pub anykernel_params: Vec<String>,
}

impl Guests {
    /// QEMU's configuration for `kind` and where its services will be.
    pub fn config(
        &self,
        kind: Kind,
        machine: Machine,
        link: &Link,
        memory_mib: u32,
    ) -> (QemuConfig, Target) {
        let mut config = match kind {
            Kind::Anykernel => {
                QemuConfig::kernel(&self.anykernel).params(self.anykernel_params.clone())
            }
            Kind::Linux => QemuConfig::kernel(&self.linux.kernel)
                .args([
                    std::ffi::OsString::from("-initrd"),
                    self.linux.initramfs.clone().into(),
                ])
                .params(linux_params(machine, self.tsc_khz)),
        };
        config = config
            .machine(machine)
            .accel(self.accel)
            .memory_mib(memory_mib);
        on_link(config, kind, link)
    }
}

/// `config` with a NIC on `link` (`kind` gets its addresses on a tap),
/// and where its services will be.
pub fn on_link(config: QemuConfig, kind: Kind, link: &Link) -> (QemuConfig, Target) {
    match link {
        Link::User => {
            let (target, forwards) = Target::forwarded();
            (config.nic(Nic::new(Network::User { forwards })), target)
        }
        Link::Tap(namespace, family) => {
            let mut nic = Nic::new(Network::Tap {
                name: "tap0".into(),
            });
            nic.mac = Some(GUEST_MAC);
            let address = tap_addresses(kind, *family);
            let config = config.params(address).nic(nic).program("ip").program_args([
                "netns",
                "exec",
                namespace.name.as_str(),
                QEMU_PROGRAM,
            ]);
            (config, Target::on_tap(*family))
        }
    }
}

/// Debian's kernel on a serial console; it must not hang on a panic.
pub fn linux_params(machine: Machine, tsc_khz: Option<u64>) -> Vec<String> {
    let mut params: Vec<String> = ["console=ttyS0", "quiet", "panic=-1"]
        .map(String::from)
        .to_vec();
    if machine == Machine::Microvm {
        // Without it the kernel hangs calibrating its clock under TCG.
        if let Some(khz) = tsc_khz {
            params.push(format!("tsc_early_khz={khz}"));
        }
        params.push("pci=off".into());
    }
    params
}

/// The host's TSC in kHz from /proc/cpuinfo's first `cpu MHz` line.
pub fn tsc_khz(cpuinfo: &str) -> Option<u64> {
    let line = cpuinfo.lines().find(|line| line.starts_with("cpu MHz"))?;
    let mhz: f64 = line.split(':').nth(1)?.trim().parse().ok()?;
    (mhz.is_finite() && mhz > 0.0).then(|| (mhz * 1000.0).round() as u64)
}

/// One run: the figures of network.rs's NETWORK_METRICS order; the last
/// (new connections) only on a tap.
pub fn measure(
    guests: &Guests,
    kind: Kind,
    machine: Machine,
    link: &Link,
) -> Result<[Option<f64>; 7], String> {
    let (config, target) = guests.config(kind, machine, link, MEMORY_MIB);
    let qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    let spawned_at = qemu.spawned_at();
    let on_tap = matches!(link, Link::Tap(..));
    let work = move || measure_target(target, spawned_at, on_tap);
    let result = match link {
        Link::User => work(),
        Link::Tap(namespace, _) => namespace.run_inside(work),
    };
    result.map_err(|error| {
        let outcome = qemu.stop();
        let last: Vec<&str> = outcome
            .lines
            .iter()
            .rev()
            .take(4)
            .map(|line| line.text.as_str())
            .collect();
        format!("{error} (last serial lines, newest first: {last:?})")
    })
}

fn measure_target(
    target: Target,
    spawned_at: Instant,
    on_tap: bool,
) -> Result<[Option<f64>; 7], String> {
    let ready = first_answer(&target, spawned_at, READY_DEADLINE)?;
    let rtts = round_trips(&target)?;
    let (median, p99) = median_and_p99(&rtts).ok_or("no round trips")?;
    let (up, down) = bulk(&target)?;
    let keep_alive = wrk::rate(&target, Connections::KeepAlive)?;
    let new_connections = match on_tap {
        true => Some(wrk::rate(&target, Connections::NewPerRequest)?),
        false => None,
    };
    Ok([
        Some(ready),
        Some(median),
        Some(p99),
        Some(up),
        Some(down),
        Some(keep_alive),
        new_connections,
    ])
}

/// The smallest `-m` (MiB) with which `kind` answers HTTP over user
/// networking; a binary search between a size that cannot work and one
/// that must.
pub fn smallest_memory(guests: &Guests, kind: Kind, machine: Machine) -> Option<f64> {
    let (low, high, within) = match kind {
        Kind::Anykernel => (1, 64, Duration::from_secs(15)),
        Kind::Linux => (48, 256, Duration::from_secs(60)),
    };
    let serves = |mib: u32| {
        let (config, target) = guests.config(kind, machine, &Link::User, mib);
        let served = Qemu::spawn(&config)
            .is_ok_and(|qemu| first_answer(&target, qemu.spawned_at(), within).is_ok());
        let verdict = if served { "serves" } else { "does not serve" };
        eprintln!(
            "xtask: {} on {machine} with -m {mib}M {verdict}",
            kind.name()
        );
        served
    };
    smallest_passing(low, high, serves).map(f64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tsc_frequency_comes_from_cpuinfo() {
        let cpuinfo =
            "processor\t: 0\nmodel name\t: Some CPU\ncpu MHz\t\t: 2100.000\ncpu MHz\t\t: 900\n";
        assert_eq!(tsc_khz(cpuinfo), Some(2_100_000));
        assert_eq!(tsc_khz("cpu MHz : 2593.906"), Some(2_593_906));
        assert_eq!(tsc_khz("processor : 0\n"), None);
        assert_eq!(tsc_khz("cpu MHz : fast"), None);
    }

    #[test]
    fn microvm_gets_the_tsc_and_no_pci() {
        let q35 = linux_params(Machine::Q35, Some(2_100_000));
        assert_eq!(q35, ["console=ttyS0", "quiet", "panic=-1"]);
        let microvm = linux_params(Machine::Microvm, Some(2_100_000));
        assert!(
            microvm.contains(&"tsc_early_khz=2100000".to_string()),
            "{microvm:?}"
        );
        assert!(microvm.contains(&"pci=off".to_string()), "{microvm:?}");
    }

    #[test]
    fn both_guests_get_the_same_machine_memory_and_nic() {
        let guests = Guests {
            anykernel: "/images/anykernel".into(),
            linux: LinuxGuest {
                kernel: "/cache/bzImage".into(),
                initramfs: "/cache/initramfs.cpio.gz".into(),
            },
            accel: Accel::Tcg,
            tsc_khz: Some(2_100_000),
            anykernel_params: Vec::new(),
        };
        let line = |kind| {
            let (config, target) = guests.config(kind, Machine::Microvm, &Link::User, 256);
            let words: Vec<String> = config
                .command_line()
                .expect("a valid configuration")
                .into_iter()
                .map(|word| word.to_string_lossy().into_owned())
                .collect();
            (words, target)
        };
        let (ours, our_target) = line(Kind::Anykernel);
        let (linux, _) = line(Kind::Linux);
        let option = |words: &[String], name: &str| {
            let at = words.iter().position(|word| word == name);
            at.and_then(|at| words.get(at + 1)).cloned()
        };
        for name in ["-M", "-accel", "-cpu", "-m"] {
            assert_eq!(option(&ours, name), option(&linux, name), "{name}");
        }
        assert_eq!(option(&linux, "-m").as_deref(), Some("256M"));
        assert_eq!(
            option(&linux, "-initrd").as_deref(),
            Some("/cache/initramfs.cpio.gz")
        );
        assert_eq!(option(&ours, "-initrd"), None);
        for words in [&ours, &linux] {
            let nic = words
                .iter()
                .filter(|word| word.starts_with("virtio-net-device,"));
            assert_eq!(nic.count(), 1, "{words:?}");
        }
        let forward = format!("hostfwd=tcp:127.0.0.1:{}-:80", our_target.http);
        assert!(option(&ours, "-netdev").is_some_and(|netdev| netdev.contains(&forward)));
    }
}
