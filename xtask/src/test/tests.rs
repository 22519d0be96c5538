//! Tests of the test verb's stages: the bare-metal clippy line and the
//! rule the root-only stages rely on.

use std::path::{Path, PathBuf};

use super::*;
use crate::paths::workspace_root;

#[test]
fn bare_metal_clippy_covers_all_but_the_host_only_crates() {
    let args = bare_metal_clippy_args().join(" ");
    assert!(
        args.starts_with("clippy --release --target x86_64-unknown-none --workspace"),
        "{args}"
    );
    assert!(
        args.contains(
            "--exclude xtask --exclude qemu-tests --exclude hypercall-posix --exclude fuzz \
             --exclude anykernel-client"
        ),
        "{args}"
    );
    assert!(args.ends_with("-- -D warnings"), "{args}");
}

/// The `.rs` files under `directory`, skipping build output and dot
/// directories.
fn rust_files(directory: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(directory).expect("a readable workspace directory");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, files);
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
}

/// The crate directories `cargo test` covers, from the root Cargo.toml.
fn default_members() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(workspace_root().join("Cargo.toml")).expect("the root Cargo.toml");
    let list = manifest
        .split_once("default-members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("a default-members list")
        .0;
    list.split(',')
        .map(|member| member.trim().trim_matches('"').to_string())
        .filter(|member| !member.is_empty())
        .collect()
}

/// The root-only stages run every ignored test (`--ignored`) of the
/// default members and of qemu-tests' test files: so an ignored test must
/// need root and live where those stages look, or it would run (or never
/// run) by mistake.
#[test]
fn every_ignore_needs_root_and_is_run_by_a_root_only_stage() {
    let root = workspace_root();
    let mut covered = default_members();
    covered.push("qemu-tests/tests".into());
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let attribute = concat!("#[", "ignore");
    let mut found = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let relative = file.strip_prefix(&root).expect("inside the workspace");
        let ignores = text
            .lines()
            .filter(|line| line.trim_start().starts_with(attribute));
        for line in ignores {
            found += 1;
            let place = relative.display();
            assert!(
                line.trim_start()[attribute.len()..].starts_with(" = \"needs root: "),
                "{place}: an ignored test must say `= \"needs root: <what for>\"`"
            );
            let run = covered.iter().any(|member| relative.starts_with(member));
            assert!(run, "{place}: no root-only stage runs its ignored tests");
        }
    }
    assert_ne!(found, 0, "the scan found no root-only test at all");
}

/// As root (CI) the check passes; otherwise it fails with one sentence
/// that names the reason and what to do.
#[test]
fn the_root_check_agrees_with_the_privilege_probe() {
    let reason = missing_privilege(&ROOT_TEST_TOOLS);
    let result = require_root();
    assert_eq!(result.is_ok(), reason.is_none(), "{result:?}");
    if let (Err(message), Some(reason)) = (result, reason) {
        assert!(message.contains(&reason), "{message}");
        assert!(message.ends_with("as CI does"), "{message}");
        assert!(!message.contains(". "), "one sentence: {message}");
    }
}
