//! A PNG bar chart of the ratios ours / Linux, with each goal as a point,
//! drawn by gnuplot (Debian's `gnuplot-nox`) when it is installed.
//!
//! The chart is optional: without gnuplot the verb says how to get one and
//! carries on. The y axis is logarithmic, so 0.01x and 7x both show.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::compare::Row;
use crate::command::{find_program, output};

/// Writes `png` from `rows` if gnuplot is there; says what happened.
pub fn draw(rows: &[Row], png: &Path) {
    if find_program("gnuplot").is_none() {
        eprintln!("xtask: no chart of the ratios: install gnuplot-nox for one");
        return;
    }
    let data = png.with_extension("dat");
    let result = fs::write(&data, data_file(rows))
        .map_err(|error| format!("{}: {error}", data.display()))
        .and_then(|()| {
            let mut gnuplot = Command::new("gnuplot");
            gnuplot.args(["-e", &script(&data, png)]);
            output(gnuplot)
        });
    match result {
        Ok(_) => eprintln!("xtask: chart of the ratios in {}", png.display()),
        Err(error) => eprintln!("xtask: no chart of the ratios: {error}"),
    }
}

/// One line per row with a ratio: index, quoted name, ratio, goal (`?`
/// when the metric has none).
pub fn data_file(rows: &[Row]) -> String {
    let with_ratio = rows
        .iter()
        .filter_map(|row| row.ratio().map(|ratio| (row, ratio)));
    with_ratio
        .enumerate()
        .map(|(index, (row, ratio))| {
            let goal = row
                .metric
                .goal
                .map_or_else(|| "?".to_string(), |goal| goal.factor.to_string());
            let name = row.name.replace('"', "'");
            format!("{index} \"{name}\" {ratio} {goal}\n")
        })
        .collect()
}

/// The gnuplot program drawing `data` into `png`.
fn script(data: &Path, png: &Path) -> String {
    let quote = |path: &Path| path.to_string_lossy().replace('\'', "");
    format!(
        "set terminal png size 1400,800; set output '{}'; set datafile missing '?'; \
         set title 'anykernel / Linux (median ratios; bars above the dot meet a >= goal, \
         below it a <= goal)' noenhanced; set logscale y; set ylabel 'ours / linux'; \
         set grid ytics; set yrange [0.001:*]; set style fill solid 0.6; set boxwidth 0.6; \
         set bmargin 16; set rmargin 12; \
         set xtics rotate by -60 noenhanced; set key top left; \
         plot '{data}' using 1:3:xtic(2) with boxes title 'ratio', \
         '' using 1:4 with points pointtype 7 pointsize 1.5 title 'goal'",
        quote(png),
        data = quote(data)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::linux::compare::{Metric, NETWORK_METRICS};

    #[test]
    fn rows_with_a_ratio_become_numbered_lines_with_their_goal() {
        let row = |metric: Metric, ours: f64, linux: f64| {
            let mut row = Row::new(format!("q35 user {}", metric.name), metric);
            row.ours.push(ours);
            row.linux.push(linux);
            row
        };
        let mut empty = row(NETWORK_METRICS[6], 1.0, 1.0);
        empty.linux.clear();
        let rows = [
            row(NETWORK_METRICS[1], 50.0, 100.0),
            empty,
            row(NETWORK_METRICS[2], 3.0, 4.0),
        ];
        assert_eq!(
            data_file(&rows),
            "0 \"q35 user echo RTT median\" 0.5 0.6\n1 \"q35 user echo RTT p99\" 0.75 ?\n"
        );
    }

    #[test]
    fn the_script_plots_the_data_into_the_png() {
        let text = script(Path::new("/t/chart.dat"), Path::new("/t/chart.png"));
        assert!(text.starts_with("set terminal png"), "{text}");
        assert!(text.contains("set output '/t/chart.png'"), "{text}");
        assert!(
            text.contains("plot '/t/chart.dat' using 1:3:xtic(2)"),
            "{text}"
        );
    }
}
