//! The comparison: ours against Linux per metric, the ratio of the medians
//! and whether it meets the goal; as a table and as JSON.
//!
//! A ratio is ours / Linux. For times, memory and bytes lower is better
//! (goal "<= f x"); for throughput and rates higher is better (">= f x").
//! "missed by N x" says how far the ratio is from its goal, always >= 1.

use serde::Serialize;

use crate::bench::report::{align, to_json};
use crate::bench::stats::{Summary, format_value, summarize};

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Better {
    Lower,
    Higher,
}

/// The goal for ours / Linux.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    pub better: Better,
    pub factor: f64,
}

impl Goal {
    /// `<= 0.01x` or `>= 3x`.
    pub fn describe(&self) -> String {
        let sign = match self.better {
            Better::Lower => "<=",
            Better::Higher => ">=",
        };
        format!("{sign} {}x", self.factor)
    }

    /// How many times the ratio falls short; `None` when it meets the goal.
    pub fn shortfall(&self, ratio: f64) -> Option<f64> {
        let (met, by) = match self.better {
            Better::Lower => (ratio <= self.factor, ratio / self.factor),
            Better::Higher => (ratio >= self.factor, self.factor / ratio),
        };
        (!met).then_some(by)
    }

    /// `met` or `missed by 2.5x`.
    pub fn verdict(&self, ratio: f64) -> String {
        match self.shortfall(ratio) {
            None => "met".into(),
            Some(by) => format!("missed by {}x", format_ratio(by)),
        }
    }
}

/// A metric of the issue: its name, unit and goal (if it has one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub goal: Option<Goal>,
}

const fn metric(name: &'static str, unit: &'static str, goal: Option<Goal>) -> Metric {
    Metric { name, unit, goal }
}

const fn at_most(factor: f64) -> Option<Goal> {
    Some(Goal {
        better: Better::Lower,
        factor,
    })
}

const fn at_least(factor: f64) -> Option<Goal> {
    Some(Goal {
        better: Better::Higher,
        factor,
    })
}

/// The per-run network metrics, in the order measure.rs returns them.
pub const NETWORK_METRICS: [Metric; 7] = [
    metric("spawn -> serving", "ms", at_most(0.01)),
    metric("echo RTT median", "us", at_most(0.6)),
    metric("echo RTT p99", "us", None),
    metric("bulk host -> guest", "MiB/s", at_least(1.5)),
    metric("bulk guest -> host", "MiB/s", at_least(1.5)),
    metric("HTTP keep-alive", "req/s", at_least(3.0)),
    metric("HTTP new connection", "req/s", at_least(3.0)),
];
/// The storage metrics, in the order disk.rs returns them: ext2 on
/// virtio-blk, the same image and steps on both guests.
pub const DISK_METRICS: [Metric; 3] = [
    metric("sequential write (1 MiB, fsync)", "MiB/s", at_least(1.0)),
    metric("sequential read (cache dropped)", "MiB/s", at_least(1.0)),
    metric("small-file creates (4 KiB, sync)", "files/s", at_least(2.0)),
];
/// Searched once per machine.
pub const SMALLEST_MEMORY: Metric = metric("smallest memory that serves", "MiB", at_most(0.05));
/// Measured once.
/// QEMU's own start (an empty guest) against Linux's spawn -> serving:
/// the smallest spawn -> serving ratio any guest could have.
pub const QEMU_ALONE: Metric = metric(
    "QEMU alone (empty guest) vs Linux spawn -> serving",
    "ms",
    None,
);
pub const IMAGE_SIZE: Metric = metric("image size (what QEMU loads)", "bytes", at_most(0.05));
/// Measured once: the net-only appliance (kv: no vfs, block or ext2), ours
/// alone.
pub const NET_ONLY_IMAGE_SIZE: Metric =
    metric("image size, net only (kv alone, no vfs)", "bytes", None);

/// One line of the comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// E.g. `microvm tap echo RTT median`.
    pub name: String,
    pub metric: Metric,
    pub ours: Vec<f64>,
    pub linux: Vec<f64>,
}

impl Row {
    pub fn new(name: String, metric: Metric) -> Row {
        Row {
            name,
            metric,
            ours: Vec::new(),
            linux: Vec::new(),
        }
    }

    /// Median ours / median Linux, when both have values.
    pub fn ratio(&self) -> Option<f64> {
        let ours = summarize(&self.ours)?.median;
        let linux = summarize(&self.linux)?.median;
        (linux != 0.0)
            .then(|| ours / linux)
            .filter(|ratio| ratio.is_finite())
    }
}

/// `ratio` with three significant digits, however small (0.00882, 0.968,
/// 12.3, 4).
pub fn format_ratio(ratio: f64) -> String {
    if !ratio.is_finite() || ratio == 0.0 {
        return format_value(ratio);
    }
    let magnitude = ratio.abs().log10().floor() as i32;
    let decimals = usize::try_from(2 - magnitude).unwrap_or(0);
    let text = format!("{ratio:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// `median (min-max)`, or `n/a`.
pub fn cell(values: &[f64]) -> String {
    match summarize(values) {
        Some(Summary {
            median, min, max, ..
        }) if min == max => format_value(median),
        Some(Summary {
            median, min, max, ..
        }) => format!(
            "{} ({}-{})",
            format_value(median),
            format_value(min),
            format_value(max)
        ),
        None => "n/a".into(),
    }
}

/// The table: one row per metric, both guests, the ratio and the goal.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "measurement",
        "anykernel",
        "linux",
        "unit",
        "ours/linux",
        "goal",
        "verdict",
    ];
    let mut lines = vec![header.map(String::from).to_vec()];
    for row in rows {
        let ratio = row.ratio();
        let goal = row.metric.goal;
        let verdict = match (goal, ratio) {
            (Some(goal), Some(ratio)) => goal.verdict(ratio),
            (Some(_), None) => "n/a".into(),
            (None, _) => String::new(),
        };
        lines.push(vec![
            row.name.clone(),
            cell(&row.ours),
            cell(&row.linux),
            row.metric.unit.into(),
            ratio.map_or_else(|| "n/a".into(), |ratio| format!("{}x", format_ratio(ratio))),
            goal.map_or_else(String::new, |goal| goal.describe()),
            verdict,
        ]);
    }
    align(&lines, &[true, false, false, true, false, true, true])
}

/// One row of the JSON report: the raw values, the ratio and the goal.
#[derive(Serialize)]
pub struct JsonRow<'a> {
    name: &'a str,
    unit: &'a str,
    anykernel: &'a [f64],
    linux: &'a [f64],
    ratio: Option<f64>,
    goal: Option<String>,
    met: Option<bool>,
}

/// Every raw value with the ratio and goal, as JSON.
pub fn json(runs: u32, accel: &str, rows: &[Row]) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        runs: u32,
        accel: &'a str,
        rows: Vec<JsonRow<'a>>,
    }
    let rows = json_rows(rows);
    to_json(&Report { runs, accel, rows })
}

/// The JSON form of each row.
pub fn json_rows(rows: &[Row]) -> Vec<JsonRow<'_>> {
    rows.iter()
        .map(|row| JsonRow {
            name: &row.name,
            unit: row.metric.unit,
            anykernel: &row.ours,
            linux: &row.linux,
            ratio: row.ratio(),
            goal: row.metric.goal.map(|goal| goal.describe()),
            met: row
                .metric
                .goal
                .zip(row.ratio())
                .map(|(goal, ratio)| goal.shortfall(ratio).is_none()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(metric: Metric, ours: &[f64], linux: &[f64]) -> Row {
        Row {
            name: format!("microvm tap {}", metric.name),
            metric,
            ours: ours.to_vec(),
            linux: linux.to_vec(),
        }
    }

    #[test]
    fn goals_say_met_or_by_how_much_they_are_missed() {
        let lower = at_most(0.05).expect("a goal");
        assert_eq!(lower.verdict(0.04), "met");
        assert_eq!(lower.verdict(0.05), "met");
        assert_eq!(lower.verdict(0.2), "missed by 4x");
        let higher = at_least(3.0).expect("a goal");
        assert_eq!(higher.verdict(3.5), "met");
        assert_eq!(higher.verdict(1.5), "missed by 2x");
        assert_eq!(higher.describe(), ">= 3x");
        assert_eq!(lower.describe(), "<= 0.05x");
    }

    #[test]
    fn ratios_keep_three_significant_digits() {
        assert_eq!(format_ratio(0.008823), "0.00882");
        assert_eq!(format_ratio(0.0004), "0.0004");
        assert_eq!(format_ratio(0.9684), "0.968");
        assert_eq!(format_ratio(12.345), "12.3");
        assert_eq!(format_ratio(4.0), "4");
        assert_eq!(format_ratio(1234.6), "1235");
    }

    #[test]
    fn the_ratio_is_of_the_medians() {
        let bulk = row(NETWORK_METRICS[3], &[100.0, 300.0, 200.0], &[50.0, 100.0]);
        assert_eq!(bulk.ratio(), Some(200.0 / 75.0));
        assert_eq!(row(NETWORK_METRICS[3], &[1.0], &[]).ratio(), None);
        assert_eq!(row(NETWORK_METRICS[3], &[1.0], &[0.0]).ratio(), None);
    }

    #[test]
    fn the_table_shows_both_guests_the_ratio_and_the_verdict() {
        let rows = [
            row(
                NETWORK_METRICS[0],
                &[40.0, 50.0, 45.0],
                &[5000.0, 5200.0, 5100.0],
            ),
            row(NETWORK_METRICS[2], &[300.0], &[310.0]),
            row(NETWORK_METRICS[6], &[], &[900.0]),
        ];
        let expected = "\
measurement                       anykernel             linux  unit   ours/linux  goal      verdict
microvm tap spawn -> serving     45 (40-50)  5100 (5000-5200)  ms       0.00882x  <= 0.01x  met
microvm tap echo RTT p99                300               310  us         0.968x
microvm tap HTTP new connection         n/a               900  req/s         n/a  >= 3x     n/a
";
        assert_eq!(table(&rows), expected);
    }

    #[test]
    fn json_holds_raw_values_ratio_and_goal() {
        let rows = [
            row(NETWORK_METRICS[5], &[9000.0, 9500.5], &[3000.0]),
            row(NETWORK_METRICS[2], &[300.0], &[]),
        ];
        let text = json(2, "tcg", &rows);
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(
            (&parsed["runs"], &parsed["accel"]),
            (&2.into(), &"tcg".into())
        );
        let first = &parsed["rows"][0];
        assert_eq!(first["anykernel"], serde_json::json!([9000.0, 9500.5]));
        assert_eq!(first["linux"], serde_json::json!([3000.0]));
        assert_eq!(
            (&first["goal"], &first["met"]),
            (&">= 3x".into(), &true.into())
        );
        let second = &parsed["rows"][1];
        assert!(second["ratio"].is_null() && second["goal"].is_null() && second["met"].is_null());
    }
}
