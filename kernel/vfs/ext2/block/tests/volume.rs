//! ext2 on the block layer: images made by mke2fs on a host-file disk
//! (`hypercall-posix`'s `--disk`) read back exactly through the buffer
//! cache; what we write reaches the file at unmount, where e2fsck finds it
//! clean and debugfs reads it; read-only disks, failing sectors and disks
//! without ext2 give errors, not panics.

mod common;

use block::{Block, BlockError, CacheStats};
use common::blocks_of;
use common::disks::boot;
use common::images::{
    Scratch, access, assert_clean, assert_same_tree, debugfs_cat, empty_image, make_image, pattern,
    populate, read_all, resolve,
};
use ext2::{Error, MountOptions, ReadOnlyReason};
use ext2_block::{MountError, mount, open_volume};

fn read_write() -> MountOptions {
    MountOptions {
        read_only: false,
        clock: Some(common::images::clock()),
    }
}

fn read_back(block_size: u32) {
    let scratch = Scratch::new("volume-read");
    let source = scratch.join("source");
    std::fs::create_dir(&source).expect("a source directory");
    populate(&source);
    let image = scratch.join("image");
    make_image(&image, block_size, 32 * 1024, Some(&source), &[]);
    let test = boot("", &[image.display().to_string()]);
    let context = test.kernel.enter().expect("enter");
    let options = MountOptions {
        read_only: true,
        clock: None,
    };
    let fs = mount(&context, "vblk0", options).expect("vblk0 mounts");
    let volume = fs.device().volume();
    assert_eq!(
        volume.block_size(),
        block_size as usize,
        "one buffer a block"
    );
    assert_same_tree(&fs, fs.root(), &source);
    let stats = Block::of(&context).expect("linked").cache_stats(&context);
    assert!(stats.hits > 0 && stats.read_ahead > 0, "{stats:?}");
    assert_eq!(fs.device().last_error(), None);
    fs.unmount().expect("unmounts");
}

#[test]
fn a_mke2fs_tree_reads_back_exactly_through_the_cache_with_1k_blocks() {
    read_back(1024);
}

#[test]
fn a_mke2fs_tree_reads_back_exactly_through_the_cache_with_4k_blocks() {
    read_back(4096);
}

/// Creates, writes, links and removes on vblk0 of a fresh image; returns
/// what `/big` holds.
fn write_tree(context: &base::Context<'_>) -> Vec<u8> {
    let mut fs = mount(context, "vblk0", read_write()).expect("vblk0 mounts");
    let root = fs.root();
    let directory = fs.mkdir(root, b"dir", access(0o755)).expect("mkdir");
    let big = fs.create(directory, b"big", access(0o644)).expect("create");
    let data = pattern(7, 3 << 20);
    for (index, chunk) in data.chunks(100_000).enumerate() {
        let offset = (index * 100_000) as u64;
        assert_eq!(fs.write_at(big, offset, chunk), Ok(chunk.len()));
    }
    let small = fs.create(root, b"small", access(0o600)).expect("create");
    assert_eq!(fs.write_at(small, 0, b"through the cache\n"), Ok(18));
    fs.symlink(root, b"link", b"dir/big", access(0o777))
        .expect("symlink");
    let doomed = fs.create(root, b"doomed", access(0o644)).expect("create");
    assert_eq!(fs.write_at(doomed, 0, &pattern(8, 50_000)), Ok(50_000));
    fs.unlink(root, b"doomed").expect("unlink");
    assert_eq!(read_all(&fs, big), data);
    fs.unmount().expect("unmounts: written back and flushed");
    data
}

/// Writes a tree on a fresh image under `params`, unmounts, and has
/// Linux judge the image; returns the cache's statistics at unmount.
fn write_and_judge(block_size: u32, params: &str) -> CacheStats {
    let scratch = Scratch::new("volume-write");
    let image = empty_image(&scratch, block_size, 16 * 1024);
    let test = boot(params, &[image.display().to_string()]);
    let context = test.kernel.enter().expect("enter");
    let data = write_tree(&context);
    let stats = Block::of(&context).expect("linked").cache_stats(&context);
    assert_eq!(stats.dirty_bytes, 0, "unmount wrote everything back");
    assert!(stats.syncs > 0, "{stats:?}");
    assert!(stats.peak_bytes <= stats.limit, "{stats:?}");
    // Judged while the kernel still runs: unmount alone put it on the file.
    drop(context);
    assert_clean(&image);
    assert_eq!(debugfs_cat(&image, "/dir/big"), data);
    assert_eq!(debugfs_cat(&image, "/small"), b"through the cache\n");
    assert!(debugfs_cat(&image, "/doomed").is_empty());
    stats
}

#[test]
fn written_files_reach_the_image_at_unmount_and_e2fsck_finds_it_clean() {
    write_and_judge(1024, "");
    write_and_judge(4096, "");
}

#[test]
fn a_file_larger_than_the_cache_is_written_within_its_bound() {
    let stats = write_and_judge(4096, "bcache=256K");
    assert_eq!(stats.limit, 256 * 1024);
    assert!(stats.evictions > 0 && stats.writebacks > 0, "{stats:?}");
}

#[test]
fn a_read_only_disk_mounts_read_only_and_stays_unchanged() {
    let scratch = Scratch::new("volume-ro");
    let image = empty_image(&scratch, 1024, 4096);
    let before = std::fs::read(&image).expect("the image");
    let test = boot("", &[format!("{},ro", image.display())]);
    let context = test.kernel.enter().expect("enter");
    let mut fs = mount(&context, "vblk0", read_write()).expect("mounts");
    assert_eq!(fs.read_only_reason(), Some(ReadOnlyReason::Requested));
    let root = fs.root();
    assert_eq!(fs.create(root, b"new", access(0o644)), Err(Error::ReadOnly));
    fs.unmount().expect("unmounts");
    drop(context);
    drop(test);
    assert!(std::fs::read(&image).expect("the image") == before);
}

#[test]
fn failing_sectors_under_a_file_give_eio_and_the_rest_reads() {
    let scratch = Scratch::new("volume-fail");
    let source = scratch.join("source");
    std::fs::create_dir(&source).expect("a source directory");
    std::fs::write(source.join("bad"), pattern(1, 20_000)).expect("a file");
    std::fs::write(source.join("good"), pattern(2, 5_000)).expect("a file");
    let image = scratch.join("image");
    make_image(&image, 1024, 4096, Some(&source), &[]);
    let sector = blocks_of(&image, "/bad")[3] * 2;
    let spec = format!("{},fail={sector}-{}", image.display(), sector + 1);
    let test = boot("", &[spec]);
    let context = test.kernel.enter().expect("enter");
    let fs = mount(&context, "vblk0", MountOptions::default()).expect("mounts");
    let bad = resolve(&fs, "/bad").expect("found");
    let mut buffer = vec![0; 20_000];
    assert_eq!(fs.read_at(bad, 0, &mut buffer), Err(Error::Io));
    assert_eq!(fs.device().last_error(), Some(BlockError::Io));
    let good = resolve(&fs, "/good").expect("found");
    assert_eq!(read_all(&fs, good), pattern(2, 5_000));
    fs.unmount().expect("unmounts");
}

#[test]
fn missing_disks_and_disks_without_ext2_are_errors() {
    let scratch = Scratch::new("volume-none");
    let zeros = scratch.join("zeros");
    std::fs::write(&zeros, vec![0; 1 << 20]).expect("a blank disk");
    let tiny = scratch.join("tiny");
    std::fs::write(&tiny, vec![0; 1024]).expect("a tiny disk");
    let specs = [zeros.display().to_string(), tiny.display().to_string()];
    let test = boot("", &specs);
    let context = test.kernel.enter().expect("enter");
    let missing = mount(&context, "vblk9", MountOptions::default());
    assert_eq!(missing.err(), Some(MountError::Block(BlockError::NoDevice)));
    let volume = open_volume(&context, "vblk0").expect("a volume");
    assert_eq!(volume.block_size(), 512, "no superblock: the sector size");
    for disk in ["vblk0", "vblk1"] {
        let refused = mount(&context, disk, MountOptions::default()).err();
        assert!(
            matches!(refused, Some(MountError::Ext2(_))),
            "{disk}: {refused:?}"
        );
    }
}
