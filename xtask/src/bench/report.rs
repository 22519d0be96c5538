//! The benchmark report: one aligned table and the raw figures as JSON.

use std::fmt::Write as _;

use super::stats::{format_value, summarize};

/// One measured quantity and every value it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// What was measured, e.g. `q35 spawn -> ready`.
    pub name: String,
    /// The unit of `values`, e.g. `ms`.
    pub unit: String,
    /// One value per successful run.
    pub values: Vec<f64>,
}

/// The table: name, median, min-max, unit, number of values.
pub fn table(series: &[Series]) -> String {
    let header = ["measurement", "median", "min-max", "unit", "n"].map(String::from);
    let mut rows = vec![header];
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
        rows.push([
            one.name.clone(),
            median,
            range,
            one.unit.clone(),
            one.values.len().to_string(),
        ]);
    }
    align(&rows)
}

/// Left-aligns the first column and right-aligns the numbers.
fn align(rows: &[[String; 5]]) -> String {
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    let mut text = String::new();
    for row in rows {
        let _ = write!(
            text,
            "{:<w0$}  {:>w1$}  {:>w2$}  {:<w3$}  {:>w4$}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        );
        text.truncate(text.trim_end().len());
        text.push('\n');
    }
    text
}

/// `{"runs": N, "series": [{"name": ..., "unit": ..., "values": [...]}, ...]}`.
pub fn json(runs: u32, series: &[Series]) -> String {
    let mut text = format!("{{\n  \"runs\": {runs},\n  \"series\": [");
    for (index, one) in series.iter().enumerate() {
        let values: Vec<String> = one.values.iter().map(|value| json_number(*value)).collect();
        let separator = if index == 0 { "" } else { "," };
        let _ = write!(
            text,
            "{separator}\n    {{\"name\": {}, \"unit\": {}, \"values\": [{}]}}",
            json_string(&one.name),
            json_string(&one.unit),
            values.join(", ")
        );
    }
    text.push_str("\n  ]\n}\n");
    text
}

pub(super) fn json_number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        "null".to_string()
    }
}

pub(super) fn json_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            control if u32::from(control) < 0x20 => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(control));
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            text.starts_with("{\n  \"runs\": 3,\n  \"series\": [\n"),
            "{text}"
        );
        assert!(text.contains("{\"name\": \"q35 spawn -> ready\", \"unit\": \"ms\", \"values\": [52.5, 48.25, 61]}"), "{text}");
        assert!(text.contains("\"values\": []}"), "{text}");
        assert!(text.ends_with("}\n  ]\n}\n"), "{text}");
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a \"b\" \\ \n"), r#""a \"b\" \\ \u000a""#);
    }
}
