//! `--profile`: where the time goes while the appliance moves bulk data
//! and answers echoes, so that the next step is a fact.
//!
//! Two views of one boot over user networking:
//! - the host's: Debian's `perf` samples the QEMU process (cpu-clock, all
//!   threads) during target.rs's bulk test; the report splits the samples
//!   by thread (`main-loop` is QEMU's I/O thread: virtio-net backend,
//!   slirp; the other, the vCPU) and object (`[JIT]` is the code TCG
//!   generated from the guest, `[kernel.kallsyms]` the host kernel:
//!   sockets, wake-ups), then lists the top symbols. Debian's QEMU is
//!   stripped, so many of its own samples show as addresses.
//! - the guest's: `sampler.rs` samples the guest's stack through QEMU's gdb
//!   stub during bulk each way (and 100 streams into the guest) and during
//!   echo round trips, and
//!   `guest_profile.rs` names the functions from `<image>.debug`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use qemu_tests::locations::debug_file;
use qemu_tests::{Accel, Machine, Qemu, QemuConfig};

use super::measure::{Kind, Link, MEMORY_MIB, on_link};
use crate::bench::guest_profile::{self, Symbolizer};
use crate::bench::sampler::{Sampler, Stack};
use crate::bench::scaling::parallel_upload;
use crate::bench::target::{Target, bulk, download, first_answer, round_trips, upload};
use crate::command::{describe, output};

/// Report lines kept per view.
const TOP: usize = 12;
/// Time between guest samples.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(1);

/// One profiled client workload.
type Phase = fn(&Target) -> Result<(), String>;

/// Boots `image` on `machine` on `link`, profiles QEMU (perf) and the
/// guest (its gdb stub), and returns the report. `data` is perf's file;
/// the stub's socket goes beside it.
pub fn profile(
    image: &Path,
    accel: Accel,
    machine: Machine,
    link: &Link,
    data: &Path,
) -> Result<String, String> {
    let socket = data.with_extension("gdb.sock");
    let _ = fs::remove_file(&socket);
    let stub = format!("unix:{},server=on,wait=off", socket.display());
    let config = QemuConfig::kernel(image)
        .machine(machine)
        .accel(accel)
        .memory_mib(MEMORY_MIB)
        .args(["-gdb", stub.as_str()]);
    let (config, target) = on_link(config, Kind::Anykernel, link);
    let qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    let spawned_at = qemu.spawned_at();
    let within = Duration::from_secs(60);
    join(spawn_on(link, move || {
        first_answer(&target, spawned_at, within).map(drop)
    }))?;
    let heading = format!("appliance, {machine}, {} networking", link.name());
    let mut report = host_profile(link, target, qemu_pid(&stub)?, data, &heading)?;
    let symbolizer = Symbolizer::from_file(&debug_file(image))?;
    let mut sampler = Sampler::connect(&socket)?;
    let phases: [(&str, Phase); 4] = [
        ("bulk host -> guest", |target| upload(target).map(drop)),
        ("bulk host -> guest, 100 streams", |target| {
            parallel_upload(target, 100).map(drop)
        }),
        ("bulk guest -> host", |target| download(target).map(drop)),
        ("64-byte echoes", |target| round_trips(target).map(drop)),
    ];
    for (title, phase) in phases {
        let samples = sample_during(&mut sampler, spawn_on(link, move || phase(&target)))?;
        report.push_str(&guest_profile::report(title, &samples, &symbolizer));
    }
    drop(qemu);
    let _ = fs::remove_file(&socket);
    Ok(report)
}

/// perf on QEMU (process `pid`) during one bulk test.
fn host_profile(
    link: &Link,
    target: Target,
    pid: u32,
    data: &Path,
    heading: &str,
) -> Result<String, String> {
    let mut record = Command::new("perf");
    let pid_text = pid.to_string();
    record.args([
        "record",
        "-e",
        "cpu-clock",
        "-F",
        "999",
        "-p",
        &pid_text,
        "-o",
    ]);
    record.arg(data).stdout(Stdio::null()).stderr(Stdio::null());
    let mut perf = record
        .spawn()
        .map_err(|error| format!("{}: {error}", describe(&record)))?;
    let figures = join(spawn_on(link, move || bulk(&target)));
    // perf writes its file on SIGINT; it is our child, ended by its id.
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let _ = perf.wait();
    let (up, down) = figures?;
    let mut report = format!(
        "profile of QEMU ({heading}) during bulk: \
         host -> guest {up:.0} MiB/s, guest -> host {down:.0} MiB/s\n"
    );
    for sort in ["pid,dso", "dso,symbol"] {
        let main_thread = format!("{pid}:qemu-system-x86");
        report.push_str(&perf_report(data, sort)?.replace(&main_thread, "main-loop"));
    }
    Ok(report)
}

/// Starts `work` where `link`'s clients run: here, or inside the tap's
/// namespace.
fn spawn_on<R: Send + 'static>(
    link: &Link,
    work: impl FnOnce() -> R + Send + 'static,
) -> JoinHandle<R> {
    match link {
        Link::User => std::thread::spawn(work),
        Link::Tap(namespace, _) => namespace.spawn_inside(work),
    }
}

/// The result of a client thread (its error, or that it panicked).
fn join<R>(work: JoinHandle<Result<R, String>>) -> Result<R, String> {
    work.join()
        .map_err(|_| "a profiled client panicked".to_string())?
}

/// Guest samples until `work` ends; its error if it failed.
fn sample_during(
    sampler: &mut Sampler,
    work: JoinHandle<Result<(), String>>,
) -> Result<Vec<Stack>, String> {
    let samples = sampler.sample_until(|| work.is_finished(), SAMPLE_INTERVAL);
    join(work)?;
    samples
}

/// `perf report` of `data` sorted by `sort`: its first [`TOP`] lines.
fn perf_report(data: &Path, sort: &str) -> Result<String, String> {
    let mut command = Command::new("perf");
    command.args([
        "report",
        "--stdio",
        "--no-children",
        "--percent-limit",
        "1",
        "--sort",
        sort,
    ]);
    command.arg("-i").arg(data);
    let result = output(command)?;
    let text = String::from_utf8_lossy(&result.stdout);
    Ok(format!("by {sort}:\n{}", top_lines(&text, TOP)))
}

/// The first `count` sample lines of a `perf report --stdio`, without
/// comments and perf's trailing `-` columns.
pub fn top_lines(report: &str, count: usize) -> String {
    let lines = report
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.trim_end_matches([' ', '-']))
        .take(count);
    lines.map(|line| format!("{line}\n")).collect()
}

/// The QEMU process whose command line names `needle` (its gdb stub's
/// socket, unique to it), from /proc/*/cmdline.
fn qemu_pid(needle: &str) -> Result<u32, String> {
    let entries = fs::read_dir("/proc").map_err(|error| format!("/proc: {error}"))?;
    let processes = entries.filter_map(Result::ok).filter_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let command_line = fs::read(entry.path().join("cmdline")).ok()?;
        Some((pid, command_line))
    });
    find_process(processes, needle).ok_or_else(|| format!("no QEMU process with `{needle}`"))
}

/// The first process whose NUL-separated command line has an argument
/// containing `needle`.
pub fn find_process(processes: impl Iterator<Item = (u32, Vec<u8>)>, needle: &str) -> Option<u32> {
    processes
        .filter(|(_, line)| {
            line.split(|byte| *byte == 0)
                .any(|argument| String::from_utf8_lossy(argument).contains(needle))
        })
        .map(|(pid, _)| pid)
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_is_found_by_its_forward() {
        let processes = [
            (10, b"bash\0-c\0sleep 1\0".to_vec()),
            (
                42,
                b"qemu-system-x86_64\0-netdev\0user,id=n0,hostfwd=tcp:127.0.0.1:4000-:80\0"
                    .to_vec(),
            ),
        ];
        let found = find_process(
            processes.clone().into_iter(),
            "hostfwd=tcp:127.0.0.1:4000-:80",
        );
        assert_eq!(found, Some(42));
        assert_eq!(
            find_process(processes.into_iter(), "hostfwd=tcp:127.0.0.1:4001-:80"),
            None
        );
    }

    #[test]
    fn report_lines_lose_comments_and_trailing_columns() {
        let report = "# Samples: 1K\n#\n    38.13%  [JIT] tid 3689   \n\n\
            \x20    5.25%  [kernel.kallsyms]  [k] finish_task_switch   -      -   \n\
            \x20    1.00%  libc.so.6  [.] memmove\n";
        assert_eq!(
            top_lines(report, 2),
            "    38.13%  [JIT] tid 3689\n     5.25%  [kernel.kallsyms]  [k] finish_task_switch\n"
        );
    }
}
