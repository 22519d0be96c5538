//! The benchmark report: one aligned table and the raw figures as JSON.
//!
//! [`align`] lays out every table of `bench` (this one and the comparison
//! with Linux): a crate such as comfy-table would draw borders we do not
//! want and bring dependencies for what is one padding loop.

use std::fmt::Write as _;

use serde::Serialize;

use super::stats::{format_value, summarize};

/// One measured quantity and every value it took.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// What was measured, e.g. `q35 spawn -> ready`.
    pub name: String,
    /// The unit of `values`, e.g. `ms`.
    pub unit: String,
    /// One value per successful run.
    pub values: Vec<f64>,
}

impl Series {
    /// Empty series named `"{machine} {name}"`, with their units.
    pub fn for_machine(machine: impl std::fmt::Display, names: &[(&str, &str)]) -> Vec<Series> {
        names
            .iter()
            .map(|(name, unit)| Series {
                name: format!("{machine} {name}"),
                unit: (*unit).into(),
                values: Vec::new(),
            })
            .collect()
    }
}

/// Adds one run's `values` to `series` in order, or says why the run
/// (`what`) is left out.
pub fn add_run<V: IntoIterator<Item = f64>>(
    series: &mut [Series],
    run: Result<V, String>,
    what: &str,
) {
    match run {
        Ok(values) => {
            for (one, value) in series.iter_mut().zip(values) {
                one.values.push(value);
            }
        }
        Err(error) => eprintln!("xtask: {what} left out: {error}"),
    }
}

/// The table: name, median, min-max, unit, number of values.
pub fn table(series: &[Series]) -> String {
    let header = ["measurement", "median", "min-max", "unit", "n"];
    let mut rows = vec![header.map(String::from).to_vec()];
    for one in series {
        let (median, range) = match summarize(&one.values) {
            Some(summary) => (
                format_value(summary.median),
                format!(
                    "{}-{}",
                    format_value(summary.min),
                    format_value(summary.max)
                ),
            ),
            None => ("n/a".to_string(), "n/a".to_string()),
        };
        rows.push(vec![
            one.name.clone(),
            median,
            range,
            one.unit.clone(),
            one.values.len().to_string(),
        ]);
    }
    align(&rows, &[true, false, false, true, false])
}

/// Pads every column to its widest cell, left-aligned where `left` says so
/// and right-aligned otherwise, two blanks apart, without trailing blanks.
pub fn align(rows: &[Vec<String>], left: &[bool]) -> String {
    let widths: Vec<usize> = (0..left.len())
        .map(|column| {
            let width = |row: &Vec<String>| row.get(column).map_or(0, |c| c.chars().count());
            rows.iter().map(width).max().unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        for ((cell, width), left) in row.iter().zip(&widths).zip(left) {
            let _ = match left {
                true => write!(text, "{cell:<width$}  "),
                false => write!(text, "{cell:>width$}  "),
            };
        }
        text.truncate(text.trim_end().len());
        text.push('\n');
    }
    text
}

/// `value` as pretty-printed JSON with a final newline.
pub fn to_json(value: &impl Serialize) -> String {
    // Plain structs of strings and numbers always serialize (non-finite
    // numbers become null).
    let text = serde_json::to_string_pretty(value).expect("plain data serializes");
    text + "\n"
}

/// `{"runs": N, "series": [{"name": ..., "unit": ..., "values": [...]}, ...]}`.
pub fn json(runs: u32, series: &[Series]) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        runs: u32,
        series: &'a [Series],
    }
    to_json(&Report { runs, series })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_adds_one_value_per_series_and_a_failed_one_none() {
        let mut series = Series::for_machine("microvm", &[("a", "ms"), ("b", "KiB")]);
        assert_eq!(series[1].name, "microvm b");
        assert_eq!(series[1].unit, "KiB");
        add_run(&mut series, Ok([1.0, 2.0]), "run 1");
        add_run(&mut series, Err::<[f64; 2], _>("no answer".into()), "run 2");
        add_run(&mut series, Ok([3.0, 4.0]), "run 3");
        assert_eq!(series[0].values, [1.0, 3.0]);
        assert_eq!(series[1].values, [2.0, 4.0]);
    }

    fn sample() -> Vec<Series> {
        let series = |name: &str, unit: &str, values: &[f64]| Series {
            name: name.into(),
            unit: unit.into(),
            values: values.to_vec(),
        };
        vec![
            series("image size anykernel", "bytes", &[81920.0]),
            series("q35 spawn -> ready", "ms", &[52.5, 48.25, 61.0]),
            series("microvm spawn -> ready", "ms", &[]),
        ]
    }

    #[test]
    fn the_table_has_aligned_columns_and_marks_missing_figures() {
        let expected = "\
measurement             median      min-max  unit   n
image size anykernel     81920  81920-81920  bytes  1
q35 spawn -> ready        52.5      48.2-61  ms     3
microvm spawn -> ready     n/a          n/a  ms     0
";
        assert_eq!(table(&sample()), expected);
    }

    #[test]
    fn json_holds_every_raw_value() {
        let text = json(3, &sample());
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["runs"], 3);
        let second = &parsed["series"][1];
        assert_eq!(second["name"], "q35 spawn -> ready");
        assert_eq!(second["unit"], "ms");
        assert_eq!(second["values"], serde_json::json!([52.5, 48.25, 61.0]));
        assert_eq!(parsed["series"][2]["values"], serde_json::json!([]));
        assert!(text.ends_with("}\n"), "{text}");
    }

    #[test]
    fn json_strings_are_escaped_and_odd_numbers_are_null() {
        let odd = Series {
            name: "a \"b\" \\ \n".into(),
            unit: "ms".into(),
            values: vec![f64::NAN, 1.0],
        };
        let parsed: serde_json::Value = serde_json::from_str(&json(1, &[odd])).expect("valid JSON");
        assert_eq!(parsed["series"][0]["name"], "a \"b\" \\ \n");
        assert_eq!(
            parsed["series"][0]["values"],
            serde_json::json!([null, 1.0])
        );
    }
}
