//! `cargo xtask test [--quick]`: every check CI runs, in order.
//!
//! Stages: formatting, clippy for the host and for the bare-metal target,
//! the documentation with warnings denied, host tests, the fuzz targets
//! for a bounded time, images + ISO, the QEMU tests, and last the tests
//! that need root (tap devices, network namespaces): those are
//! `#[ignore = "needs root: …"]`, so `cargo test` leaves them out, and
//! their stages fail when not run as root (CI runs as root). `--quick`
//! skips everything that boots QEMU. The first failing stage stops the
//! run; a summary with per-stage timings ends it either way. QEMU tests run
//! at most two at a time: two cores. `--app NAME` checks one application
//! instead (app.rs).

mod app;
mod summary;

pub use app::app_test_verb;

use qemu_tests::netns::missing_privilege;
use qemu_tests::{IMAGE_ENV, ISO_ENV, KV_IMAGE_ENV, SELFTEST_IMAGE_ENV};

use crate::build::{Images, build_images_with};
use crate::command::{cargo, run};
use crate::iso::make_iso;
use crate::paths::IMAGE_TARGET;
use crate::setup::{Need, ensure};
use summary::Summary;

/// Workspace members that only build for the host (std): left out of the
/// bare-metal clippy run, which covers every other crate.
const HOST_ONLY_PACKAGES: [&str; 7] = [
    "xtask",
    "qemu-tests",
    "hypercall-posix",
    "fuzz",
    "anykernel-client",
    "anykernel-hijack",
    "anykernel-fs",
];

/// What the root-only tests run besides `ip`: Linux's tools as peers
/// (iptables filters the path MTU test's ICMP).
const ROOT_TEST_TOOLS: [&str; 8] = [
    "ping", "curl", "dnsmasq", "openssl", "iptables", "radvd", "nc", "python3",
];

/// The `test` verb.
pub fn test_verb(quick: bool) -> Result<(), String> {
    let needs: &[Need] = if quick {
        &[Need::Target, Need::IsoTools, Need::NetTools, Need::FsTools]
    } else {
        &[
            Need::Target,
            Need::IsoTools,
            Need::Qemu,
            Need::NetTools,
            Need::KvClients,
            Need::FsTools,
        ]
    };
    ensure(needs)?;
    let mut summary = Summary::default();
    lint_stages(&mut summary);
    summary.stage("host tests", host_tests);
    summary.stage("fuzz targets (bounded)", crate::fuzz::bounded_fuzzing);
    let mut images = None;
    summary.stage("images and ISO", || {
        // The appliance under test serves the test site (qemu-tests/files).
        let built = build_images_with(Some(&crate::paths::test_files_dir()))?;
        let iso = make_iso(&built.appliance, &[])?;
        images = Some((built, iso));
        Ok(())
    });
    let images = images.filter(|_| !quick);
    match &images {
        Some((images, iso)) => summary.stage("QEMU tests", || qemu_tests(images, iso, false)),
        None => summary.skip("QEMU tests"),
    }
    if quick {
        summary.skip("configuration matrix");
    } else {
        summary.stage("configuration matrix", crate::matrix::run_matrix);
    }
    summary.stage("root-only tests (host)", root_host_tests);
    match &images {
        Some((images, iso)) => summary.stage("root-only tests (QEMU)", || {
            require_root()?;
            qemu_tests(images, iso, true)
        }),
        None => summary.skip("root-only tests (QEMU)"),
    }
    eprint!("{}", summary.render());
    if summary.failed() {
        Err("tests failed".to_string())
    } else {
        Ok(())
    }
}

/// Formatting, clippy on both targets, and the documentation.
fn lint_stages(summary: &mut Summary) {
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
    summary.stage("cargo doc (warnings denied)", || {
        let mut command = cargo(&["doc", "--workspace", "--no-deps"]);
        command.env("RUSTDOCFLAGS", "-D warnings");
        run(command)
    });
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
/// The fuzz targets only make sure they run here: the next stage fuzzes.
fn host_tests() -> Result<(), String> {
    let mut command = cargo(&["test"]);
    crate::fuzz::bounded_by(&mut command, 200);
    run(command)?;
    run(cargo(&["test", "-p", "qemu-tests", "--lib"]))
}

/// Fails with one sentence unless this process may create taps and
/// network namespaces and finds the peers' tools.
fn require_root() -> Result<(), String> {
    match missing_privilege(&ROOT_TEST_TOOLS) {
        None => Ok(()),
        Some(reason) => Err(format!(
            "the root-only tests cannot run ({reason}): run `cargo xtask test` as root, as CI does"
        )),
    }
}

/// The ignored tests of every default member's test targets: every
/// `#[ignore]` in the workspace needs root (`every_ignore_needs_root`).
/// `--tests` leaves the doctests out, whose `ignore` blocks are not tests.
fn root_host_tests() -> Result<(), String> {
    require_root()?;
    run(cargo(&["test", "--tests", "--", "--ignored"]))
}

/// The QEMU tests: the ordinary ones, or (`ignored`) those that need root.
fn qemu_tests(images: &Images, iso: &std::path::Path, ignored: bool) -> Result<(), String> {
    // Every test file runs even after one fails, so one run shows all failures.
    let args = ["test", "-p", "qemu-tests", "--no-fail-fast", "--test", "*"];
    let mut command = cargo(&args);
    command.args(["--", "--test-threads=2"]);
    if ignored {
        command.arg("--ignored");
    }
    command
        .env(IMAGE_ENV, &images.appliance)
        .env(SELFTEST_IMAGE_ENV, &images.selftest)
        .env(KV_IMAGE_ENV, &images.kv)
        .env(ISO_ENV, iso);
    run(command)
}

#[cfg(test)]
mod tests;
