//! Packs the directory named by `ANYKERNEL_FILES` into the archive the
//! appliance bakes into its image and mounts at `/www` (cpiofs).
//!
//! `cargo xtask run --files DIR` sets the variable; any build can
//! (`ANYKERNEL_FILES=site cargo build -p app`). Without it the archive is
//! empty. The archive is "newc" cpio: regular files, directories and
//! symbolic links, sorted by path so that a tree gives the same image
//! bytes every time; modes and modification times are kept.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The variable naming the directory to bake in.
const VARIABLE: &str = "ANYKERNEL_FILES";

fn main() {
    println!("cargo:rerun-if-env-changed={VARIABLE}");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let archive = match std::env::var_os(VARIABLE).filter(|value| !value.is_empty()) {
        Some(directory) => {
            let directory = PathBuf::from(directory);
            // Cargo watches a directory's whole tree for changes.
            println!("cargo:rerun-if-changed={}", directory.display());
            pack(&directory)
                .unwrap_or_else(|error| panic!("{VARIABLE}={}: {error}", directory.display()))
        }
        None => cpio::newc::trailer(Vec::new()).expect("an archive in memory"),
    };
    fs::write(out.join("files.cpio"), archive).expect("OUT_DIR is writable");
}

/// The archive of everything below `root` (`root` itself as `.`).
fn pack(root: &Path) -> std::io::Result<Vec<u8>> {
    let mut paths = Vec::new();
    walk(root, root, &mut paths)?;
    paths.sort();
    let mut bytes = Vec::new();
    for (index, relative) in paths.iter().enumerate() {
        let inode = u32::try_from(index + 1).map_err(|_| too_large("files"))?;
        bytes = append(bytes, root, relative, inode)?;
    }
    cpio::newc::trailer(bytes)
}

/// Collects the paths below `directory`, relative to `root`.
fn walk(root: &Path, directory: &Path, paths: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(directory)? {
        let path = entry?.path();
        let relative = path.strip_prefix(root).expect("below root").to_path_buf();
        if fs::symlink_metadata(&path)?.is_dir() {
            walk(root, &path, paths)?;
        }
        paths.push(relative);
    }
    Ok(())
}

/// `bytes` with the entry for `relative` appended.
fn append(bytes: Vec<u8>, root: &Path, relative: &Path, inode: u32) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let path = root.join(relative);
    let metadata = fs::symlink_metadata(&path)?;
    let permissions = metadata.permissions().mode() & 0o7777;
    let (kind, data) = if metadata.is_dir() {
        (0o040_000, Vec::new())
    } else if metadata.file_type().is_symlink() {
        (
            0o120_000,
            fs::read_link(&path)?.into_os_string().into_encoded_bytes(),
        )
    } else {
        (0o100_000, fs::read(&path)?)
    };
    let size = u32::try_from(data.len()).map_err(|_| too_large(&path.display().to_string()))?;
    let name = relative
        .to_str()
        .ok_or_else(|| too_large("a name that is not UTF-8"))?;
    let mtime = u32::try_from(metadata.mtime().max(0)).unwrap_or(u32::MAX);
    let mut writer = cpio::newc::Builder::new(name)
        .ino(inode)
        .mode(kind | permissions)
        .nlink(if metadata.is_dir() { 2 } else { 1 })
        .mtime(mtime)
        .write(bytes, size);
    writer.write_all(&data)?;
    writer.finish()
}

fn too_large(what: &str) -> std::io::Error {
    std::io::Error::other(format!("{what} does not fit a newc cpio archive"))
}
