//! The load generator: Debian's `memcaslap` (libmemcached-tools' memaslap;
//! Debian has no memtier-benchmark), run the same way against both guests.
//!
//! Its configuration file (`-F`) sets 32-byte keys, values of 100 to 1,024
//! bytes and the set:get mix. Each of [`CONNECTIONS`] connections keeps a
//! window of its last `-w` keys and gets only keys it has set, so a get
//! misses only when the server dropped the item. memaslap exits 0 even
//! when the server vanishes in the middle and waits forever on one that
//! stops answering, so watched.rs runs it watching the server's counters.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Connections, all on one thread: QEMU, memaslap and the guest share
/// two cores.
pub const CONNECTIONS: u64 = 4;
/// Every key's length.
pub const KEY_BYTES: u64 = 32;
/// The smallest and largest value, chosen uniformly between them.
pub const VALUE_BYTES: (u64, u64) = (100, 1024);

/// How long a load runs: for a time, or for a number of operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    Seconds(u64),
    Operations(u64),
}

/// One load: the share of sets (the rest are gets), the keys each
/// connection keeps in thousands (memaslap takes no other unit), and its
/// length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Load {
    pub set_share: f64,
    pub window_thousands: u64,
    pub length: Length,
}

/// What memaslap reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    pub operations: u64,
    pub per_second: f64,
    /// The mean latency over every operation, in µs (timed loads only).
    pub average_us: Option<f64>,
    pub get_misses: u64,
}

/// The `-F` file for a load with `set_share` sets.
pub fn configuration(set_share: f64) -> String {
    let (low, high) = VALUE_BYTES;
    let mut text = format!("key\n{KEY_BYTES} {KEY_BYTES} 1\nvalue\n{low} {high} 1\ncmd\n");
    text.push_str(&format!("0 {set_share}\n"));
    let get_share = 1.0 - set_share;
    if get_share > 0.0 {
        text.push_str(&format!("1 {get_share:.2}\n"));
    }
    text
}

/// memaslap's arguments for `load` against `server` (`address:port`).
pub fn arguments(server: &str, configuration: &Path, load: &Load) -> Vec<String> {
    let mut words = vec![
        format!("--servers={server}"),
        format!("--cfg_cmd={}", configuration.display()),
        "--threads=1".into(),
        format!("--concurrency={CONNECTIONS}"),
        format!("--win_size={}k", load.window_thousands),
    ];
    match load.length {
        // Statistics once, at the end: they carry the latencies.
        Length::Seconds(seconds) => words.extend([
            format!("--time={seconds}s"),
            format!("--stat_freq={seconds}s"),
        ]),
        Length::Operations(count) => words.push(format!("--execute_number={count}")),
    }
    words
}

/// The `-F` file for `load`, written to a temporary folder.
pub fn write_configuration(load: &Load) -> Result<PathBuf, String> {
    let name = format!(
        "xtask-memaslap-{}-{}.cfg",
        std::process::id(),
        load.set_share
    );
    let file = std::env::temp_dir().join(name);
    std::fs::write(&file, configuration(load.set_share))
        .map_err(|error| format!("{}: {error}", file.display()))?;
    Ok(file)
}

/// memaslap for `load` against `server`, killed by `timeout` after
/// `deadline`.
pub fn command(server: &str, configuration: &Path, load: &Load, deadline: Duration) -> Command {
    let mut command = Command::new("timeout");
    let seconds = deadline.as_secs().to_string();
    command
        .args(["--kill-after=5", &seconds, "memcaslap"])
        .args(arguments(server, configuration, load));
    command
}

/// The figures of memaslap's report: `Run time: 3.0s Ops: 91629 TPS:
/// 30541 ...`, `get_misses: 0` and, for timed loads, the `Avg:` of its
/// final `Total Statistics (N events)` block.
pub fn parse(report: &str) -> Result<Report, String> {
    let summary = report
        .lines()
        .rev()
        .find(|line| line.starts_with("Run time:"))
        .ok_or_else(|| format!("memaslap printed no summary: {}", tail(report)))?;
    let after = |word: &str| {
        let mut words = summary.split_whitespace();
        words.find(|candidate| *candidate == word)?;
        words.next()
    };
    let operations: u64 = after("Ops:").and_then(|n| n.parse().ok()).unwrap_or(0);
    let per_second: f64 = after("TPS:").and_then(|n| n.parse().ok()).unwrap_or(0.0);
    if operations == 0 || per_second <= 0.0 {
        return Err(format!("memaslap did nothing: {summary}"));
    }
    let get_misses = report
        .lines()
        .find_map(|line| line.strip_prefix("get_misses:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(Report {
        operations,
        per_second,
        average_us: average_latency(report),
        get_misses,
    })
}

/// The `Avg:` line after `Total Statistics (`.
fn average_latency(report: &str) -> Option<f64> {
    let (_, block) = report.rsplit_once("Total Statistics (")?;
    let line = block
        .lines()
        .find_map(|line| line.trim().strip_prefix("Avg:"))?;
    line.trim().parse().ok()
}

/// The last lines of `text`, for an error.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "servers: 127.0.0.1:22122
threads count: 1
concurrency: 4
Total Statistics
Type     Time(s)  Ops          TPS(ops/s)   Net(M/s)   Get_miss   Min(us)  Max(us)    Avg(us)
Global   6        202464       33744        20.1       915        16       11047      118

Total Statistics (202468 events)
   Min:        16
   Max:     11047
   Avg:       118
   Geo:     75.04

cmd_get: 182224
cmd_set: 20248
get_misses: 915

Run time: 6.0s Ops: 202472 TPS: 33698 Net_rate: 22.8M/s
";

    #[test]
    fn the_report_gives_rate_latency_and_misses() {
        let report = parse(REPORT).expect("a report");
        assert_eq!(report.operations, 202_472);
        assert_eq!(report.per_second, 33_698.0);
        assert_eq!(report.average_us, Some(118.0));
        assert_eq!(report.get_misses, 915);
        let untimed = "get_misses: 0\n\nRun time: 3.5s Ops: 100000 TPS: 28776 Net_rate: 1M/s\n";
        assert_eq!(parse(untimed).expect("a report").average_us, None);
    }

    #[test]
    fn a_report_without_work_is_an_error() {
        assert!(parse("servers: 127.0.0.1:1\nconcurrency: 4\n").is_err());
        let idle = "Run time: 3.0s Ops: 0 TPS: 0 Net_rate: 0.0M/s\n";
        assert!(parse(idle).expect_err("no work").contains("did nothing"));
    }

    #[test]
    fn the_configuration_sets_keys_values_and_the_mix() {
        assert_eq!(
            configuration(0.1),
            "key\n32 32 1\nvalue\n100 1024 1\ncmd\n0 0.1\n1 0.90\n"
        );
        assert!(configuration(1.0).ends_with("cmd\n0 1\n"));
        let timed = Load {
            set_share: 0.1,
            window_thousands: 2,
            length: Length::Seconds(10),
        };
        let words = arguments("192.168.77.2:11211", Path::new("/t/c.cfg"), &timed);
        let expected = [
            "--servers=192.168.77.2:11211",
            "--win_size=2k",
            "--time=10s",
        ];
        for word in expected {
            assert!(words.contains(&word.to_string()), "{word} in {words:?}");
        }
        let counted = Load {
            length: Length::Operations(5000),
            ..timed
        };
        let words = arguments("a:1", Path::new("c"), &counted);
        assert!(words.contains(&"--execute_number=5000".to_string()));
        assert!(!words.iter().any(|word| word.starts_with("--time")));
    }
}
