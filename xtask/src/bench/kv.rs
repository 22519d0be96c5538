//! `cargo xtask bench --vs linux --kv`: the kv appliance against Debian's
//! memcached on Debian's kernel, then the kv appliance's throughput
//! against its memory limit.
//!
//! Both guests run on microvm in the same QEMU configuration (server.rs)
//! with a 64 MiB cache, over a tap in a namespace of our own when we are
//! root (user networking otherwise), loaded by the same memaslap
//! (memaslap.rs) through the same workloads (measure.rs), `runs` times in
//! alternating order. Then, per guest, the smallest `-m` that still holds
//! a full cache, and, for ours alone, the full-cache load at several
//! `mem=` limits with the cache at half of each. One table per part, every
//! raw value in `$TARGET/bench-kv.json`. Benchmarks report, they do not
//! assert: a failed run is reported and left out.

use std::fs;
use std::time::Instant;

use qemu_tests::Machine;
use serde::Serialize;

use crate::args::VersusLinuxOptions;
use crate::bench::linux::compare::{JsonRow, Metric, Row, json_rows};
use crate::bench::linux::guest::linux_guest;
use crate::bench::linux::initramfs::Services;
use crate::bench::linux::measure::{Kind, Link, MEMORY_MIB, tsc_khz};
use crate::bench::linux::tap_namespace;
use crate::bench::report::{Series, to_json};
use crate::bench::target::Family;
use crate::build::build_images;
use crate::paths::target_dir;
use crate::setup::{Need, ensure};

mod measure;
mod memaslap;
mod memory;
mod server;
mod table;
mod watched;

use server::{Servers, Sizes};

/// The cache both guests get in the comparison.
pub const CACHE_MIB: u32 = 64;

const fn metric(name: &'static str, unit: &'static str) -> Metric {
    Metric {
        name,
        unit,
        goal: None,
    }
}

/// The per-run figures, in measure.rs's order.
pub const RUN_METRICS: [Metric; 9] = [
    metric("spawn -> serving", "ms"),
    metric("fits: 9:1 get:set", "ops/s"),
    metric("fits: mean latency", "us"),
    metric("fill: sets to 1.5x the cache", "ops/s"),
    metric("full: 9:1 get:set, sets evict", "ops/s"),
    metric("full: mean latency", "us"),
    metric("full: get hits", "%"),
    metric("full: items held", "items"),
    metric("full: item bytes held (stats)", "MiB"),
];

/// What the tables rest on, printed under them.
const NOTES: &str = "\
notes: microvm, TCG, -cpu qemu64,+rdrand, virtio-net (no vhost), -m 256M for
both guests, a 64 MiB cache (kv.memory=64M; memcached -m 64, Debian's other
defaults: 4 threads); load: memaslap (libmemcached-tools) -T 1 -c 4, 32 B
keys, 100-1024 B values, 10 s per timed load; a get asks only for a key its
connection set, so a miss is an item the server dropped; hits and items
are the server's own `stats`; smallest memory: the least -m whose guest
still holds 90 % of the items it held at 256 MiB after the fill.
";

/// The `bench --vs linux --kv` verb.
pub fn kv_versus_linux_verb(options: &VersusLinuxOptions) -> Result<(), String> {
    let started = Instant::now();
    let needs = [
        Need::Target,
        Need::Qemu,
        Need::NetTools,
        Need::LinuxBaseline,
        Need::KvClients,
    ];
    ensure(&needs)?;
    let images = build_images()?;
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let servers = Servers {
        kv: images.kv,
        linux: linux_guest(Services::Memcached)?,
        machine: Machine::Microvm,
        accel: options.accel,
        tsc_khz: tsc_khz(&cpuinfo),
    };
    let namespace = tap_namespace()?;
    let over_ipv4 = |namespace| Link::Tap(namespace, Family::V4);
    let link = namespace.as_ref().map_or(Link::User, over_ipv4);
    let mut rows = comparison(&servers, &link, options.runs);
    rows.push(memory::smallest_memory_row(&servers, &link, &rows[7]));
    rows.push(table::image_row(&servers)?);
    let sweep = memory::sweep(&servers, &link, options.runs);
    print!("{}", table::comparison(&rows));
    print!("{NOTES}");
    print!("{}", table::sweep(&sweep));
    let json_path = target_dir().join("bench-kv.json");
    let report = Report {
        runs: options.runs,
        accel: options.accel.name(),
        link: link.name(),
        cache_mib: CACHE_MIB,
        rows: json_rows(&rows),
        sweep: &sweep,
    };
    fs::write(&json_path, to_json(&report))
        .map_err(|error| format!("cannot write {}: {error}", json_path.display()))?;
    eprintln!(
        "xtask: raw figures in {}; {} runs took {:.0} s",
        json_path.display(),
        options.runs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// bench-kv.json.
#[derive(Serialize)]
struct Report<'a> {
    runs: u32,
    accel: &'a str,
    link: &'a str,
    cache_mib: u32,
    rows: Vec<JsonRow<'a>>,
    sweep: &'a [Series],
}

/// `runs` rounds of both guests with a 64 MiB cache, back to back.
fn comparison(servers: &Servers, link: &Link, runs: u32) -> Vec<Row> {
    let mut rows: Vec<Row> = RUN_METRICS
        .iter()
        .map(|metric| Row::new(metric.name.to_string(), *metric))
        .collect();
    let sizes = Sizes {
        memory_mib: MEMORY_MIB,
        cache_mib: CACHE_MIB,
        kernel_limit_mib: None,
    };
    for run in 1..=runs {
        // Alternate who goes first, so neither always gets a cold host.
        let order = match run % 2 {
            1 => [Kind::Anykernel, Kind::Linux],
            _ => [Kind::Linux, Kind::Anykernel],
        };
        for kind in order {
            let what = format!("{} over {}, run {run}", kind.name(), link.name());
            let figures = measure::with_guest(servers, kind, link, sizes, move |endpoint, at| {
                measure::sequence(kind, endpoint, at, CACHE_MIB)
            });
            match figures {
                Ok(values) => {
                    eprintln!("xtask: {what}: {}", table::describe(&values));
                    let finite = values.map(|value| Some(value).filter(|v| v.is_finite()));
                    for (row, value) in rows.iter_mut().zip(finite) {
                        match kind {
                            Kind::Anykernel => row.ours.extend(value),
                            Kind::Linux => row.linux.extend(value),
                        }
                    }
                }
                Err(error) => eprintln!("xtask: {what} left out: {error}"),
            }
        }
    }
    rows
}
