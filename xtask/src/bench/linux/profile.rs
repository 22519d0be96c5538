//! `--profile`: where QEMU spends its time while the appliance moves bulk
//! data, so that the next step is a fact. Debian's `perf` samples the QEMU
//! process (cpu-clock, all threads) during target.rs's bulk test; the
//! report splits the samples by thread (`main-loop` is QEMU's I/O thread:
//! virtio-net backend, slirp; the other, the vCPU) and object (`[JIT]` is
//! the code TCG generated from the guest, `[kernel.kallsyms]` the host
//! kernel: sockets, wake-ups), then lists the top symbols. Debian's QEMU
//! is stripped, so many of its own samples show as addresses.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use qemu_tests::{Machine, Qemu};

use super::measure::{Guests, Kind, Link, MEMORY_MIB};
use crate::bench::target::{Target, bulk, first_answer};
use crate::command::{describe, output};

/// Report lines kept per view.
const TOP: usize = 12;

/// Boots the appliance on `machine` over user networking, profiles QEMU
/// through one bulk test, and returns the report.
pub fn profile(guests: &Guests, machine: Machine, data: &Path) -> Result<String, String> {
    let (config, target) = guests.config(Kind::Anykernel, machine, &Link::User, MEMORY_MIB);
    let qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    first_answer(&target, qemu.spawned_at(), Duration::from_secs(60))?;
    let pid = qemu_pid(&target)?;
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
    let figures = bulk(&target);
    // perf writes its file on SIGINT; it is our child, ended by its id.
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let _ = perf.wait();
    drop(qemu);
    let (up, down) = figures?;
    let mut report = format!(
        "profile of QEMU (appliance, {machine}, user networking) during bulk: \
         host -> guest {up:.0} MiB/s, guest -> host {down:.0} MiB/s\n"
    );
    for sort in ["pid,dso", "dso,symbol"] {
        let main_thread = format!("{pid}:qemu-system-x86");
        report.push_str(&perf_report(data, sort)?.replace(&main_thread, "main-loop"));
    }
    Ok(report)
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

/// The QEMU process serving `target`'s forwards, found by its unique
/// `hostfwd=` in /proc/*/cmdline.
fn qemu_pid(target: &Target) -> Result<u32, String> {
    let forward = format!("hostfwd=tcp:127.0.0.1:{}-:80", target.http);
    let entries = fs::read_dir("/proc").map_err(|error| format!("/proc: {error}"))?;
    let processes = entries.filter_map(Result::ok).filter_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let command_line = fs::read(entry.path().join("cmdline")).ok()?;
        Some((pid, command_line))
    });
    find_process(processes, &forward).ok_or_else(|| format!("no QEMU process with `{forward}`"))
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
