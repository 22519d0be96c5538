//! `cargo xtask bench --hosted`: network, bootstrap and memory figures of
//! hosted kernels.
//!
//! Runs `kernel/examples/hosted_bench.rs` (release) N times: two kernels
//! on a shared-memory bus, and, as root, Linux's TCP against a hosted
//! kernel over a tap in a namespace of its own; forwarding through chains
//! of hosted routers on buses (`kernel/examples/hosted_forward.rs`: boot
//! to the first round trip through 32 routers, per-hop latency, TCP
//! through 1 and 32 routers); and remote system calls
//! through the client library against local ones
//! (`kernel/sysproxy/client/examples/sysproxy_bench.rs`). Then, once, each hosted
//! configuration's bootstrap time and memory per kernel, and how many
//! kernels fit in 1 GiB (bootstrap.rs). All figures become one table and
//! `target/bench-hosted.json`; a summary per configuration follows.

use std::collections::BTreeMap;
use std::fs;
use std::process::Stdio;

use super::{bootstrap, collect_figures, report};
use crate::command::{cargo, describe, run};
use crate::paths::target_dir;

/// The `bench --hosted` verb.
pub fn hosted_bench_verb(runs: u32) -> Result<(), String> {
    run(cargo(&[
        "build",
        "--release",
        "-p",
        "kernel",
        "--example",
        "hosted_bench",
        "--example",
        "hosted_forward",
    ]))?;
    run(cargo(&[
        "build",
        "--release",
        "-p",
        "anykernel-client",
        "--example",
        "sysproxy_bench",
    ]))?;
    let binaries = ["hosted_bench", "hosted_forward", "sysproxy_bench"]
        .map(|name| target_dir().join("release/examples").join(name));
    let mut figures = BTreeMap::new();
    for number in 1..=runs {
        for binary in &binaries {
            run_once(binary, number, &mut figures)?;
        }
    }
    let mut series: Vec<_> = figures.into_values().collect();
    let (bootstrap, summary) = bootstrap::figures(runs)?;
    series.extend(bootstrap);
    print!("{}", report::table(&series));
    print!("\nmedians per hosted configuration:\n{summary}");
    let json_path = target_dir().join("bench-hosted.json");
    fs::write(&json_path, report::json(runs, &series))
        .map_err(|error| format!("cannot write {}: {error}", json_path.display()))?;
    eprintln!("xtask: raw figures in {}", json_path.display());
    Ok(())
}

/// Runs one bench program once and adds its figures.
fn run_once(
    binary: &std::path::Path,
    number: u32,
    figures: &mut BTreeMap<String, super::Series>,
) -> Result<(), String> {
    let mut command = std::process::Command::new(binary);
    command.stderr(Stdio::inherit());
    let output = command
        .output()
        .map_err(|error| format!("{}: {error}", describe(&command)))?;
    if !output.status.success() {
        eprintln!(
            "xtask: {} run {number} left out: {}",
            binary.display(),
            output.status
        );
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    collect_figures(figures, text.lines());
    Ok(())
}
