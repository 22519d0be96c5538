//! The stage table of `cargo xtask test`: runs stages in order, stops at
//! the first failure, and renders one line per stage with its time.

use std::time::{Duration, Instant};

/// How one stage ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum StageResult {
    Passed(Duration),
    Failed(Duration, String),
    Skipped,
}

/// The ordered stages and what they came to.
#[derive(Debug, Default)]
pub(super) struct Summary {
    stages: Vec<(String, StageResult)>,
}

impl Summary {
    /// Runs `action` as stage `name` unless an earlier stage failed.
    pub(super) fn stage(
        &mut self,
        name: impl Into<String>,
        action: impl FnOnce() -> Result<(), String>,
    ) {
        let name = name.into();
        if self.failed() {
            self.stages.push((name, StageResult::Skipped));
            return;
        }
        eprintln!("\n==> {name}");
        let started = Instant::now();
        let result = match action() {
            Ok(()) => StageResult::Passed(started.elapsed()),
            Err(error) => StageResult::Failed(started.elapsed(), error),
        };
        self.stages.push((name, result));
    }

    pub(super) fn skip(&mut self, name: impl Into<String>) {
        self.stages.push((name.into(), StageResult::Skipped));
    }

    pub(super) fn failed(&self) -> bool {
        self.stages
            .iter()
            .any(|(_, result)| matches!(result, StageResult::Failed(..)))
    }

    /// One line per stage with its time, and the first failure's reason.
    pub(super) fn render(&self) -> String {
        let mut text = String::from("\nsummary:\n");
        let mut total = Duration::ZERO;
        for (name, result) in &self.stages {
            let (state, time) = match result {
                StageResult::Passed(time) => ("ok", Some(*time)),
                StageResult::Failed(time, _) => ("FAILED", Some(*time)),
                StageResult::Skipped => ("skipped", None),
            };
            total += time.unwrap_or_default();
            let time = time.map_or(String::new(), |time| {
                format!("{:7.1} s", time.as_secs_f64())
            });
            let line = format!("  {name:<28} {state:<8} {time}");
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text.push_str(&format!(
            "  {:<28} {:<8} {:7.1} s\n",
            "total",
            "",
            total.as_secs_f64()
        ));
        for (name, result) in &self.stages {
            if let StageResult::Failed(_, reason) = result {
                text.push_str(&format!("first failure, {name}: {reason}\n"));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_stops_later_stages_and_is_summarised() {
        let mut summary = Summary::default();
        let mut later_ran = false;
        summary.stage("first", || Ok(()));
        summary.stage("second", || Err("`cargo x` failed".to_string()));
        summary.stage("third", || {
            later_ran = true;
            Ok(())
        });
        assert!(!later_ran);
        assert!(summary.failed());
        let text = summary.render();
        assert!(text.contains("  first"), "{text}");
        assert!(text.contains("FAILED"), "{text}");
        assert!(
            text.contains("  third                        skipped"),
            "{text}"
        );
        assert!(
            text.ends_with("first failure, second: `cargo x` failed\n"),
            "{text}"
        );
    }
}
