//! Ten thousand clients at once: the bare-metal appliance in 64 MiB holds
//! 10,000 concurrent TCP connections from Linux over a tap, each echoes
//! its own message, and `/stats` says what an idle connection costs.
//!
//! Root: a tap in a network namespace (`#[ignore = "needs root: …"]`, run
//! by the root-only QEMU stage of `cargo xtask test`). The clients are
//! `qemu_tests::crowd`'s: blocking sockets over a few dozen threads, a
//! timeout on every wait; 10,000 of them fit the open-file limit for root
//! here (20,000, FACTS.md), which the test raises to.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use qemu_tests::crowd::{self, GuestFigures};
use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Machine, Network, Nic, QemuConfig, appliance_image, boot};

/// Concurrent clients.
const CLIENTS: usize = 10_000;
/// The guest's memory.
const MEMORY_MIB: u32 = 64;
/// The appliance's address on the tap.
const GUEST: &str = "192.168.77.2";
/// How long the guest may take to boot.
const BOOT_DEADLINE: Duration = Duration::from_secs(30);
/// How long the guest may take to accept every connection once all are
/// connected (they wait in its backlog meanwhile).
const ACCEPT_DEADLINE: Duration = Duration::from_secs(30);

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as 10,000 clients"]
fn the_appliance_in_64_mib_echoes_to_10000_clients_at_once() {
    if let Some(reason) = missing_privilege(&[]) {
        panic!("this test needs root and /dev/net/tun: {reason}");
    }
    let limit = crowd::raise_open_file_limit().unwrap_or_else(|error| panic!("{error}"));
    // The clients, the /stats requests and the standard descriptors.
    assert!(
        limit >= CLIENTS as u64 + 100,
        "the open-file hard limit is {limit}: too low for {CLIENTS} clients"
    );
    let namespace = Namespace::new("many");
    let config = QemuConfig::kernel(appliance_image())
        .machine(Machine::Microvm)
        .memory_mib(MEMORY_MIB)
        .param(format!("ip={GUEST}/24"))
        .program("ip")
        .program_args(["netns", "exec", namespace.name.as_str()])
        .program_args([qemu_tests::QEMU_PROGRAM])
        .nic(Nic::new(Network::Tap {
            name: "tap0".into(),
        }));
    let mut qemu = boot(&config);
    qemu.expect_line("anykernel: ready", BOOT_DEADLINE);
    let report = namespace.run_inside(serve_everyone);
    let log = qemu.log();
    let report = report.unwrap_or_else(|error| panic!("{error}\n{log}"));
    eprintln!("{report}");
    assert_eq!(report.idle.connections_open, CLIENTS as u64 + 1, "{report}");
    assert!(report.failed.is_empty(), "{report}\n{log}");
}

/// What the clients saw, for the failure message and the figures.
#[derive(Debug)]
struct Report {
    before: GuestFigures,
    idle: GuestFigures,
    echoed: GuestFigures,
    connected_in: Duration,
    echoed_in: Duration,
    /// Clients that did not get their message back, and what they got.
    failed: Vec<(usize, String)>,
}

/// Opens every connection, measures, has each one echo, measures again
/// with all of them still open; inside the namespace. The error says
/// what failed.
fn serve_everyone() -> Result<Report, String> {
    let stats: SocketAddr = format!("{GUEST}:80").parse().expect("an address");
    let echo: SocketAddr = format!("{GUEST}:7").parse().expect("an address");
    let before = GuestFigures::read(stats)?;
    let started = Instant::now();
    let mut streams = crowd::connect_all(echo, CLIENTS).map_err(|error| {
        let page = crowd::stats_page(stats).unwrap_or_else(|error| format!("none: {error}"));
        format!("{error}\n/stats:\n{page}")
    })?;
    let open = before.connections_open + CLIENTS as u64;
    let idle = GuestFigures::wait_for_open(stats, open, ACCEPT_DEADLINE)?;
    let connected_in = started.elapsed();
    let started = Instant::now();
    let failed = crowd::echo_all(&mut streams);
    let echoed_in = started.elapsed();
    let echoed = GuestFigures::read(stats)?;
    drop(streams);
    Ok(Report {
        before,
        idle,
        echoed,
        connected_in,
        echoed_in,
        failed,
    })
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kib = |figures: &GuestFigures| figures.memory_in_use / 1024;
        let each = |figures: &GuestFigures| {
            figures
                .memory_in_use
                .saturating_sub(self.before.memory_in_use)
                / CLIENTS as u64
        };
        writeln!(
            f,
            "{CLIENTS} clients: connected and accepted in {:.1?} ({} open), echoed in {:.1?} \
             ({} failed); kernel memory {} KiB before, {} KiB idle ({} B per idle connection), \
             {} KiB after one echo each ({} B per connection)",
            self.connected_in,
            self.idle.connections_open,
            self.echoed_in,
            self.failed.len(),
            kib(&self.before),
            kib(&self.idle),
            each(&self.idle),
            kib(&self.echoed),
            each(&self.echoed),
        )?;
        for (number, what) in self.failed.iter().take(20) {
            writeln!(f, "  client {number}: {what}")?;
        }
        Ok(())
    }
}
