//! Summaries of repeated measurements: median, percentiles and range.
//!
//! The one median of the benchmarks: the middle value, or the mean of the
//! two middle values of an even count.

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
    let median = median(&sorted)?;
    Some(Summary {
        median,
        min,
        max,
        count: sorted.len(),
    })
}

/// The median of `sorted` (ascending); `None` when it is empty.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let middle = sorted.len() / 2;
    match sorted.len() % 2 {
        1 => Some(sorted[middle]),
        _ => Some((sorted.get(middle.checked_sub(1)?)? + sorted[middle]) / 2.0),
    }
}

/// The value below which `percent` percent of `sorted` (ascending) lie:
/// the element at index `len * percent / 100`; `None` when it is empty.
pub fn percentile(sorted: &[f64], percent: usize) -> Option<f64> {
    let index = (sorted.len() * percent / 100).min(sorted.len().checked_sub(1)?);
    Some(sorted[index])
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
        assert_eq!((median(&[]), percentile(&[], 99)), (None, None));
    }

    #[test]
    fn percentiles_index_the_sorted_values() {
        let values: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&values, 99), Some(199.0));
        assert_eq!(percentile(&values, 100), Some(200.0));
        assert_eq!(percentile(&[5.0], 99), Some(5.0));
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
