//! ext2 mounted in the vfs: the file calls on a host-file disk made by
//! mke2fs -d, from more than one context; the image e2fsck -fn clean and
//! read back by debugfs after the vfs unmounts it.

mod common;

use common::boot_vfs;
use common::images::{
    Scratch, assert_clean, debugfs, debugfs_cat, empty_image, make_image, pattern,
};
use ext2_block::Ext2;
use vfs::{Errno, MountOptions, NodeKind, OpenFlags, Vfs, Whence};

/// A scratch image of 16 MiB in `block_size`-byte blocks with `hello.txt`
/// and `docs/readme.txt`, and a hosted kernel with it as vblk0.
fn disk(block_size: u32) -> (Scratch, std::path::PathBuf) {
    let scratch = Scratch::new("vfs");
    let source = scratch.join("source");
    std::fs::create_dir_all(source.join("docs")).expect("a source tree");
    std::fs::write(source.join("hello.txt"), b"hello from mke2fs\n").expect("a file");
    std::fs::write(source.join("docs/readme.txt"), pattern(9, 40_000)).expect("a file");
    let image = scratch.join("image");
    make_image(&image, block_size, 16 * 1024, Some(&source), &[]);
    (scratch, image)
}

/// Mounts vblk0's ext2 on `/disk` of the root tmpfs.
fn mount_disk(context: &base::Context<'_>, vfs: &Vfs) {
    vfs.mkdir(context, "/disk", 0o755).expect("a mount point");
    let ext2 = Ext2::mount(context, "vblk0", false).expect("vblk0 mounts");
    vfs.mount(context, "/disk", ext2, MountOptions::default())
        .expect("mounted on /disk");
}

fn read_file(context: &base::Context<'_>, vfs: &Vfs, path: &str) -> Vec<u8> {
    let fd = vfs
        .open(context, path, OpenFlags::READ_ONLY, 0)
        .expect(path);
    let mut contents = Vec::new();
    let mut buffer = vec![0; 7000];
    loop {
        let count = vfs.read(context, fd, &mut buffer).expect("read");
        if count == 0 {
            break;
        }
        contents.extend_from_slice(&buffer[..count]);
    }
    vfs.close(context, fd).expect("close");
    contents
}

fn names(context: &base::Context<'_>, vfs: &Vfs, path: &str) -> Vec<(String, NodeKind)> {
    let fd = vfs
        .open(context, path, OpenFlags::DIRECTORY, 0)
        .expect(path);
    let mut names = Vec::new();
    while let Some(entry) = vfs.readdir(context, fd).expect("readdir") {
        names.push((String::from_utf8(entry.name).expect("UTF-8"), entry.kind));
    }
    vfs.close(context, fd).expect("close");
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names
}

fn file_calls(block_size: u32) {
    let (_scratch, image) = disk(block_size);
    let test = boot_vfs("", &[image.display().to_string()]);
    let context = test.kernel.enter().expect("enter");
    let vfs = Vfs::of(&context).expect("the vfs");
    mount_disk(&context, &vfs);
    assert_eq!(
        read_file(&context, &vfs, "/disk/hello.txt"),
        b"hello from mke2fs\n"
    );
    assert_eq!(
        read_file(&context, &vfs, "/disk/docs/readme.txt"),
        pattern(9, 40_000)
    );
    let stat = vfs.stat(&context, "/disk/docs/readme.txt").expect("stat");
    assert_eq!(stat.attributes.size, 40_000);
    assert_eq!(stat.attributes.kind, NodeKind::File);
    assert_eq!(stat.attributes.block_size, block_size);
    assert!(stat.attributes.modified_ns > 0);
    let before = vfs.statvfs(&context, "/disk").expect("statvfs");
    assert_eq!(before.block_size, block_size);
    assert_eq!(before.blocks, 16 * 1024 * 1024 / u64::from(block_size));

    vfs.mkdir(&context, "/disk/new", 0o750).expect("mkdir");
    let flags = OpenFlags::CREATE | OpenFlags::EXCLUSIVE | OpenFlags::READ_WRITE;
    let fd = vfs
        .open(&context, "/disk/new/data", flags, 0o640)
        .expect("create");
    let data = pattern(3, 1 << 20);
    for chunk in data.chunks(65_536) {
        assert_eq!(vfs.write(&context, fd, chunk), Ok(chunk.len()));
    }
    vfs.fsync(&context, fd).expect("fsync");
    assert_eq!(vfs.lseek(&context, fd, 100, Whence::Start), Ok(100));
    let mut buffer = vec![0; 1000];
    assert_eq!(vfs.read(&context, fd, &mut buffer), Ok(1000));
    assert!(buffer[..] == data[100..1100]);
    vfs.close(&context, fd).expect("close");
    let after = vfs.statvfs(&context, "/disk").expect("statvfs");
    let used = (before.free_blocks - after.free_blocks) * u64::from(block_size);
    assert!(used >= 1 << 20, "a MiB written takes a MiB: {used}");
    assert_eq!(before.free_files - after.free_files, 2);

    // From a second context (another thread), as the vfs may be called;
    // this one lets go of the virtual CPU meanwhile.
    drop(context);
    let kernel = test.kernel.clone();
    std::thread::spawn(move || {
        let context = kernel.enter().expect("enter");
        let vfs = Vfs::of(&context).expect("the vfs");
        vfs.rename(&context, "/disk/new/data", "/disk/moved")
            .expect("rename");
        vfs.symlink(&context, "moved", "/disk/link")
            .expect("symlink");
        vfs.link(&context, "/disk/hello.txt", "/disk/new/hello-again")
            .expect("link");
        vfs.truncate(&context, "/disk/hello.txt", 5)
            .expect("truncate");
    })
    .join()
    .expect("the second thread");
    let context = test.kernel.enter().expect("enter");

    assert_eq!(read_file(&context, &vfs, "/disk/link"), data);
    assert_eq!(vfs.readlink(&context, "/disk/link"), Ok(b"moved".to_vec()));
    assert_eq!(read_file(&context, &vfs, "/disk/new/hello-again"), b"hello");
    assert_eq!(
        vfs.stat(&context, "/disk/hello.txt")
            .map(|s| s.attributes.links),
        Ok(2)
    );
    assert_eq!(
        names(&context, &vfs, "/disk"),
        [
            ("docs".into(), NodeKind::Directory),
            ("hello.txt".into(), NodeKind::File),
            ("link".into(), NodeKind::Symlink),
            ("lost+found".into(), NodeKind::Directory),
            ("moved".into(), NodeKind::File),
            ("new".into(), NodeKind::Directory),
        ]
    );
    assert_eq!(
        vfs.rmdir(&context, "/disk/new"),
        Err(Errno::NotEmpty),
        "new holds hello-again"
    );
    vfs.unlink(&context, "/disk/new/hello-again")
        .expect("unlink");
    vfs.rmdir(&context, "/disk/new").expect("rmdir");
    assert_eq!(vfs.stat(&context, "/disk/new").err(), Some(Errno::NotFound));
    vfs.unmount(&context, "/disk").expect("unmount");
    drop(context);
    drop(test);
    assert_clean(&image);
    assert_eq!(debugfs_cat(&image, "/moved"), data);
    assert_eq!(debugfs_cat(&image, "/hello.txt"), b"hello");
    let listing = debugfs(&image, "ls -p /");
    assert!(
        listing.contains("/moved/") && !listing.contains("/new/"),
        "{listing}"
    );
    assert!(
        debugfs(&image, "stats").contains("Filesystem state:         clean"),
        "the vfs's unmount leaves it clean"
    );
}

#[test]
fn the_file_calls_work_on_an_ext2_mount_with_1k_blocks() {
    file_calls(1024);
}

#[test]
fn the_file_calls_work_on_an_ext2_mount_with_4k_blocks() {
    file_calls(4096);
}

#[test]
fn an_open_unlinked_file_lives_until_closed_and_then_frees_its_blocks() {
    let scratch = Scratch::new("vfs-unlinked");
    let image = empty_image(&scratch, 1024, 8 * 1024);
    let test = boot_vfs("", &[image.display().to_string()]);
    let context = test.kernel.enter().expect("enter");
    let vfs = Vfs::of(&context).expect("the vfs");
    mount_disk(&context, &vfs);
    let free = vfs.statvfs(&context, "/disk").expect("statvfs");
    let flags = OpenFlags::CREATE | OpenFlags::READ_WRITE;
    let fd = vfs
        .open(&context, "/disk/doomed", flags, 0o600)
        .expect("create");
    assert_eq!(vfs.write(&context, fd, &pattern(4, 200_000)), Ok(200_000));
    vfs.unlink(&context, "/disk/doomed").expect("unlink");
    assert_eq!(vfs.pread(&context, fd, &mut [0; 10], 0), Ok(10));
    assert_eq!(vfs.fstat(&context, fd).map(|s| s.attributes.links), Ok(0));
    vfs.close(&context, fd).expect("close");
    assert_eq!(vfs.unmount(&context, "/disk"), Ok(()));
    drop(context);
    drop(test);
    assert_clean(&image);
    let test = boot_vfs("", &[image.display().to_string()]);
    let context = test.kernel.enter().expect("enter");
    let vfs = Vfs::of(&context).expect("the vfs");
    mount_disk(&context, &vfs);
    let after = vfs.statvfs(&context, "/disk").expect("statvfs");
    assert_eq!(
        (after.free_blocks, after.free_files),
        (free.free_blocks, free.free_files),
        "the closed file's blocks and inode are free"
    );
}

#[test]
fn a_read_only_mount_and_a_full_disk_answer_erofs_and_enospc() {
    let scratch = Scratch::new("vfs-full");
    let image = empty_image(&scratch, 1024, 2 * 1024);
    let test = boot_vfs("", &[image.display().to_string()]);
    let context = test.kernel.enter().expect("enter");
    let vfs = Vfs::of(&context).expect("the vfs");
    vfs.mkdir(&context, "/ro", 0o755).expect("a mount point");
    let ext2 = Ext2::mount(&context, "vblk0", true).expect("mounts read-only");
    assert!(ext2.is_read_only());
    vfs.mount(&context, "/ro", ext2, MountOptions::default())
        .expect("mounted");
    let flags = OpenFlags::CREATE | OpenFlags::WRITE_ONLY;
    assert_eq!(
        vfs.open(&context, "/ro/x", flags, 0o644).err(),
        Some(Errno::ReadOnly)
    );
    assert!(vfs.statvfs(&context, "/ro").expect("statvfs").read_only);
    vfs.unmount(&context, "/ro").expect("unmount");
    mount_disk(&context, &vfs);
    let fd = vfs
        .open(&context, "/disk/big", flags, 0o644)
        .expect("create");
    let chunk = pattern(5, 64 * 1024);
    let mut outcome = Ok(0);
    for _ in 0..64 {
        outcome = vfs.write(&context, fd, &chunk);
        if outcome != Ok(chunk.len()) {
            break;
        }
    }
    assert!(
        matches!(outcome, Err(Errno::NoSpace) | Ok(1..65_535)),
        "{outcome:?}"
    );
    assert_eq!(vfs.write(&context, fd, &chunk), Err(Errno::NoSpace));
    vfs.close(&context, fd).expect("close");
    vfs.unmount(&context, "/disk").expect("unmount");
    drop(context);
    drop(test);
    assert_clean(&image);
}

#[test]
fn a_failing_disk_gives_eio_and_the_mount_goes_on() {
    let (_scratch, image) = disk(1024);
    let sector = common::blocks_of(&image, "/docs/readme.txt")[5] * 2;
    let spec = format!("{},fail={sector}-{}", image.display(), sector + 1);
    let test = boot_vfs("", &[spec]);
    let context = test.kernel.enter().expect("enter");
    let vfs = Vfs::of(&context).expect("the vfs");
    mount_disk(&context, &vfs);
    let fd = vfs
        .open(&context, "/disk/docs/readme.txt", OpenFlags::READ_ONLY, 0)
        .expect("open");
    let mut buffer = vec![0; 40_000];
    assert_eq!(vfs.read(&context, fd, &mut buffer), Err(Errno::Io));
    vfs.close(&context, fd).expect("close");
    assert_eq!(
        read_file(&context, &vfs, "/disk/hello.txt"),
        b"hello from mke2fs\n",
        "the file system is still there"
    );
}
