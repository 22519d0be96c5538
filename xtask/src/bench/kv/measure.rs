//! One guest through the workloads: boot, serve, load, count.
//!
//! A run boots a guest with a cache of `cache_mib`, waits for memcached's
//! first reply, then runs three loads with memaslap: *fits* (9:1 get:set
//! over keys that fit in the cache), *fill* (sets only, 1.5 times the
//! cache's worth of items, so the last third evicts) and *full* (9:1
//! again on the full cache: every set evicts). Around each load the
//! server's own `stats` are read: a load whose operations the server did
//! not all count (it died, or dropped connections) is an error, and the
//! get hit rate is the server's.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use qemu_tests::Qemu;

use super::memaslap::{KEY_BYTES, Length, Load, Report, VALUE_BYTES};
use super::server::{Endpoint, Servers, Sizes, ready, statistics};
use super::watched;
use crate::bench::linux::initramfs::READY_LINE;
use crate::bench::linux::measure::{Kind, Link};

/// How long each timed load runs.
pub const LOAD_SECONDS: u64 = 10;
/// Thousands of keys per connection in the timed loads: 4 x 2,000 keys of
/// ~600 bytes (5 MiB at most) fit in every cache measured.
const WINDOW_THOUSANDS: u64 = 2;
/// The slowest rate a counted load may run at before its deadline.
const SLOWEST_RATE: u64 = 300;

/// A run's figures, in [`super::RUN_METRICS`] order.
pub type RunFigures = [f64; 9];

/// The three loads for a cache of `cache_mib`.
pub fn loads(cache_mib: u32) -> [Load; 3] {
    let mix = Load {
        set_share: 0.1,
        window_thousands: WINDOW_THOUSANDS,
        length: Length::Seconds(LOAD_SECONDS),
    };
    let fill = Load {
        set_share: 1.0,
        length: Length::Operations(fill_count(cache_mib)),
        ..mix
    };
    [mix, fill, mix]
}

/// Sets that hold 1.5 times `cache_mib` in keys and values (mean size).
pub fn fill_count(cache_mib: u32) -> u64 {
    let mean_item = KEY_BYTES + (VALUE_BYTES.0 + VALUE_BYTES.1) / 2;
    (u64::from(cache_mib) << 20) * 3 / 2 / mean_item
}

/// Boots `kind` sized by `sizes`, runs `work` on its endpoint (inside the
/// namespace on a tap), and stops it; an error carries the last serial
/// lines.
pub fn with_guest<R: Send + 'static>(
    servers: &Servers,
    kind: Kind,
    link: &Link,
    sizes: Sizes,
    work: impl FnOnce(Endpoint, Instant) -> Result<R, String> + Send + 'static,
) -> Result<R, String> {
    let (config, endpoint) = servers.config(kind, link, sizes);
    let mut qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    let spawned_at = qemu.spawned_at();
    // The serial line first: it sees a guest that dies while booting.
    let booted = qemu.wait_for_line(ready_line(kind), ready_deadline(kind));
    let result = match (booted, link) {
        (Err(error), _) => Err(format!("no `{}` line: {error}", ready_line(kind))),
        (Ok(_), Link::User) => work(endpoint, spawned_at),
        (Ok(_), Link::Tap(namespace, _)) => {
            namespace.run_inside(move || work(endpoint, spawned_at))
        }
    };
    let outcome = qemu.stop();
    result.map_err(|error| {
        let last: Vec<&str> = outcome
            .lines
            .iter()
            .rev()
            .take(4)
            .map(|l| l.text.as_str())
            .collect();
        // A panic's message comes before its backtrace: name it first.
        let panic = outcome.lines.iter().find(|l| l.text.contains("panic: "));
        match panic {
            Some(line) => format!("{error} (the guest {})", line.text.trim()),
            None => format!("{error} (last serial lines, newest first: {last:?})"),
        }
    })
}

/// The line each guest prints once its services have started.
fn ready_line(kind: Kind) -> &'static str {
    match kind {
        Kind::Anykernel => "anykernel: ready in",
        Kind::Linux => READY_LINE,
    }
}

/// The deadline for a guest's first reply.
pub fn ready_deadline(kind: Kind) -> Duration {
    match kind {
        Kind::Anykernel => Duration::from_secs(30),
        Kind::Linux => Duration::from_secs(120),
    }
}

/// Every load of a run on a booted guest.
pub fn sequence(
    kind: Kind,
    endpoint: Endpoint,
    spawned_at: Instant,
    cache_mib: u32,
) -> Result<RunFigures, String> {
    let serving = ready(endpoint, spawned_at, ready_deadline(kind))?;
    let [fits, fill, full] = loads(cache_mib);
    let fits = checked(endpoint, &fits)?;
    let fill = checked(endpoint, &fill)?;
    let full = checked(endpoint, &full)?;
    let held = |name: &str| full.after.get(name).copied().unwrap_or(0) as f64;
    Ok([
        serving,
        fits.report.per_second,
        fits.report.average_us.unwrap_or(f64::NAN),
        fill.report.per_second,
        full.report.per_second,
        full.report.average_us.unwrap_or(f64::NAN),
        full.hit_percent,
        held("curr_items"),
        held("bytes") / 1048576.0,
    ])
}

/// A load and what the server counted.
pub struct Checked {
    pub report: Report,
    /// The server's get hits over its gets during the load.
    pub hit_percent: f64,
    /// `stats` after the load.
    pub after: BTreeMap<String, u64>,
}

/// Runs `load`, checking it against the server's counters.
pub fn checked(endpoint: Endpoint, load: &Load) -> Result<Checked, String> {
    let before = statistics(endpoint)?;
    let deadline = match load.length {
        Length::Seconds(seconds) => seconds + 60,
        Length::Operations(count) => count / SLOWEST_RATE + 60,
    };
    let served = || {
        let stats = statistics(endpoint)?;
        let count = |name: &str| stats.get(name).copied().unwrap_or(0);
        Ok(count("cmd_get") + count("cmd_set"))
    };
    let deadline = Duration::from_secs(deadline);
    let report = watched::run(&endpoint.server(), load, deadline, served)?;
    let after = statistics(endpoint).map_err(|error| format!("after the load: {error}"))?;
    let delta = |name: &str| {
        let count = |stats: &BTreeMap<String, u64>| stats.get(name).copied().unwrap_or(0);
        count(&after).saturating_sub(count(&before))
    };
    let counted = delta("cmd_get") + delta("cmd_set");
    if counted * 100 < report.operations * 99 {
        return Err(format!(
            "the server counted {counted} of memaslap's {} operations",
            report.operations
        ));
    }
    let gets = delta("cmd_get");
    let hit_percent = match gets {
        0 => f64::NAN,
        _ => delta("get_hits") as f64 * 100.0 / gets as f64,
    };
    Ok(Checked {
        report,
        hit_percent,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fill_holds_one_and_a_half_caches() {
        // 64 MiB x 1.5 / (32 + 562) bytes.
        assert_eq!(fill_count(64), 169_466);
        assert_eq!(fill_count(8), 21_183);
        let [fits, fill, full] = loads(64);
        assert_eq!(fill.length, Length::Operations(169_466));
        assert_eq!((fill.set_share, fits.set_share), (1.0, 0.1));
        assert_eq!(fits, full);
        assert_eq!(fits.length, Length::Seconds(LOAD_SECONDS));
    }
}
