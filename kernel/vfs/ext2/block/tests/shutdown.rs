//! A kernel that shuts down with ext2 still mounted read-write, files
//! written and not synced, one unlinked while open: its shutdown unmounts
//! the file system, so the image is clean for e2fsck -fn with its
//! superblock marked clean, and no `e2fsck -p` is needed.

mod common;

use common::boot_vfs;
use common::images::{Scratch, assert_clean, debugfs, debugfs_cat, make_image, pattern};
use ext2_block::Ext2;
use vfs::{MountOptions, OpenFlags, Vfs};

/// What `debugfs -R stats` says of the superblock's state.
fn state(image: &std::path::Path) -> String {
    let stats = debugfs(image, "stats");
    let line = stats
        .lines()
        .find(|line| line.starts_with("Filesystem state:"));
    let line = line.unwrap_or_else(|| panic!("no state in {stats}"));
    line["Filesystem state:".len()..].trim().to_owned()
}

fn write(context: &base::Context<'_>, vfs: &Vfs, path: &str, data: &[u8]) -> vfs::Fd {
    let flags = OpenFlags::CREATE | OpenFlags::WRITE_ONLY;
    let fd = vfs.open(context, path, flags, 0o644).expect(path);
    assert_eq!(vfs.write(context, fd, data), Ok(data.len()));
    fd
}

#[test]
fn shutdown_unmounts_a_writable_ext2_and_leaves_it_clean() {
    let scratch = Scratch::new("shutdown");
    let image = scratch.join("image");
    make_image(&image, 1024, 8 * 1024, None, &[]);
    let big = pattern(3, 300_000);
    let test = boot_vfs("", &[image.display().to_string()]);
    {
        let context = test.kernel.enter().expect("enter");
        let vfs = Vfs::of(&context).expect("the vfs");
        vfs.mkdir(&context, "/disk", 0o755).expect("a mount point");
        let ext2 = Ext2::mount(&context, "vblk0", false).expect("vblk0 mounts");
        vfs.mount(&context, "/disk", ext2, MountOptions::default())
            .expect("mounted");
        let closed = write(&context, &vfs, "/disk/closed.bin", &big);
        vfs.close(&context, closed).expect("close");
        // Left open, one of them without a name: nothing closes them.
        write(&context, &vfs, "/disk/open.txt", b"still open\n");
        write(&context, &vfs, "/disk/gone.bin", &big);
        vfs.unlink(&context, "/disk/gone.bin").expect("unlink");
        assert_eq!(state(&image), "not clean", "mounted read-write");
    }
    test.kernel.shutdown();
    assert!(
        test.console
            .text()
            .contains("vfs: ext2 unmounted from /disk"),
        "{}",
        test.console.text()
    );
    assert_clean(&image);
    assert_eq!(state(&image), "clean");
    assert!(debugfs_cat(&image, "/closed.bin") == big);
    assert_eq!(debugfs_cat(&image, "/open.txt"), b"still open\n");
    assert!(!debugfs(&image, "ls -l /").contains("gone.bin"));
}
