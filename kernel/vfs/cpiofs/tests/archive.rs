//! cpiofs over archives written as xtask writes them: the tree, the data
//! read in place, listings, links, EROFS for every change, and invalid
//! archives refused.

use std::io::Write;
use std::sync::Arc;

use base::{BootConfig, Kernel};
use cpiofs::CpioFs;
use hypercall_posix::{ConsoleCapture, ConsoleSink, ExitMode, Posix, PosixConfig};
use vfs::{Errno, MountOptions, NodeKind, OpenFlags, Vfs};

/// `(path, mode, data)` entries as a newc archive, leaked for `'static`.
fn archive(entries: &[(&str, u32, &[u8])]) -> &'static [u8] {
    let mut bytes = Vec::new();
    for (index, (path, mode, data)) in entries.iter().enumerate() {
        let mut writer = cpio::newc::Builder::new(path)
            .ino(index as u32 + 1)
            .mode(*mode)
            .mtime(1_700_000_000)
            .write(bytes, data.len() as u32);
        writer.write_all(data).unwrap();
        bytes = writer.finish().unwrap();
    }
    Box::leak(cpio::newc::trailer(bytes).unwrap().into_boxed_slice())
}

fn boot() -> Arc<Kernel> {
    let host = Posix::new(PosixConfig {
        console: ConsoleSink::Capture(ConsoleCapture::new()),
        exit: ExitMode::Unwind,
        ..PosixConfig::default()
    });
    let components = [&vfs::VFS];
    Kernel::boot(
        host,
        BootConfig {
            components: &components,
        },
    )
    .expect("boots")
}

#[test]
fn an_archive_mounts_as_a_read_only_tree() {
    let kernel = boot();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let bytes = archive(&[
        (".", 0o040_755, b""),
        ("index.html", 0o100_644, b"<h1>hi</h1>"),
        ("docs/a/deep.txt", 0o100_600, b"deep"),
        ("docs/big.bin", 0o100_644, &big),
        ("docs", 0o040_700, b""),
        ("latest", 0o120_777, b"docs/big.bin"),
        ("dev/null", 0o020_666, b""),
    ]);
    let context = kernel.enter().unwrap();
    let vfs = Vfs::of(&context).unwrap();
    let fs = CpioFs::new(&context, bytes).unwrap();
    vfs.mount(&context, "/", fs, MountOptions::default())
        .unwrap();
    let stat = vfs.stat(&context, "/docs/a/deep.txt").unwrap().attributes;
    assert_eq!(
        (stat.kind, stat.size, stat.permissions),
        (NodeKind::File, 4, 0o600)
    );
    assert_eq!(stat.modified_ns, 1_700_000_000_000_000_000);
    assert_eq!(
        vfs.stat(&context, "/docs").unwrap().attributes.permissions,
        0o700
    );
    assert_eq!(vfs.stat(&context, "/dev/null").err(), Some(Errno::NotFound));
    let fd = vfs
        .open(&context, "/latest", OpenFlags::READ_ONLY, 0)
        .unwrap();
    let mut back = vec![0u8; 150_000];
    let mut total = 0;
    loop {
        match vfs.read(&context, fd, &mut back[total..]).unwrap() {
            0 => break,
            count => total += count,
        }
    }
    assert_eq!(&back[..total], &big[..]);
    let listing = vfs
        .open(&context, "/docs", OpenFlags::DIRECTORY, 0)
        .unwrap();
    let mut names = Vec::new();
    while let Some(entry) = vfs.readdir(&context, listing).unwrap() {
        names.push((String::from_utf8(entry.name).unwrap(), entry.kind));
    }
    assert_eq!(
        names,
        [
            ("a".into(), NodeKind::Directory),
            ("big.bin".into(), NodeKind::File)
        ]
    );
    assert_eq!(
        vfs.stat(&context, "/docs/a/../../index.html")
            .unwrap()
            .attributes
            .size,
        11
    );
    let write = OpenFlags::WRITE_ONLY;
    assert_eq!(
        vfs.open(&context, "/index.html", write, 0),
        Err(Errno::ReadOnly)
    );
    assert_eq!(vfs.unlink(&context, "/index.html"), Err(Errno::ReadOnly));
    assert_eq!(vfs.mkdir(&context, "/new", 0o755), Err(Errno::ReadOnly));
    assert_eq!(
        vfs.truncate(&context, "/index.html", 0),
        Err(Errno::ReadOnly)
    );
    assert_eq!(
        vfs.rename(&context, "/index.html", "/x"),
        Err(Errno::ReadOnly)
    );
    assert!(vfs.statvfs(&context, "/").unwrap().read_only);
    drop(context);
    kernel.shutdown();
}

#[test]
fn invalid_archives_are_refused_and_garbage_is_an_empty_tree() {
    let kernel = boot();
    let context = kernel.enter().unwrap();
    for bad in [
        archive(&[("../escape", 0o100_644, b"x")]),
        archive(&[("a", 0o100_644, b"x"), ("a/b", 0o100_644, b"y")]),
        archive(&[("twice", 0o100_644, b"x"), ("twice", 0o100_644, b"y")]),
    ] {
        assert_eq!(
            CpioFs::new(&context, bad).err(),
            Some(Errno::InvalidArgument)
        );
    }
    let garbage: &'static [u8] = Box::leak(vec![0x30u8; 300].into_boxed_slice());
    assert_eq!(CpioFs::new(&context, garbage).unwrap().node_count(), 1);
    let empty: &'static [u8] = &[];
    assert_eq!(CpioFs::new(&context, empty).unwrap().node_count(), 1);
    drop(context);
    kernel.shutdown();
}
