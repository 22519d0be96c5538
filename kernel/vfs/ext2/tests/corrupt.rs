//! Damaged images: each kind of damage (set with Linux's debugfs or by
//! patching bytes) gives an error from the call that meets it, never a
//! panic or an endless loop. The `ext2` fuzz target covers the rest.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use ext2::{Error, FileKind, Fs, MemoryDevice, MountOptions};

/// An image with `/file` (20 KiB: an indirect block), `/d/sub`, `/x`.
fn image(scratch: &Scratch) -> std::path::PathBuf {
    let source = scratch.join("source");
    std::fs::create_dir_all(source.join("d/sub")).unwrap();
    std::fs::create_dir(source.join("x")).unwrap();
    std::fs::write(source.join("file"), pattern(1, 20 * 1024)).unwrap();
    let image = scratch.join("image");
    make_image(&image, 1024, 1024, Some(&source), &["-N", "64"]);
    image
}

/// Runs a writing debugfs request on `image`.
fn damage(image: &Path, request: &str) {
    let output = std::process::Command::new(program("debugfs"))
        .args(["-w", "-R", request])
        .arg(image)
        .output()
        .expect("debugfs runs");
    assert!(output.status.success(), "debugfs {request} failed");
}

fn mount_bytes(bytes: Vec<u8>) -> ext2::Result<Fs<MemoryDevice>> {
    Fs::mount(MemoryDevice::new(bytes), MountOptions::default())
}

/// Visits every reachable inode once; returns how many.
fn walk<D: ext2::BlockDevice>(fs: &Fs<D>) -> usize {
    let mut seen = BTreeSet::new();
    let mut stack = vec![fs.root()];
    while let Some(inode) = stack.pop() {
        if !seen.insert(inode) {
            continue;
        }
        if fs
            .getattr(inode)
            .is_ok_and(|a| a.kind == FileKind::Directory)
        {
            let _ = fs.readdir(inode, 0, |entry| {
                stack.push(entry.inode);
                true
            });
        }
    }
    seen.len()
}

#[test]
fn a_damaged_superblock_refuses_the_mount() {
    let scratch = Scratch::new("superblock");
    let image = image(&scratch);
    let clean = std::fs::read(&image).unwrap();
    let mut garbage = clean.clone();
    garbage[1024..2048].copy_from_slice(&pattern(7, 1024));
    assert!(matches!(mount_bytes(garbage), Err(Error::BadSuperblock(_))));
    for request in [
        "ssv blocks_per_group 0",
        "ssv blocks_count 4000000000",
        "ssv inodes_count 99",
        "ssv log_block_size 9",
        "ssv inode_size 100",
        "ssv first_ino 1",
        "ssv rev_level 7",
    ] {
        std::fs::write(&image, &clean).unwrap();
        damage(&image, request);
        let result = mount_bytes(std::fs::read(&image).unwrap());
        assert!(
            matches!(result, Err(Error::BadSuperblock(_))),
            "{request}: {result:?}"
        );
    }
    // A device shorter than the file system it holds.
    assert!(matches!(
        mount_bytes(clean[..300 * 1024].to_vec()),
        Err(Error::BadSuperblock(_))
    ));
}

#[test]
fn damaged_group_descriptors_refuse_the_mount() {
    let scratch = Scratch::new("groups");
    let image = image(&scratch);
    let clean = std::fs::read(&image).unwrap();
    for request in [
        "set_bg 0 inode_table 5000",
        "set_bg 0 block_bitmap 0",
        "set_bg 0 inode_bitmap 3",
    ] {
        std::fs::write(&image, &clean).unwrap();
        damage(&image, request);
        let result = mount_bytes(std::fs::read(&image).unwrap());
        assert!(
            matches!(result, Err(Error::Corrupt(_))),
            "{request}: {result:?}"
        );
    }
}

/// The image's bytes with `patch` applied to the first block of `path`.
fn patch_block(image: &Path, path: &str, patch: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let block: usize = debugfs(image, &format!("bmap {path} 0"))
        .trim()
        .parse()
        .unwrap();
    let mut bytes = std::fs::read(image).unwrap();
    patch(&mut bytes[block * 1024..(block + 1) * 1024]);
    bytes
}

#[test]
fn bad_directory_entries_give_eio() {
    let scratch = Scratch::new("entries");
    let image = image(&scratch);
    let patches: [fn(&mut [u8]); 4] = [
        |block| block[4..6].copy_from_slice(&3u16.to_le_bytes()),
        |block| block[4..6].copy_from_slice(&0u16.to_le_bytes()),
        |block| block[16..18].copy_from_slice(&2000u16.to_le_bytes()),
        |block| block[18] = 200,
    ];
    for patch in patches {
        let mut fs = mount_bytes(patch_block(&image, "/", patch)).unwrap();
        let root = fs.root();
        assert!(matches!(fs.lookup(root, b"file"), Err(Error::Corrupt(_))));
        assert!(matches!(
            fs.readdir(root, 0, |_| true),
            Err(Error::Corrupt(_))
        ));
        assert!(matches!(
            fs.create(root, b"new", access(0o644)),
            Err(Error::Corrupt(_))
        ));
        assert_eq!(Error::Corrupt("").errno(), 5);
        fs.unmount().unwrap();
    }
    // An entry naming an inode past the last one.
    let bytes = patch_block(&image, "/", |block| {
        block[0..4].copy_from_slice(&9999u32.to_le_bytes())
    });
    let fs = mount_bytes(bytes).unwrap();
    assert!(matches!(fs.lookup(fs.root(), b"x"), Err(Error::Corrupt(_))));
}

#[test]
fn block_pointers_out_of_range_give_eio_on_read_write_and_free() {
    let scratch = Scratch::new("pointers");
    let image = image(&scratch);
    damage(&image, "sif /file block[2] 999999");
    damage(&image, "sif /file block[IND] 4000000000");
    let mut fs = mount(&image);
    let file = resolve(&fs, "/file").unwrap();
    let mut buf = vec![0; 20 * 1024];
    assert_eq!(fs.read_at(file, 0, &mut buf[..2048]), Ok(2048));
    assert!(matches!(
        fs.read_at(file, 0, &mut buf),
        Err(Error::Corrupt(_))
    ));
    assert!(matches!(
        fs.write_at(file, 13 * 1024, b"x"),
        Err(Error::Corrupt(_))
    ));
    assert!(matches!(fs.truncate(file, 0), Err(Error::Corrupt(_))));
    let _ = fs.unlink(fs.root(), b"file");
    fs.unmount().unwrap();
}

#[test]
fn directory_loops_and_absurd_sizes_end_with_errors() {
    let scratch = Scratch::new("loops");
    let image = image(&scratch);
    // /d/sub's `..` points at /d/sub itself; /d/sub/up is /d again.
    let sub = debugfs(&image, "stat /d/sub");
    let sub: u32 = sub
        .split("Inode: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    damage(&image, "link /d /d/sub/up");
    let bytes = patch_block(&image, "/d/sub", |block| {
        block[12..16].copy_from_slice(&sub.to_le_bytes())
    });
    let mut fs = mount_bytes(bytes).unwrap();
    // root, lost+found, d, sub, x, file: each once.
    assert_eq!(walk(&fs), 6);
    let root = fs.root();
    let sub_inode = resolve(&fs, "/d/sub").unwrap();
    assert_eq!(fs.rename(root, b"x", sub_inode, b"moved"), Err(Error::Loop));
    drop(fs);

    damage(&image, "sif /file size 0xFFFFFFFF");
    damage(&image, "sif /file size_hi 0xFFFFFFF");
    damage(&image, "sif /d size 0x7FFFFC00");
    let mut fs = mount(&image);
    let file = resolve(&fs, "/file").unwrap();
    let size = fs.getattr(file).unwrap().size;
    let mut buf = [1u8; 512];
    let mappable = fs.max_file_size();
    assert!(size > mappable);
    assert_eq!(fs.read_at(file, size - 512, &mut buf), Ok(0));
    assert_eq!(fs.read_at(file, mappable - 512, &mut buf), Ok(512));
    assert!(buf.iter().all(|byte| *byte == 0));
    assert_eq!(fs.write_at(file, size, b"x"), Err(Error::FileTooBig));
    let d = fs.lookup(root, b"d").unwrap();
    assert!(matches!(fs.readdir(d, 0, |_| true), Err(Error::Corrupt(_))));
    fs.unmount().unwrap();
}
