//! Memory: the smallest `-m` at which each guest still holds a full
//! 64 MiB cache, and the kv appliance's full-cache load at several
//! kernel memory limits (`mem=`), the cache at half of each (the
//! appliance's own default share).
//!
//! A guest "holds a full cache" at a size when it boots, takes the fill
//! (1.5 caches' worth of sets, each counted by the server) and then holds
//! at least 90 % of the items it held with 256 MiB in the comparison's
//! runs: a server that runs out of memory dies, refuses sets or drops
//! items, and all three show.

use std::time::Instant;

use super::measure::{self, LOAD_SECONDS, loads, with_guest};
use super::server::{Endpoint, Servers, Sizes, ready};
use super::{CACHE_MIB, metric};
use crate::bench::linux::compare::Row;
use crate::bench::linux::measure::{Kind, Link, MEMORY_MIB};
use crate::bench::report::Series;
use crate::bench::stats::summarize;
use crate::bench::target::smallest_passing;

/// The kernel memory limits of the sweep, in MiB.
pub const SWEEP_MIB: [u32; 4] = [16, 32, 64, 128];
/// The search's step: `-m` is tried in multiples of this many MiB.
const STEP_MIB: u32 = 4;

/// The items a guest holds after the fill at `sizes`, if it serves.
fn items_after_fill(servers: &Servers, kind: Kind, link: &Link, sizes: Sizes) -> Option<f64> {
    let [_, fill, _] = loads(sizes.cache_mib);
    let result = with_guest(servers, kind, link, sizes, move |endpoint, spawned_at| {
        ready(endpoint, spawned_at, measure::ready_deadline(kind))?;
        let checked = measure::checked(endpoint, &fill)?;
        Ok(checked.after.get("curr_items").copied().unwrap_or(0) as f64)
    });
    let mib = sizes.memory_mib;
    match result {
        Ok(items) => {
            eprintln!("xtask: {} with -m {mib}M holds {items} items", kind.name());
            Some(items)
        }
        Err(error) => {
            eprintln!(
                "xtask: {} with -m {mib}M does not serve: {error}",
                kind.name()
            );
            None
        }
    }
}

/// The smallest `-m`, in [`STEP_MIB`] steps above the cache, at which
/// `kind` holds 90 % of `reference` items (its median at 256 MiB).
fn smallest_memory(servers: &Servers, kind: Kind, link: &Link, reference: f64) -> Option<f64> {
    let serves = |steps: u32| {
        let sizes = Sizes {
            memory_mib: steps * STEP_MIB,
            cache_mib: CACHE_MIB,
            kernel_limit_mib: None,
        };
        items_after_fill(servers, kind, link, sizes).is_some_and(|items| items >= reference * 0.9)
    };
    // Sizes that cannot hold the cache (Linux alone needs ~88 MiB).
    let (low, high) = match kind {
        Kind::Anykernel => (CACHE_MIB / 2, 2 * CACHE_MIB),
        Kind::Linux => (CACHE_MIB, MEMORY_MIB + CACHE_MIB),
    };
    let (low, high) = (low / STEP_MIB, high / STEP_MIB);
    smallest_passing(low, high, serves).map(|steps| f64::from(steps * STEP_MIB))
}

/// The comparison's row of smallest memory; `items` is its row of items
/// held at 256 MiB, each guest's reference.
pub fn smallest_memory_row(servers: &Servers, link: &Link, items: &Row) -> Row {
    let mut row = Row::new(
        "smallest -m holding the full cache".into(),
        metric("smallest -m holding the full cache", "MiB"),
    );
    for (kind, held) in [(Kind::Anykernel, &items.ours), (Kind::Linux, &items.linux)] {
        let Some(reference) = summarize(held).map(|summary| summary.median) else {
            eprintln!(
                "xtask: no memory search for {}: no run held items",
                kind.name()
            );
            continue;
        };
        let found = smallest_memory(servers, kind, link, reference);
        match kind {
            Kind::Anykernel => row.ours.extend(found),
            Kind::Linux => row.linux.extend(found),
        }
    }
    row
}

/// The sweep's figures per limit: full-cache ops/s, mean latency, get
/// hits and items held.
pub fn sweep(servers: &Servers, link: &Link, runs: u32) -> Vec<Series> {
    let mut series = Vec::new();
    for limit in SWEEP_MIB {
        let named = |what: &str, unit: &str| Series {
            name: format!("mem={limit}M kv.memory={}M {what}", limit / 2),
            unit: unit.into(),
            values: Vec::new(),
        };
        let mut four = [
            named("full: 9:1 get:set", "ops/s"),
            named("full: mean latency", "us"),
            named("full: get hits", "%"),
            named("full: items held", "items"),
        ];
        for run in 1..=runs {
            match sweep_once(servers, link, limit) {
                Ok(values) => {
                    for (one, value) in four.iter_mut().zip(values) {
                        one.values.extend(Some(value).filter(|v| v.is_finite()));
                    }
                }
                Err(error) => eprintln!("xtask: mem={limit}M run {run} left out: {error}"),
            }
        }
        series.extend(four);
    }
    series
}

/// Fill, then the full-cache load, at the kernel memory limit `limit`.
fn sweep_once(servers: &Servers, link: &Link, limit: u32) -> Result<[f64; 4], String> {
    let sizes = Sizes {
        memory_mib: MEMORY_MIB,
        cache_mib: limit / 2,
        kernel_limit_mib: Some(limit),
    };
    let [_, fill, full] = loads(sizes.cache_mib);
    let kind = Kind::Anykernel;
    let work = move |endpoint: Endpoint, spawned_at: Instant| {
        ready(endpoint, spawned_at, measure::ready_deadline(kind))?;
        measure::checked(endpoint, &fill)?;
        let full = measure::checked(endpoint, &full)?;
        let items = full.after.get("curr_items").copied().unwrap_or(0) as f64;
        let figures = [
            full.report.per_second,
            full.report.average_us.unwrap_or(f64::NAN),
            full.hit_percent,
            items,
        ];
        eprintln!(
            "xtask: kv at mem={limit}M: {:.0} ops/s over {LOAD_SECONDS} s, {items} items",
            figures[0]
        );
        Ok(figures)
    };
    with_guest(servers, kind, link, sizes, work)
}
