//! The kv bench's tables: ours against Linux per metric with the ratio of
//! the medians, and the sweep over memory limits; plus the image row.

use std::fs;

use super::server::Servers;
use super::{RUN_METRICS, metric};
use crate::bench::linux::compare::{Row, cell, format_ratio};
use crate::bench::report::{self, Series, align};

/// One line per row: both guests' `median (min-max)` and ours / Linux.
pub fn comparison(rows: &[Row]) -> String {
    let header = [
        "measurement",
        "anykernel kv",
        "linux memcached",
        "unit",
        "ours/linux",
    ];
    let mut lines = vec![header.map(String::from).to_vec()];
    for row in rows {
        let ratio = row.ratio();
        lines.push(vec![
            row.name.clone(),
            cell(&row.ours),
            cell(&row.linux),
            row.metric.unit.into(),
            ratio.map_or_else(|| "n/a".into(), |ratio| format!("{}x", format_ratio(ratio))),
        ]);
    }
    align(&lines, &[true, false, false, true, false])
}

/// The sweep as bench's usual table (median, range, unit, count).
pub fn sweep(series: &[Series]) -> String {
    format!(
        "kv appliance, full cache, by kernel memory limit:\n{}",
        report::table(series)
    )
}

/// Bytes QEMU loads for each: the kv ELF; Debian's kernel and the
/// memcached initramfs.
pub fn image_row(servers: &Servers) -> Result<Row, String> {
    let image = metric("image size (what QEMU loads)", "bytes");
    let mut row = Row::new(image.name.into(), image);
    let ours =
        fs::metadata(&servers.kv).map_err(|error| format!("{}: {error}", servers.kv.display()))?;
    row.ours.push(ours.len() as f64);
    row.linux.push(servers.linux.image_bytes()? as f64);
    Ok(row)
}

/// One run's figures, for the progress line.
pub fn describe(values: &[f64]) -> String {
    let parts = RUN_METRICS
        .iter()
        .zip(values)
        .map(|(metric, value)| format!("{} {value:.0} {}", metric.name, metric.unit));
    parts.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_both_servers_and_the_ratio() {
        let mut rows = vec![Row::new(RUN_METRICS[1].name.into(), RUN_METRICS[1])];
        rows[0].ours = vec![3000.0, 4000.0, 5000.0];
        rows[0].linux = vec![2000.0];
        rows.push(Row::new(RUN_METRICS[6].name.into(), RUN_METRICS[6]));
        rows[1].linux = vec![100.0];
        let expected = "\
measurement            anykernel kv  linux memcached  unit   ours/linux
fits: 9:1 get:set  4000 (3000-5000)             2000  ops/s          2x
full: get hits                  n/a              100  %             n/a
";
        assert_eq!(comparison(&rows), expected);
        assert!(describe(&[1.0, 2.0]).starts_with("spawn -> serving 1 ms, fits"));
    }
}
