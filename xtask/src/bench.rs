//! `cargo xtask bench [--runs N] [--hosted]`: image sizes (the appliance's and
//! each configuration of the test matrix's), boot times,
//! guest figures, the appliance's network figures and, as root, its
//! forwarding as a router (router.rs), remote system calls over its
//! virtio console (console.rs) and how its figures scale with streams,
//! open connections and memory (scaling.rs); with `--hosted`, the
//! network, bootstrap and memory figures of hosted kernels (hosted.rs,
//! bootstrap.rs); with `--vs linux` (linux.rs), the
//! appliance against a Debian Linux guest; with `--vs linux --kv` (kv.rs),
//! the kv appliance against Debian's memcached.
//!
//! For each of q35 + qboot and microvm, N boots of the appliance measure
//! QEMU spawn -> first serial line and spawn -> `anykernel: ready`, plus the
//! guest's own `ready in N us`, and QEMU alone with an empty guest
//! (floor.rs). N runs of the selftest case `bench` collect
//! every `bench <metric> <value> <unit>` line. Benchmarks report; they do not
//! assert: a failed run is reported and left out of the figures.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use qemu_tests::protocol::{READY_MARKER, bench_figure, ready_micros};
use qemu_tests::{BOOT_DEADLINE, Machine, Qemu, QemuConfig, SELFTEST_DEADLINE, Verdict};

use crate::build::build_images;
use crate::paths::bench_json_path;
use crate::setup::{Need, ensure};

mod bootstrap;
mod console;
mod floor;
mod guest_profile;
mod hosted;
mod idle;
mod kv;
mod linux;
mod multitude;
mod network;
mod report;
mod router;
mod sampler;
mod scaling;
mod stats;
mod tap;
mod target;

pub use hosted::hosted_bench_verb;
pub use kv::kv_versus_linux_verb;
pub use linux::{profile_verb, versus_linux_verb};

use report::Series;

/// The machines boot times are measured on.
const BOOT_MACHINES: [Machine; 2] = [Machine::Q35, Machine::Microvm];

/// The `bench` verb.
pub fn bench_verb(runs: u32) -> Result<(), String> {
    ensure(&[Need::Target, Need::Qemu])?;
    let images = build_images()?;
    let mut series = Vec::new();
    for image in [&images.appliance, &images.selftest] {
        series.push(image_size(image)?);
    }
    for (configuration, bytes) in crate::matrix::image_sizes()? {
        series.push(Series {
            name: format!("image size, configuration {configuration}"),
            unit: "bytes".into(),
            values: vec![bytes as f64],
        });
    }
    for machine in BOOT_MACHINES {
        series.extend(boot_times(&images.appliance, machine, runs));
    }
    series.extend(floor::figures(&BOOT_MACHINES, runs));
    series.extend(guest_figures(&images.selftest, runs));
    for machine in BOOT_MACHINES {
        series.extend(network::figures(&images.appliance, machine, runs));
    }
    series.extend(router::figures(&images.appliance, runs));
    series.extend(console::figures(&images.appliance, runs));
    series.extend(scaling::figures(&images.appliance, runs));
    print!("{}", report::table(&series));
    let json_path = bench_json_path();
    fs::write(&json_path, report::json(runs, &series))
        .map_err(|error| format!("cannot write {}: {error}", json_path.display()))?;
    eprintln!("xtask: raw figures in {}", json_path.display());
    Ok(())
}

fn image_size(image: &Path) -> Result<Series, String> {
    let metadata = fs::metadata(image).map_err(|error| format!("{}: {error}", image.display()))?;
    let name = image
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    Ok(Series {
        name: format!("image size {name}"),
        unit: "bytes".into(),
        values: vec![metadata.len() as f64],
    })
}

/// The `bench --scaling` verb: only the rows of scaling.rs.
pub fn scaling_bench_verb(runs: u32) -> Result<(), String> {
    ensure(&[Need::Target, Need::Qemu])?;
    let images = build_images()?;
    let series = scaling::figures(&images.appliance, runs);
    print!("{}", report::table(&series));
    Ok(())
}

/// Spawn -> first line, spawn -> ready (host, ms) and ready (guest, us).
fn boot_times(image: &Path, machine: Machine, runs: u32) -> [Series; 3] {
    let named = |what: &str, unit: &str| Series {
        name: format!("{machine} {what}"),
        unit: unit.into(),
        values: Vec::new(),
    };
    let mut series = [
        named("spawn -> first line", "ms"),
        named("spawn -> ready", "ms"),
        named("ready (guest)", "us"),
    ];
    for run in 1..=runs {
        match boot_once(image, machine) {
            Ok(figures) => {
                for (one, value) in series.iter_mut().zip(figures) {
                    one.values.push(value);
                }
            }
            Err(error) => eprintln!("xtask: {machine} boot run {run} left out: {error}"),
        }
    }
    series
}

/// One boot: [first line ms, ready ms, guest ready us].
fn boot_once(image: &Path, machine: Machine) -> Result<[f64; 3], String> {
    let config = QemuConfig::kernel(image).machine(machine);
    let mut qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    let first = qemu
        .first_line(BOOT_DEADLINE)
        .map_err(|error| format!("no first line: {error}"))?;
    let ready = qemu
        .wait_for_line(READY_MARKER, BOOT_DEADLINE)
        .map_err(|error| format!("not ready: {error}"))?;
    let guest =
        ready_micros(&ready.text).ok_or_else(|| format!("malformed line `{}`", ready.text))?;
    let milliseconds = |at: std::time::Duration| at.as_micros() as f64 / 1000.0;
    Ok([milliseconds(first.at), milliseconds(ready.at), guest as f64])
}

/// Every `bench` figure of `runs` runs of the selftest case `bench`.
fn guest_figures(selftest: &Path, runs: u32) -> Vec<Series> {
    let mut figures: BTreeMap<String, Series> = BTreeMap::new();
    for run in 1..=runs {
        let config = QemuConfig::kernel(selftest).param("test=bench");
        let outcome = match Qemu::spawn(&config) {
            Ok(qemu) => qemu.wait_for_exit(SELFTEST_DEADLINE),
            Err(error) => {
                eprintln!("xtask: bench run {run} left out: {error}");
                continue;
            }
        };
        if outcome.verdict != Verdict::Passed {
            eprintln!(
                "xtask: bench run {run} left out: it ended with `{}`",
                outcome.verdict
            );
            continue;
        }
        collect_figures(
            &mut figures,
            outcome.lines.iter().map(|line| line.text.as_str()),
        );
    }
    figures.into_values().collect()
}

/// Adds every `bench <metric> <value> <unit>` line of `lines` to its
/// series in `figures`.
fn collect_figures<'a>(
    figures: &mut BTreeMap<String, Series>,
    lines: impl Iterator<Item = &'a str>,
) {
    for figure in lines.filter_map(bench_figure) {
        let name = format!("bench {}", figure.metric);
        let series = figures.entry(name.clone()).or_insert_with(|| Series {
            name,
            unit: figure.unit,
            values: Vec::new(),
        });
        series.values.push(figure.value);
    }
}
