//! Summaries of repeated measurements: median and range.

/// The median, minimum and maximum of a non-empty series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub count: usize,
}

/// Summarises `values`; `None` when there are none.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (min, max) = (*sorted.first()?, *sorted.last()?);
    let middle = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    };
    Some(Summary {
        median,
        min,
        max,
        count: sorted.len(),
    })
}

/// `value` with as many decimals as its size warrants (3 significant digits
/// for small values, none from 100 up).
pub fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_and_even_counts_have_the_usual_median() {
        let odd = summarize(&[5.0, 1.0, 3.0]).expect("non-empty");
        assert_eq!(
            (odd.median, odd.min, odd.max, odd.count),
            (3.0, 1.0, 5.0, 3)
        );
        let even = summarize(&[4.0, 1.0, 2.0, 10.0]).expect("non-empty");
        assert_eq!((even.median, even.min, even.max), (3.0, 1.0, 10.0));
        let single = summarize(&[7.5]).expect("non-empty");
        assert_eq!((single.median, single.min, single.max), (7.5, 7.5, 7.5));
    }

    #[test]
    fn an_empty_series_has_no_summary() {
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn values_keep_about_three_significant_digits() {
        assert_eq!(format_value(123456.7), "123457");
        assert_eq!(format_value(42.0), "42");
        assert_eq!(format_value(41.26), "41.3");
        assert_eq!(format_value(4.126), "4.13");
        assert_eq!(format_value(0.04126), "0.041");
    }
}
