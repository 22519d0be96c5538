//! Images made by Linux's `mke2fs -d` read back exactly, at 1 KiB and
//! 4 KiB blocks, an htree-indexed directory included; features we do
//! not know refuse the mount or make it read-only.

mod common;

use common::*;
use ext2::{Error, Fs, MemoryDevice, MountOptions, ReadOnlyReason};

fn read_back(block_size: u32) {
    let scratch = Scratch::new("read");
    let source = scratch.join("source");
    std::fs::create_dir(&source).expect("a source directory");
    populate(&source);
    let image = scratch.join("image");
    make_image(&image, block_size, 32 * 1024, Some(&source), &[]);
    let options = MountOptions {
        read_only: true,
        clock: None,
    };
    let mut fs = Fs::mount(FileDevice::open(&image), options).expect("the image mounts");
    assert_eq!(fs.read_only_reason(), Some(ReadOnlyReason::Requested));
    assert_same_tree(&fs, fs.root(), &source);
    let empty = resolve(&fs, "/empty").unwrap();
    assert_eq!(fs.write_at(empty, 0, b"x"), Err(Error::ReadOnly));
    fs.unmount().expect("unmounts");
    assert_clean(&image);
}

#[test]
fn a_mke2fs_tree_reads_back_exactly_with_1k_blocks() {
    read_back(1024);
}

#[test]
fn a_mke2fs_tree_reads_back_exactly_with_4k_blocks() {
    read_back(4096);
}

#[test]
fn mounting_read_write_and_unmounting_leaves_the_image_clean() {
    let scratch = Scratch::new("clean");
    let image = empty_image(&scratch, 1024, 4096);
    let fs = mount(&image);
    let state = debugfs(&image, "stats");
    assert!(
        state.contains("Filesystem state:         not clean"),
        "{state}"
    );
    fs.unmount().expect("unmounts");
    let state = debugfs(&image, "stats");
    assert!(state.contains("Filesystem state:         clean"), "{state}");
    assert_clean(&image);
}

#[test]
fn an_htree_indexed_directory_reads_as_linear() {
    let scratch = Scratch::new("htree");
    let source = scratch.join("source");
    std::fs::create_dir_all(source.join("big")).expect("a directory");
    for index in 0..2000 {
        let name = format!("big/entry-with-a-long-name-{index:05}");
        std::fs::write(source.join(name), index.to_string()).expect("a file");
    }
    let image = scratch.join("image");
    make_image(&image, 1024, 16 * 1024, Some(&source), &[]);
    // e2fsck -D builds the index of every directory large enough.
    let status = std::process::Command::new(program("e2fsck"))
        .arg("-fyD")
        .arg(&image)
        .output()
        .expect("e2fsck runs");
    assert!(status.status.code().is_some_and(|code| code <= 1));
    let flags = debugfs(&image, "stat /big");
    assert!(flags.contains("Flags: 0x1000"), "not indexed: {flags}");
    let mut fs = mount(&image);
    assert_same_tree(&fs, fs.root(), &source);
    // Writing keeps it a valid (linear) directory.
    let big = resolve(&fs, "/big").unwrap();
    fs.create(big, b"new-entry", access(0o644))
        .expect("created");
    fs.unlink(big, b"entry-with-a-long-name-00007")
        .expect("removed");
    assert!(fs.lookup(big, b"new-entry").is_ok());
    assert_eq!(names(&fs, big).len(), 2000);
    fs.unmount().expect("unmounts");
    assert_clean(&image);
}

/// The image with `mask` ored into the superblock field at `offset`.
fn with_feature(offset: usize, mask: u32) -> Vec<u8> {
    let scratch = Scratch::new("feature");
    let image = empty_image(&scratch, 1024, 2048);
    let mut bytes = std::fs::read(&image).expect("the image");
    let at = 1024 + offset;
    let value = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) | mask;
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    bytes
}

#[test]
fn unknown_incompatible_features_refuse_the_mount_by_name() {
    let bytes = with_feature(96, 0x40 | 0x0080_0000);
    let error = Fs::mount(MemoryDevice::new(bytes), MountOptions::default()).unwrap_err();
    assert_eq!(error, Error::UnsupportedFeatures(0x40 | 0x0080_0000));
    let message = error.to_string();
    assert!(
        message.contains("extent") && message.contains("0x800000"),
        "{message}"
    );
}

#[test]
fn unknown_read_only_features_mount_read_only() {
    let bytes = with_feature(100, 0x0400);
    let mut fs = Fs::mount(MemoryDevice::new(bytes), MountOptions::default()).expect("mounts");
    assert_eq!(
        fs.read_only_reason(),
        Some(ReadOnlyReason::UnknownFeatures(0x400))
    );
    assert_eq!(
        fs.mkdir(fs.root(), b"d", access(0o755)),
        Err(Error::ReadOnly)
    );
    assert_eq!(names(&fs, fs.root()), ["lost+found"]);
}
