//! The storage rows of `bench --vs linux`: sequential write and read MiB/s
//! and small-file creates per second on ext2 over virtio-blk, ours against
//! the Linux guest.
//!
//! Each run gives each guest a fresh image made by Linux's `mke2fs` (the
//! qemu-tests helper: ext2, 4 KiB blocks, [`IMAGE_MIB`] MiB) on the same
//! machine, accelerator, CPU and memory, with no NIC. Ours is the selftest
//! image's `test=storage` (app/src/selftest/storage.rs), timed in the guest
//! through the vfs calls; Linux runs the same steps from its init script
//! (initramfs.rs's `STORAGE_SCRIPT`: busybox `dd` and a shell loop). Both
//! print `bench disk_* N unit` lines; the rates are worked out here. After
//! each run `e2fsck -fn` must find the image clean, else the run is left
//! out. Every boot has a deadline ([`DEADLINE`]), so the rows take a
//! bounded time.

use std::path::Path;
use std::time::Duration;

use qemu_tests::protocol::bench_figure;
use qemu_tests::{Disk, Ext2Image, Machine, Qemu, QemuConfig, Verdict};

use super::compare::{DISK_METRICS, Row};
use super::guest::LinuxGuest;
use super::measure::{Guests, Kind, MEMORY_MIB, linux_params};

/// The image each run gets.
const IMAGE_MIB: u64 = 256;
/// How long one guest may take to boot, run the steps and end.
const DEADLINE: Duration = Duration::from_secs(180);

/// What both guests are told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The sequential file's size.
    pub mib: u64,
    /// How many 4 KiB files.
    pub files: u64,
}

impl Workload {
    /// The full workload, or a smaller one for `--quick`.
    pub fn new(quick: bool) -> Workload {
        match quick {
            true => Workload {
                mib: 32,
                files: 500,
            },
            false => Workload {
                mib: 64,
                files: 1000,
            },
        }
    }
}

/// The storage rows of `machines`, `runs` rounds, the guests alternating.
pub fn disk_rows(
    guests: &Guests,
    storage: &LinuxGuest,
    selftest: &Path,
    machines: &[Machine],
    workload: Workload,
    runs: u32,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for &machine in machines {
        let mut group: Vec<Row> = DISK_METRICS
            .iter()
            .map(|metric| Row::new(format!("{machine} ext2 {}", metric.name), *metric))
            .collect();
        for run in 1..=runs {
            let order = match run % 2 {
                1 => [Kind::Anykernel, Kind::Linux],
                _ => [Kind::Linux, Kind::Anykernel],
            };
            for kind in order {
                let what = format!("{} disk on {machine}, run {run}", kind.name());
                let config = match kind {
                    Kind::Anykernel => ours(guests, selftest, machine, workload),
                    Kind::Linux => linux(guests, storage, machine, workload),
                };
                match measure(config, kind, &what) {
                    Ok(rates) => {
                        eprintln!("xtask: {what}: {}", describe(&rates));
                        for (row, rate) in group.iter_mut().zip(rates) {
                            match kind {
                                Kind::Anykernel => row.ours.push(rate),
                                Kind::Linux => row.linux.push(rate),
                            }
                        }
                    }
                    Err(error) => eprintln!("xtask: {what} left out: {error}"),
                }
            }
        }
        rows.extend(group);
    }
    rows
}

/// The selftest image running `test=storage`.
fn ours(guests: &Guests, selftest: &Path, machine: Machine, workload: Workload) -> QemuConfig {
    QemuConfig::kernel(selftest)
        .machine(machine)
        .accel(guests.accel)
        .memory_mib(MEMORY_MIB)
        .param("test=storage")
        .param(format!("storage.mib={}", workload.mib))
        .param(format!("storage.files={}", workload.files))
}

/// Debian's kernel with the storage initramfs.
fn linux(
    guests: &Guests,
    storage: &LinuxGuest,
    machine: Machine,
    workload: Workload,
) -> QemuConfig {
    QemuConfig::kernel(&storage.kernel)
        .args([
            std::ffi::OsString::from("-initrd"),
            storage.initramfs.clone().into(),
        ])
        .params(linux_params(machine, guests.tsc_khz))
        .param(format!("storage_mib={}", workload.mib))
        .param(format!("storage_files={}", workload.files))
        .machine(machine)
        .accel(guests.accel)
        .memory_mib(MEMORY_MIB)
}

/// One guest on a fresh image: [write MiB/s, read MiB/s, creates/s].
fn measure(config: QemuConfig, kind: Kind, what: &str) -> Result<[f64; 3], String> {
    let tag = format!("bench-{}-{}", kind.name(), std::process::id());
    let image = Ext2Image::new(&tag, IMAGE_MIB, None);
    let config = config.disk(Disk::new(&image.path));
    let mut qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    let lines = match kind {
        Kind::Anykernel => {
            let outcome = qemu.wait_for_exit(DEADLINE);
            if outcome.verdict != Verdict::Passed {
                let last = outcome.lines.iter().rev().take(4).map(|l| l.text.clone());
                let last: Vec<String> = last.collect();
                return Err(format!("ended with `{}`: {last:?}", outcome.verdict));
            }
            outcome.lines
        }
        Kind::Linux => {
            // The script's last figure comes after its unmount.
            let done = qemu.wait_for_line("bench disk_small_us", DEADLINE);
            let outcome = qemu.stop();
            done.map_err(|error| format!("{what}: {error}"))?;
            outcome.lines
        }
    };
    let texts: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
    let (clean, report) = image.check();
    if !clean {
        return Err(format!("e2fsck -fn finds the image unclean: {report}"));
    }
    rates(&texts)
}

/// The rates from a guest's `bench disk_*` lines.
pub fn rates(lines: &[&str]) -> Result<[f64; 3], String> {
    let figure = |name: &str| {
        lines
            .iter()
            .filter_map(|line| bench_figure(line))
            .find(|figure| figure.metric == name)
            .map(|figure| figure.value)
            .ok_or_else(|| format!("no `bench {name}` line"))
    };
    let mib = figure("disk_bytes")? / (1024.0 * 1024.0);
    let files = figure("disk_files")?;
    let per_second = |amount: f64, name: &str| -> Result<f64, String> {
        let seconds = figure(name)? / 1e6;
        match seconds > 0.0 {
            true => Ok(amount / seconds),
            false => Err(format!("`{name}` is not a time")),
        }
    };
    Ok([
        per_second(mib, "disk_write_us")?,
        per_second(mib, "disk_read_us")?,
        per_second(files, "disk_small_us")?,
    ])
}

/// One run's rates, for the progress line.
fn describe(rates: &[f64; 3]) -> String {
    let parts = DISK_METRICS
        .iter()
        .zip(rates)
        .map(|(metric, rate)| format!("{} {rate:.1} {}", metric.name, metric.unit));
    parts.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_the_figures() {
        let lines = [
            "selftest storage: write: 2000000 us, 1 flushes",
            "bench disk_bytes 67108864 bytes",
            "bench disk_files 1000 files",
            "bench disk_write_us 2000000 us",
            "bench disk_read_us 500000 us",
            "bench disk_small_us 250000 us",
        ];
        assert_eq!(rates(&lines), Ok([32.0, 128.0, 4000.0]));
        let error = rates(&lines[..5]).expect_err("no small files");
        assert!(error.contains("disk_small_us"), "{error}");
        let zero = ["bench disk_bytes 1 bytes", "bench disk_files 1 files"];
        let zero = [&zero[..], &["bench disk_write_us 0 us"]].concat();
        assert!(rates(&zero).is_err());
    }

    #[test]
    fn quick_is_smaller() {
        let (quick, full) = (Workload::new(true), Workload::new(false));
        assert!(quick.mib < full.mib && quick.files < full.files);
    }
}
