//! Fuzzing: the bounded stage of `cargo xtask test`, and `cargo xtask fuzz`.
//!
//! The targets are the `fuzz` crate's test files (bolero) and the hosted
//! frame fuzzer `kernel/tests/net_fuzz.rs`. On stable both run on random
//! inputs for a set time: that is what CI does, about 45 s in all on two
//! cores. `cargo xtask fuzz --seconds N` runs each target N seconds, and
//! coverage-guided under libFuzzer when `cargo-bolero` and a nightly
//! toolchain are installed (`cargo install cargo-bolero`).

use std::process::Command;

use crate::command::{cargo, find_program, output, run, tool};

/// The fuzz crate's test files and the seconds each of their targets gets
/// in CI: the parsers are cheap, the engines and the stack deep.
const TARGETS: [(&str, u64); 10] = [
    ("wire", 2),
    ("acpi", 2),
    ("dhcp", 4),
    ("dns", 2),
    ("bootinfo", 4),
    ("tcp", 8),
    ("stack", 8),
    ("ipv6", 8),
    ("ext2", 4),
    ("sysproxy", 2),
];

/// The hosted frame fuzzer's seconds in CI.
const FRAME_FUZZER_SECONDS: u64 = 10;

/// Bounds the random runs of a `cargo test`: bolero's time per target
/// and the frame fuzzer's duration (whole seconds, at least one).
pub fn bounded_by(command: &mut Command, milliseconds: u64) {
    let seconds = milliseconds.div_ceil(1_000).max(1);
    command
        .env("BOLERO_RANDOM_TEST_TIME_MS", milliseconds.to_string())
        .env("ANYKERNEL_FUZZ_SECONDS", seconds.to_string());
}

/// One fuzz test file on random inputs, `seconds` per target.
fn random_inputs(target: &str, seconds: u64) -> Command {
    let mut command = cargo(&["test", "-p", "fuzz", "--test", target]);
    command.args(["--", "--test-threads=2"]);
    bounded_by(&mut command, seconds * 1_000);
    command
}

/// The hosted frame fuzzer for `seconds`.
fn frame_fuzzer(seconds: u64) -> Command {
    let args = [
        "test",
        "-p",
        "kernel",
        "--test",
        "net_fuzz",
        "--",
        "--nocapture",
    ];
    let mut command = cargo(&args);
    bounded_by(&mut command, seconds * 1_000);
    command
}

/// The stage of `cargo xtask test`: every target for its CI time.
pub fn bounded_fuzzing() -> Result<(), String> {
    for (target, seconds) in TARGETS {
        run(random_inputs(target, seconds))?;
    }
    run(frame_fuzzer(FRAME_FUZZER_SECONDS))
}

/// Why coverage-guided runs are not possible here, or `None` if they are.
fn coverage_guided_missing() -> Option<&'static str> {
    if find_program("cargo-bolero").is_none() {
        return Some("cargo-bolero is not installed");
    }
    let toolchains = output(tool("rustup", &["toolchain", "list"])).ok()?;
    let nightly = String::from_utf8_lossy(&toolchains.stdout).contains("nightly");
    (!nightly).then_some("no nightly toolchain")
}

/// The fuzz crate's targets, as `cargo bolero list` names them: one
/// `{"package":"fuzz","test":"<name>"}` line each.
fn target_names() -> Result<Vec<String>, String> {
    let listed = output(cargo(&["bolero", "list", "-p", "fuzz", "--profile", "dev"]))?;
    let text = String::from_utf8_lossy(&listed.stdout);
    let names = text
        .lines()
        .filter_map(|line| line.split_once("\"test\":\"")?.1.split_once('"'))
        .map(|(name, _)| name.to_string());
    Ok(names.collect())
}

/// One target under libFuzzer (nightly, through cargo-bolero). The `dev`
/// profile keeps overflow checks and debug assertions on.
fn coverage_guided(name: &str, seconds: u64) -> Command {
    let time = format!("{seconds}s");
    let args = ["bolero", "test", name, "-p", "fuzz", "--profile", "dev"];
    let mut command = cargo(&args);
    command.args(["-T", &time, "--toolchain", "nightly"]);
    command
}

/// The `fuzz` verb: every target for `seconds`, coverage-guided if it can.
pub fn fuzz_verb(seconds: u64) -> Result<(), String> {
    // The ext2 target makes its image with mke2fs.
    crate::setup::ensure(&[crate::setup::Need::FsTools])?;
    match coverage_guided_missing() {
        Some(reason) => {
            eprintln!(
                "fuzz: random inputs ({reason}; `cargo install cargo-bolero` and a nightly \
                 toolchain make the runs coverage-guided)"
            );
            for (target, _) in TARGETS {
                run(random_inputs(target, seconds))?;
            }
        }
        None => {
            for name in target_names()? {
                run(coverage_guided(&name, seconds))?;
            }
        }
    }
    run(frame_fuzzer(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The targets in the fuzz crate's test file `target`.
    fn targets_in(target: &str) -> usize {
        let tests = crate::paths::workspace_root().join("xtask/fuzz/tests");
        let file = tests.join(format!("{target}.rs"));
        let file = if file.exists() {
            file
        } else {
            tests.join(target).join("main.rs")
        };
        let text = std::fs::read_to_string(&file).expect("the fuzz test file");
        text.matches("check!()").count()
    }

    /// What the fuzz stage may take in CI, at most, on two cores.
    const CI_BUDGET_SECONDS: u64 = 75;

    #[test]
    fn ci_fuzzing_fits_its_budget_on_two_cores() {
        // The targets of one file run two at a time.
        let mut seconds = FRAME_FUZZER_SECONDS;
        for (target, each) in TARGETS {
            let count = targets_in(target);
            assert_ne!(count, 0, "{target} has no targets");
            seconds += each * (count as u64).div_ceil(2);
        }
        assert!(
            seconds <= CI_BUDGET_SECONDS,
            "{seconds} s of fuzzing in CI, over {CI_BUDGET_SECONDS} s"
        );
    }

    #[test]
    fn every_fuzz_test_file_has_a_ci_time() {
        let directory = crate::paths::workspace_root().join("xtask/fuzz/tests");
        let mut files: Vec<String> = std::fs::read_dir(directory)
            .expect("xtask/fuzz/tests")
            .map(|entry| entry.expect("an entry").path())
            .filter(|path| {
                path.extension().is_some_and(|e| e == "rs") || path.join("main.rs").exists()
            })
            .filter_map(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
            .collect();
        files.sort();
        let mut listed: Vec<String> = TARGETS.iter().map(|(name, _)| name.to_string()).collect();
        listed.sort();
        assert_eq!(files, listed);
    }
}
