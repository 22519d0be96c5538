//! `cargo xtask bench --vs linux`: the appliance against a minimal Debian
//! Linux guest, side by side, as ratios ours / Linux against the goals.
//!
//! The Linux guest (guest.rs) is Debian's kernel with an initramfs serving
//! the appliance's services. For each machine (q35, microvm) and link (user
//! networking; a tap in a namespace of our own when we are root) the two
//! guests run back to back, in alternating order, `runs` times; then the
//! smallest memory each serves with is searched per machine. One table,
//! every raw value in `$TARGET/bench-vs-linux.json` and, with gnuplot, a
//! chart of the ratios in `bench-vs-linux.png`. Benchmarks report,
//! they do not assert: a failed run is reported and left out.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Accel, Machine};

use crate::args::VersusLinuxOptions;
use crate::bench::floor;
use crate::bench::target::{Family, TAP_GUEST, TAP_GUEST6, TAP_HOST6};
use crate::build::{build_images, finish_image, image_build};
use crate::command::{output, run};
use crate::paths::{KV, image_dir, target_dir};
use crate::setup::{Need, ensure};

mod chart;
pub(super) mod compare;
mod cpio;
mod disk;
pub(super) mod guest;
pub(super) mod initramfs;
pub(super) mod measure;
mod profile;
mod wrk;

use compare::{IMAGE_SIZE, NET_ONLY_IMAGE_SIZE, NETWORK_METRICS, QEMU_ALONE, Row, SMALLEST_MEMORY};
use measure::{GUEST_MAC, Guests, Kind, Link};

/// What the table's figures rest on, printed under it.
const NOTES: &str = "\
notes: same QEMU, -cpu qemu64,+rdrand, virtio-net (no vhost), -m 256M for both
guests; HTTP rates from wrk -t1 -c10 -d3 (keep-alive; new connection with
`Connection: close`, the client's namespace reusing TIME_WAIT ports with
net.ipv4.tcp_tw_reuse=1); new-connection rates over tap only, because QEMU's
user networking (slirp) listens with a backlog of one and accepts slowly; spawn ->
serving is QEMU's start to the first HTTP 200; smallest memory over user
networking; tap6 rows are the tap over IPv6 (both guests run DAD, so their
spawn -> serving includes it); Linux is Debian's kernel with busybox nc/dd
services and lighttpd. Over tap, ours runs with virtio_net.offload=all (the
default: checksums and TSO both ways) and again with offload=none for the
rows that say so, against the same Linux runs (Linux keeps its offloads).
User networking offers none. ext2 rows: a fresh 256 MiB image per run
(mke2fs -t ext2 -b 4096) on virtio-blk, no NIC; ours timed in the guest
through the vfs calls (selftest `storage`), Linux by its init script
(/proc/uptime, 10 ms steps); a 64 MiB file (--quick: 32) written with 1 MiB
writes and fsync, read back after the caches are dropped (ours: the disk's
cached blocks forgotten); 1,000 (--quick: 500) 4 KiB files made (Linux:
the shell's echo, no process per file), then one sync (ours: an fsync of
the directory, which syncs the volume). The net-only image is kv built by
itself (no vfs, block or ext2).
";
/// The bulk metrics (indices into `NETWORK_METRICS`) measured again over
/// tap with the offloads off.
const BULK_METRICS: [usize; 2] = [3, 4];

/// The `bench --profile` verb: the profile alone, on microvm, over a tap
/// as root (the bench's main link) and over user networking otherwise.
pub fn profile_verb() -> Result<(), String> {
    ensure(&[Need::Target, Need::Qemu, Need::Profiler])?;
    let images = build_images()?;
    let data = target_dir().join("bench-profile.perf.data");
    let (image, machine) = (&images.appliance, Machine::Microvm);
    let report = match missing_privilege(&[]) {
        None => {
            let namespace = Namespace::new("profile");
            let link = Link::Tap(&namespace, Family::V4);
            profile::profile(image, Accel::Tcg, machine, &link, &data)?
        }
        Some(reason) => {
            eprintln!("xtask: over user networking ({reason})");
            profile::profile(image, Accel::Tcg, machine, &Link::User, &data)?
        }
    };
    print!("{report}");
    Ok(())
}

/// The `bench --vs linux` verb.
pub fn versus_linux_verb(options: &VersusLinuxOptions) -> Result<(), String> {
    let started = Instant::now();
    ensure(&[
        Need::Target,
        Need::Qemu,
        Need::NetTools,
        Need::LinuxBaseline,
        Need::FsTools,
        Need::Chart,
    ])?;
    let images = build_images()?;
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let guests = Guests {
        anykernel: images.appliance,
        linux: guest::linux_guest(initramfs::Services::Web)?,
        accel: options.accel,
        tsc_khz: measure::tsc_khz(&cpuinfo),
        anykernel_params: Vec::new(),
    };
    let machines: &[Machine] = match options.quick {
        true => &[Machine::Microvm],
        false => &[Machine::Q35, Machine::Microvm],
    };
    let mut rows = match options.disk {
        true => Vec::new(),
        false => network_and_memory_rows(&guests, machines, options.runs)?,
    };
    let storage = guest::linux_guest(initramfs::Services::Storage)?;
    let workload = disk::Workload::new(options.quick);
    let selftest = &images.selftest;
    let runs = options.runs;
    rows.extend(disk::disk_rows(
        &guests, &storage, selftest, machines, workload, runs,
    ));
    rows.extend(image_rows(&guests, &net_only_image()?)?);
    print!("{}", compare::table(&rows));
    print!("{NOTES}");
    let accel = options.accel.name();
    let json_path = target_dir().join("bench-vs-linux.json");
    fs::write(&json_path, compare::json(options.runs, accel, &rows))
        .map_err(|error| format!("cannot write {}: {error}", json_path.display()))?;
    chart::draw(&rows, &json_path.with_extension("png"));
    if options.profile {
        ensure(&[Need::Profiler])?;
        let data = target_dir().join("bench-vs-linux.perf.data");
        let machine = machines.last().copied().unwrap_or(Machine::Microvm);
        let profiled = profile::profile(
            &guests.anykernel,
            options.accel,
            machine,
            &Link::User,
            &data,
        );
        match profiled {
            Ok(report) => print!("{report}"),
            Err(error) => eprintln!("xtask: no profile: {error}"),
        }
    }
    eprintln!(
        "xtask: raw figures in {}; {} runs took {:.0} s",
        json_path.display(),
        options.runs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The namespace with `tap0`, an IPv6 address beside its IPv4 one, and
/// fixed neighbour entries for the guest's two addresses (an ARP or ND
/// retry would otherwise add up to a second to a first connect); `None`,
/// with the reason said, when we may not make one.
pub(super) fn tap_namespace() -> Result<Option<Namespace>, String> {
    if let Some(reason) = missing_privilege(&[]) {
        eprintln!("xtask: tap measurements skipped: {reason}");
        return Ok(None);
    }
    let namespace = Namespace::new("vslinux");
    let host6 = format!("{TAP_HOST6}/64");
    let mut address = namespace.command("ip");
    address.args(["-6", "addr", "add", &host6, "dev", "tap0", "nodad"]);
    output(address)?;
    let [a, b, c, d, e, f] = GUEST_MAC;
    let mac = format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}");
    for guest in [TAP_GUEST.to_string(), TAP_GUEST6.to_string()] {
        let mut neighbour = namespace.command("ip");
        let words = ["neigh", "replace", &guest, "lladdr", &mac];
        neighbour
            .args(words)
            .args(["dev", "tap0", "nud", "permanent"]);
        output(neighbour)?;
    }
    // wrk's closed connections wait in TIME_WAIT on the client's ports for
    // a minute; after one run at 5,000 connections a second, the next run
    // (either guest's) crawled at 300/s looking for ports. Reusing them
    // (safe with TCP timestamps, which both guests send) keeps each run
    // its own.
    let mut reuse = namespace.command("sysctl");
    reuse.args(["-q", "-w", "net.ipv4.tcp_tw_reuse=1"]);
    output(reuse)?;
    Ok(Some(namespace))
}

/// The network rows over user networking and (as root) the taps, then the
/// smallest memory per machine.
fn network_and_memory_rows(
    guests: &Guests,
    machines: &[Machine],
    runs: u32,
) -> Result<Vec<Row>, String> {
    let namespace = tap_namespace()?;
    let mut links = vec![Link::User];
    for family in [Family::V4, Family::V6] {
        links.extend(namespace.as_ref().map(|ns| Link::Tap(ns, family)));
    }
    let mut rows = network_rows(guests, machines, &links, runs);
    for &machine in machines {
        rows.extend(qemu_alone_row(&rows, machine, runs));
        rows.push(memory_row(guests, machine));
    }
    Ok(rows)
}

/// QEMU's start with an empty guest against Linux's spawn -> serving on
/// `machine` (over the tap when there is one): the floor of that ratio.
fn qemu_alone_row(rows: &[Row], machine: Machine, runs: u32) -> Option<Row> {
    let linux = ["tap", "user"].iter().find_map(|link| {
        let name = format!("{machine} {link} {}", NETWORK_METRICS[0].name);
        rows.iter()
            .find(|row| row.name == name && !row.linux.is_empty())
    })?;
    let mut row = Row::new(format!("{machine} {}", QEMU_ALONE.name), QEMU_ALONE);
    row.linux = linux.linux.clone();
    row.ours = floor::figures(&[machine], runs).pop()?.values;
    Some(row)
}

/// `runs` rounds over every machine and link (the tap twice: IPv4, then
/// IPv6 as `tap6`), the guests back to back.
fn network_rows(guests: &Guests, machines: &[Machine], links: &[Link], runs: u32) -> Vec<Row> {
    let mut rows = Vec::new();
    for &machine in machines {
        for link in links {
            let mut group = group_rows(machine, link);
            let mut offload_off =
                matches!(link, Link::Tap(..)).then(|| offload_off_rows(machine, link));
            for run in 1..=runs {
                // Alternate who goes first, so neither always gets a cold host.
                let order = match run % 2 {
                    1 => [Kind::Anykernel, Kind::Linux],
                    _ => [Kind::Linux, Kind::Anykernel],
                };
                for kind in order {
                    run_once(guests, kind, machine, link, &mut group, run);
                }
                if let Some(rows) = offload_off.as_mut() {
                    run_offload_off(guests, machine, link, rows, run);
                }
            }
            if let Some(mut extra) = offload_off {
                for (row, index) in extra.iter_mut().zip(BULK_METRICS) {
                    row.linux = group[index].linux.clone();
                }
                group.extend(extra);
            }
            rows.extend(group);
        }
    }
    rows
}

/// The rows of one machine and link: new connections on taps only.
fn group_rows(machine: Machine, link: &Link) -> Vec<Row> {
    let on_tap = matches!(link, Link::Tap(..));
    let metrics = NETWORK_METRICS.iter().take(if on_tap { 7 } else { 6 });
    let link_name = link.name();
    metrics
        .map(|metric| Row::new(format!("{machine} {link_name} {}", metric.name), *metric))
        .collect()
}

/// The bulk rows of ours with `virtio_net.offload=none`.
fn offload_off_rows(machine: Machine, link: &Link) -> Vec<Row> {
    let link_name = link.name();
    BULK_METRICS
        .iter()
        .map(|&index| {
            let metric = NETWORK_METRICS[index];
            let name = format!("{machine} {link_name} {}, offload=none", metric.name);
            Row::new(name, metric)
        })
        .collect()
}

/// One run of ours with the offloads off; its bulk figures go to `rows`.
fn run_offload_off(guests: &Guests, machine: Machine, link: &Link, rows: &mut [Row], run: u32) {
    let mut without = guests.clone();
    without
        .anykernel_params
        .push("virtio_net.offload=none".into());
    let what = format!(
        "anykernel (offload=none) on {machine} over {}, run {run}",
        link.name()
    );
    match measure::measure(&without, Kind::Anykernel, machine, link) {
        Ok(values) => {
            eprintln!("xtask: {what}: {}", describe(&values));
            for (row, index) in rows.iter_mut().zip(BULK_METRICS) {
                row.ours.extend(values[index]);
            }
        }
        Err(error) => eprintln!("xtask: {what} left out: {error}"),
    }
}

fn run_once(
    guests: &Guests,
    kind: Kind,
    machine: Machine,
    link: &Link,
    rows: &mut [Row],
    run: u32,
) {
    let what = format!(
        "{} on {machine} over {}, run {run}",
        kind.name(),
        link.name()
    );
    match measure::measure(guests, kind, machine, link) {
        Ok(values) => {
            eprintln!("xtask: {what}: {}", describe(&values));
            for (row, value) in rows.iter_mut().zip(values) {
                let column = match kind {
                    Kind::Anykernel => &mut row.ours,
                    Kind::Linux => &mut row.linux,
                };
                column.extend(value);
            }
        }
        Err(error) => eprintln!("xtask: {what} left out: {error}"),
    }
}

/// One run's figures, for the progress line.
fn describe(values: &[Option<f64>; 7]) -> String {
    let parts = NETWORK_METRICS
        .iter()
        .zip(values)
        .filter_map(|(metric, value)| {
            value.map(|value| format!("{} {value:.0} {}", metric.name, metric.unit))
        });
    parts.collect::<Vec<_>>().join(", ")
}

fn memory_row(guests: &Guests, machine: Machine) -> Row {
    let mut row = Row::new(
        format!("{machine} {}", SMALLEST_MEMORY.name),
        SMALLEST_MEMORY,
    );
    row.ours
        .extend(measure::smallest_memory(guests, Kind::Anykernel, machine));
    row.linux
        .extend(measure::smallest_memory(guests, Kind::Linux, machine));
    row
}

/// The kv appliance built by itself: built with the others (`build_images`)
/// its kernel gets their features too (cargo unifies them), so only this
/// build is the net-only image (no vfs, block or ext2).
fn net_only_image() -> Result<PathBuf, String> {
    run(image_build(&["-p", "kv", "--bins"]))?;
    let directory = target_dir().join("net-only");
    fs::create_dir_all(&directory).map_err(|error| format!("{}: {error}", directory.display()))?;
    let copy = directory.join(KV);
    fs::copy(image_dir().join(KV), &copy)
        .map_err(|error| format!("{}: {error}", copy.display()))?;
    finish_image(&copy)?;
    Ok(copy)
}

/// The appliance's image (with vfs, block and ext2) against Linux's, and
/// the net-only appliance's (kv) alone.
fn image_rows(guests: &Guests, net_only: &Path) -> Result<[Row; 2], String> {
    let bytes = |path: &Path| {
        fs::metadata(path)
            .map(|metadata| metadata.len() as f64)
            .map_err(|error| format!("{}: {error}", path.display()))
    };
    let name = format!("{}, with vfs+ext2 (appliance)", IMAGE_SIZE.name);
    let mut row = Row::new(name, IMAGE_SIZE);
    row.ours.push(bytes(&guests.anykernel)?);
    row.linux.push(guests.linux.image_bytes()? as f64);
    let mut net_only_row = Row::new(NET_ONLY_IMAGE_SIZE.name.into(), NET_ONLY_IMAGE_SIZE);
    net_only_row.ours.push(bytes(net_only)?);
    Ok([row, net_only_row])
}
