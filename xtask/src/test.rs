//! `cargo xtask test [--quick]`: every check CI runs, in order.
//!
//! Stages: formatting, clippy for the host and for the bare-metal target,
//! host tests, images + ISO, then the QEMU tests (skipped by `--quick`).
//! The first failing stage stops the run; a summary with per-stage timings
//! ends it either way. QEMU tests run at most two at a time: two cores.

use std::time::{Duration, Instant};

use qemu_tests::{IMAGE_ENV, ISO_ENV, SELFTEST_IMAGE_ENV};

use crate::build::{Images, build_images};
use crate::command::{cargo, run};
use crate::iso::make_iso;
use crate::paths::IMAGE_TARGET;
use crate::setup::{Need, ensure};

/// Workspace members that only build for the host (std): left out of the
/// bare-metal clippy run, which covers every other crate.
const HOST_ONLY_PACKAGES: [&str; 3] = ["xtask", "qemu-tests", "hypercall-posix"];

/// How one stage ended.
#[derive(Clone, Debug, PartialEq, Eq)]
enum StageResult {
    Passed(Duration),
    Failed(Duration, String),
    Skipped,
}

/// The ordered stages and what they came to.
#[derive(Debug, Default)]
struct Summary {
    stages: Vec<(&'static str, StageResult)>,
}

impl Summary {
    /// Runs `action` as stage `name` unless an earlier stage failed.
    fn stage(&mut self, name: &'static str, action: impl FnOnce() -> Result<(), String>) {
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

    fn skip(&mut self, name: &'static str) {
        self.stages.push((name, StageResult::Skipped));
    }

    fn failed(&self) -> bool {
        self.stages
            .iter()
            .any(|(_, result)| matches!(result, StageResult::Failed(..)))
    }

    /// One line per stage with its time, and the first failure's reason.
    fn render(&self) -> String {
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

/// The `test` verb.
pub fn test_verb(quick: bool) -> Result<(), String> {
    let needs: &[Need] = if quick {
        &[Need::Target, Need::IsoTools]
    } else {
        &[Need::Target, Need::IsoTools, Need::Qemu, Need::NetTools]
    };
    ensure(needs)?;
    let mut summary = Summary::default();
    summary.stage("cargo fmt --check", || {
        run(cargo(&["fmt", "--all", "--check"]))
    });
    summary.stage("clippy (host)", || {
        run(cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    summary.stage("clippy (x86_64-unknown-none)", || {
        run(cargo(&bare_metal_clippy_args()))
    });
    summary.stage("host tests", host_tests);
    let mut images = None;
    summary.stage("images and ISO", || {
        let built = build_images()?;
        let iso = make_iso(&built.appliance, &[])?;
        images = Some((built, iso));
        Ok(())
    });
    match images {
        Some((images, iso)) if !quick => summary.stage("QEMU tests", || qemu_tests(&images, &iso)),
        _ => summary.skip("QEMU tests"),
    }
    eprint!("{}", summary.render());
    if summary.failed() {
        Err("tests failed".to_string())
    } else {
        Ok(())
    }
}

fn bare_metal_clippy_args() -> Vec<&'static str> {
    let mut args = vec![
        "clippy",
        "--release",
        "--target",
        IMAGE_TARGET,
        "--workspace",
    ];
    for package in HOST_ONLY_PACKAGES {
        args.extend(["--exclude", package]);
    }
    args.extend(["--", "-D", "warnings"]);
    args
}

/// `cargo test` (the default members) and qemu-tests' own unit tests.
fn host_tests() -> Result<(), String> {
    run(cargo(&["test"]))?;
    run(cargo(&["test", "-p", "qemu-tests", "--lib"]))
}

fn qemu_tests(images: &Images, iso: &std::path::Path) -> Result<(), String> {
    // Every test file runs even after one fails, so one run shows all failures.
    let args = ["test", "-p", "qemu-tests", "--no-fail-fast", "--test", "*"];
    let mut command = cargo(&args);
    command.args(["--", "--test-threads=2"]);
    command
        .env(IMAGE_ENV, &images.appliance)
        .env(SELFTEST_IMAGE_ENV, &images.selftest)
        .env(ISO_ENV, iso);
    run(command)
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

    #[test]
    fn bare_metal_clippy_covers_all_but_the_host_only_crates() {
        let args = bare_metal_clippy_args().join(" ");
        assert!(
            args.starts_with("clippy --release --target x86_64-unknown-none --workspace"),
            "{args}"
        );
        assert!(
            args.contains("--exclude xtask --exclude qemu-tests --exclude hypercall-posix"),
            "{args}"
        );
        assert!(args.ends_with("-- -D warnings"), "{args}");
    }
}
