//! `bench --hosted`, the seeds' headline figures: each hosted configuration's
//! bootstrap time and memory per kernel, and how many fit in one process.
//!
//! For every hosted configuration of the matrix (matrix.rs) it builds
//! `kernel/examples/hosted_boot` with exactly those components and runs it:
//! [`BOOTS`] boots in one process, `--runs` times (call to return, call
//! to first socket; median and p99), then [`MEMORY_KERNELS`] idle kernels
//! side by side (heap, RSS, threads per kernel, and the kernel's own
//! accounting). It
//! builds the probe (`app/probe`, release) the same way and spawns it
//! [`SPAWNS`] times: process spawn to its `anykernel: ready` line, each
//! followed by a spawn of `/bin/true` to its exit (the floor a process
//! start cannot go below, under the same load). With base + net (lo0) it
//! boots kernels until 1 GiB of heap and thread stacks is used, a boot
//! fails or a thread budget that spares the machine is reached
//! (capacity.rs of the example). Reports, does not assert.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qemu_tests::protocol::{READY_MARKER, bench_figure, ready_micros};

use super::report::{Series, align};
use super::stats::{format_value, median};
use crate::command::{cargo, describe, find_program, run};
use crate::matrix::{Configuration, MATRIX};
use crate::paths::target_dir;

/// In-process boots per configuration (and per log setting).
const BOOTS: u32 = 1000;
/// Idle kernels booted side by side for the memory figures.
const MEMORY_KERNELS: u32 = 200;
/// Process spawns of the probe per configuration.
const SPAWNS: u32 = 50;
/// The capacity run: budget of heap and stacks, time, threads at most.
const CAPACITY: [&str; 4] = ["capacity", "1024", "180", "12000"];
/// How long one run of the example or one probe may take.
const DEADLINE: Duration = Duration::from_secs(300);
const SPAWN_DEADLINE: Duration = Duration::from_secs(10);

/// Every figure as series, and the per-configuration summary table; the
/// in-process boots run `runs` times.
pub fn figures(runs: u32) -> Result<(Vec<Series>, String), String> {
    let mut series = Vec::new();
    let mut rows = vec![SUMMARY_HEADER.map(String::from).to_vec()];
    for configuration in MATRIX.iter().filter(|c| c.hosted) {
        let figures = configuration_figures(configuration, runs)?;
        rows.push(summary_row(configuration.name, &figures));
        series.extend(figures);
    }
    let mut left = [false; SUMMARY_HEADER.len()];
    left[0] = true;
    Ok((series, align(&rows, &left)))
}

/// Adds the values of `more` to the series of `into` of the same name.
fn merge(into: &mut Vec<Series>, more: Vec<Series>) {
    for one in more {
        match into.iter_mut().find(|known| known.name == one.name) {
            Some(known) => known.values.extend(one.values),
            None => into.push(one),
        }
    }
}

/// An empty series.
fn named(name: &str, unit: &str) -> Series {
    Series {
        name: name.into(),
        unit: unit.into(),
        values: Vec::new(),
    }
}

fn configuration_figures(configuration: &Configuration, runs: u32) -> Result<Vec<Series>, String> {
    let name = configuration.name;
    let features = configuration.features.join(",");
    build(&["--example", "hosted_boot", "-p", "kernel"], &features)?;
    let boots = BOOTS.to_string();
    let mut series = Vec::new();
    for _ in 0..runs {
        merge(&mut series, example(name, &["boot", &boots])?);
    }
    series.extend(example(name, &["memory", &MEMORY_KERNELS.to_string()])?);
    if configuration.features == ["net", "lo0"] {
        series.extend(example(&format!("in 1 GiB, {name}"), &CAPACITY)?);
    }
    build(&["-p", "probe"], &features)?;
    series.extend(probe_spawns(name)?);
    Ok(series)
}

/// `cargo build --release ARGS` with exactly `features`.
fn build(args: &[&str], features: &str) -> Result<(), String> {
    let mut command = cargo(&["build", "--release", "--no-default-features"]);
    command.args(args);
    if !features.is_empty() {
        command.args(["--features", features]);
    }
    run(command)
}

/// Runs the example with `words`; its figures, named `PREFIX: metric`. Its
/// standard error (the kernels' logs) goes to a file.
fn example(prefix: &str, words: &[&str]) -> Result<Vec<Series>, String> {
    let binary = target_dir().join("release/examples/hosted_boot");
    let log_path = target_dir().join("bench-hosted-boot.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|error| format!("{}: {error}", log_path.display()))?;
    // coreutils' timeout ends it at the deadline (status 124).
    let mut command = Command::new("timeout");
    command.arg(DEADLINE.as_secs().to_string()).arg(&binary);
    command.args(words).stdin(Stdio::null()).stderr(log);
    let output = command
        .output()
        .map_err(|error| format!("{}: {error}", describe(&command)))?;
    if !output.status.success() {
        return Err(format!(
            "`{}` ended with {}; its log: {}",
            describe(&command),
            output.status,
            log_path.display()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut series: Vec<Series> = text
        .lines()
        .filter_map(bench_figure)
        .map(|figure| {
            let mut one = named(&format!("{prefix}: {}", figure.metric), &figure.unit);
            one.values.push(figure.value);
            one
        })
        .collect();
    if let Some(reason) = text
        .lines()
        .find_map(|line| line.strip_prefix("limited-by "))
    {
        eprintln!("xtask: {prefix}: stopped by {reason}");
        let kernels = series
            .iter()
            .find(|one| one.name.ends_with("capacity_kernels"));
        let mut stopped = named(&format!("{prefix}: stopped by {reason}"), "kernels");
        stopped.values = kernels.map(|one| one.values.clone()).unwrap_or_default();
        series.push(stopped);
    }
    Ok(series)
}

/// The probe spawned [`SPAWNS`] times: spawn to ready and to exit (ms),
/// and its own ready figure (host start to ready inside the process, us).
fn probe_spawns(name: &str) -> Result<[Series; 5], String> {
    let binary = target_dir().join("release/anykernel-probe");
    let floor = find_program("true").ok_or("no `true` program on PATH")?;
    let mut series = [
        named(&format!("{name}: probe spawn -> ready"), "ms"),
        named(&format!("{name}: probe spawn -> exit"), "ms"),
        named(&format!("{name}: probe's own ready in"), "us"),
        named(&format!("{name}: /bin/true spawn -> exit (paired)"), "ms"),
        named(
            &format!("{name}: probe spawn -> ready over /bin/true"),
            "ms",
        ),
    ];
    for _ in 0..SPAWNS {
        let (ready, exit) = spawn(&binary, Some(READY_MARKER))?;
        let (at, line) = ready.ok_or("the probe ended without a ready line")?;
        let own = ready_micros(&line).ok_or_else(|| format!("malformed line `{line}`"))?;
        // Right after, so that both meet the same load on the machine.
        let (_, floor_exit) = spawn(&floor, None)?;
        let values = [at, exit, own as f64, floor_exit, at - floor_exit];
        for (one, value) in series.iter_mut().zip(values) {
            one.values.push(value);
        }
    }
    Ok(series)
}

/// Spawns `program` and times (ms) its first standard-error line holding
/// `marker` (with the line) and its exit.
fn spawn(program: &Path, marker: Option<&str>) -> Result<(Option<(f64, String)>, f64), String> {
    let milliseconds = |since: Instant| since.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let mut child = Command::new(program)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{}: {error}", program.display()))?;
    let stderr = child.stderr.take().expect("standard error is piped");
    let marker = marker.map(String::from);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let lines = BufReader::new(stderr).lines().map_while(Result::ok);
        let mut found = lines.filter(|line| marker.as_ref().is_some_and(|m| line.contains(m)));
        let _ = sender.send(found.next().map(|line| (milliseconds(started), line)));
    });
    let Ok(ready) = receiver.recv_timeout(SPAWN_DEADLINE) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{} did not end in time", program.display()));
    };
    let status = child.wait().map_err(|error| error.to_string())?;
    let exit = milliseconds(started);
    match status.success() {
        true => Ok((ready, exit)),
        false => Err(format!("{} ended with {status}", program.display())),
    }
}

/// The summary's columns, medians: `boot` is `Kernel::boot` call to return
/// in a process that has booted before (p99 beside it; of it, the boot
/// thread's time on a CPU and waiting for one), `first boot` the same for
/// a process's first boot, `over true` spawn to ready less a `/bin/true` spawn to exit
/// run right after, `accounted` the kernel's `memory().stats().in_use`.
const SUMMARY_HEADER: [&str; 14] = [
    "configuration",
    "boot us",
    "p99",
    "on CPU",
    "waiting",
    "to socket",
    "log=off",
    "first boot us",
    "spawn->ready ms",
    "over true",
    "heap/kernel KiB",
    "RSS/kernel KiB",
    "threads",
    "accounted KiB",
];

/// One configuration's row of the summary: medians.
fn summary_row(name: &str, series: &[Series]) -> Vec<String> {
    let value = |metric: &str, scale: f64| {
        let wanted = format!("{name}: {metric}");
        let found = series.iter().find(|one| one.name == wanted);
        let mut values = found.map(|one| one.values.clone()).unwrap_or_default();
        values.sort_by(f64::total_cmp);
        median(&values).map_or("-".into(), |value| format_value(value / scale))
    };
    vec![
        name.to_string(),
        value("boot_median", 1.0),
        value("boot_p99", 1.0),
        value("boot_on_cpu_median", 1.0),
        value("boot_waiting_for_cpu_median", 1.0),
        value("boot_to_socket_median", 1.0),
        value("boot_quiet_median", 1.0),
        value("boot_first", 1.0),
        value("probe spawn -> ready", 1.0),
        value("probe spawn -> ready over /bin/true", 1.0),
        value("memory_heap", 1024.0),
        value("memory_resident", 1024.0),
        value("memory_threads", 1.0),
        value("memory_accounted", 1024.0),
    ]
}
