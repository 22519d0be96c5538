//! Where things are: the workspace, the target directory, the images.
//!
//! The target directory is `$CARGO_TARGET_DIR` (made absolute against the
//! current directory, as cargo does) or `<workspace>/target`. Child cargo
//! processes get the absolute path so they agree with us whatever their
//! working directory.

use std::path::{Path, PathBuf};

/// The bare-metal target the images are built for.
pub const IMAGE_TARGET: &str = "x86_64-unknown-none";
/// The appliance image's file name.
pub const APPLIANCE: &str = "anykernel";
/// The selftest image's file name.
pub const SELFTEST: &str = "anykernel-selftest";
/// The kv appliance's binary name (package `kv`, `app/kv`).
pub const KV: &str = "kv";

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory, absolute.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => absolute(Path::new(&dir)),
        _ => workspace_root().join("target"),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Where `cargo build --release --target x86_64-unknown-none` puts the images.
pub fn image_dir() -> PathBuf {
    target_dir().join(IMAGE_TARGET).join("release")
}

/// The GRUB ISO built by `cargo xtask iso`.
pub fn iso_path() -> PathBuf {
    target_dir().join("anykernel.iso")
}

/// The benchmark figures written by `cargo xtask bench`.
pub fn bench_json_path() -> PathBuf {
    target_dir().join("bench.json")
}

/// The site the QEMU tests' appliance serves under `/files/`.
pub fn test_files_dir() -> PathBuf {
    workspace_root().join("qemu-tests").join("files")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml"));
        assert!(manifest.expect("root Cargo.toml").contains("[workspace]"));
    }

    #[test]
    fn images_live_under_the_target_directory() {
        let dir = image_dir();
        assert!(dir.is_absolute(), "{dir:?}");
        assert!(dir.ends_with("x86_64-unknown-none/release"), "{dir:?}");
        assert!(dir.starts_with(target_dir()));
    }
}
