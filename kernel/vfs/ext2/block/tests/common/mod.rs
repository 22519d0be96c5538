//! Hosted kernels with the block layer and disks on ext2 images made by
//! Linux's mke2fs; the ext2 crate's own test helpers make and judge them.

#![allow(dead_code, reason = "each test file uses part of this module")]

// Images from mke2fs, e2fsck and debugfs as judges, and the trees the
// ext2 crate's read tests compare: the same helpers, not a copy.
#[path = "../../../tests/common/mod.rs"]
pub mod images;

// Hosted kernels with disks on host files: the block layer's test
// helpers, not a copy.
#[path = "../../../../../block/tests/common/mod.rs"]
pub mod disks;

use disks::{TestKernel, boot_with};

use base::memory::pagedaemon::PAGEDAEMON;

/// As [`disks::boot`] (the pagedaemon, the block layer, `params` and the disks
/// `specs`, `PATH[,ro][,fail=A-B]`), with the vfs and tmpfs at the root as well.
pub fn boot_vfs(params: &str, specs: &[String]) -> TestKernel {
    let components = [&PAGEDAEMON, &block::BLOCK, &vfs::VFS, &tmpfs::TMPFS];
    boot_with(params, specs, &components)
}

/// The file system blocks debugfs says `path` of `image` holds.
pub fn blocks_of(image: &std::path::Path, path: &str) -> Vec<u64> {
    let listing = images::debugfs(image, &format!("blocks {path}"));
    let blocks: Vec<u64> = listing
        .split_whitespace()
        .map(|word| word.parse().expect("a block number"))
        .collect();
    assert!(!blocks.is_empty(), "debugfs lists no blocks of {path}");
    blocks
}
