//! Descriptors in process contexts, unlinked files kept until their last
//! close, offsets shared by duplicates, listings, and the mount table
//! (mount points, `..` across them, EBUSY, EXDEV, EROFS).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use base::Context;
use base::descriptor::Descriptor;
use tmpfs::Tmpfs;
use vfs::{Errno, Fd, MountOptions, OpenFlags, Vfs, Whence};

const CREATE: OpenFlags = OpenFlags(OpenFlags::CREATE.0 | OpenFlags::READ_WRITE.0);

fn tmpfs_bytes(context: &Context<'_>) -> usize {
    let accounts = context.kernel().memory().accounts();
    let account = accounts.iter().find(|a| a.name == "tmpfs");
    account.map_or(0, |account| account.bytes)
}

#[test]
fn a_process_ending_closes_its_files_and_frees_what_was_unlinked() {
    let booted = common::boot("");
    let kernel = &booted.kernel;
    let process = kernel.new_process();
    let before = {
        let context = kernel.enter().expect("context");
        tmpfs_bytes(&context)
    };
    {
        let binding = kernel.bind_thread_in(&process).expect("binding");
        let context = binding.enter();
        let vfs = Vfs::of(&context).expect("vfs");
        for index in 0..10 {
            let fd = vfs
                .open(&context, &format!("/f{index}"), CREATE, 0o644)
                .unwrap();
            assert_eq!(fd, Fd(index));
            vfs.write(&context, fd, &[1u8; 10_000]).unwrap();
            vfs.unlink(&context, &format!("/f{index}")).unwrap();
        }
        assert!(
            tmpfs_bytes(&context) >= before + 10 * 12_288,
            "open, unlinked, kept"
        );
        assert_eq!(process.open_descriptors(), 10);
    }
    let context = kernel.enter().expect("context");
    assert!(
        tmpfs_bytes(&context) > before,
        "the process still holds them"
    );
    drop(process);
    assert_eq!(
        tmpfs_bytes(&context),
        before,
        "freed when the process ended"
    );
}

#[test]
fn processes_have_tables_of_their_own_and_duplicates_share_an_offset() {
    let booted = common::boot("");
    let kernel = &booted.kernel;
    let other = kernel.new_process();
    let context = kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    let fd = vfs.open(&context, "/f", CREATE, 0o644).unwrap();
    assert_eq!(
        other.descriptor::<vfs::OpenFile>(fd).err(),
        Some(base::descriptor::DescriptorError::BadDescriptor)
    );
    let copy = vfs.dup(&context, fd).unwrap();
    vfs.write(&context, fd, b"abc").unwrap();
    vfs.write(&context, copy, b"def").unwrap();
    assert_eq!(vfs.lseek(&context, copy, 0, Whence::Current), Ok(6));
    vfs.close(&context, fd).unwrap();
    assert_eq!(vfs.lseek(&context, copy, -2, Whence::End), Ok(4));
    let mut two = [0u8; 2];
    assert_eq!(vfs.read(&context, copy, &mut two), Ok(2));
    assert_eq!(&two, b"ef");
    assert_eq!(
        vfs.lseek(&context, copy, -7, Whence::End),
        Err(Errno::InvalidArgument)
    );
    assert_eq!(vfs.read(&context, fd, &mut two), Err(Errno::BadDescriptor));
    let read_only = vfs.open(&context, "/f", OpenFlags::READ_ONLY, 0).unwrap();
    assert_eq!(
        vfs.write(&context, read_only, b"x"),
        Err(Errno::BadDescriptor)
    );
    assert_eq!(
        vfs.ftruncate(&context, read_only, 0),
        Err(Errno::InvalidArgument)
    );
}

/// Something another faction opened (a socket, say).
#[derive(Debug)]
struct NotAFile;

impl Descriptor for NotAFile {
    fn kind(&self) -> &'static str {
        "socket"
    }
}

#[test]
fn one_table_holds_files_and_other_factions_objects() {
    let booted = common::boot("");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    let socket = context
        .process()
        .open_descriptor(Arc::new(NotAFile))
        .unwrap();
    let file = vfs.open(&context, "/f", CREATE, 0o644).unwrap();
    assert_ne!(socket, file);
    let mut buffer = [0u8; 4];
    assert_eq!(
        vfs.read(&context, socket, &mut buffer),
        Err(Errno::NotAFile)
    );
    assert_eq!(vfs.fstat(&context, socket).err(), Some(Errno::NotAFile));
    vfs.close(&context, socket)
        .expect("close takes any descriptor");
    assert_eq!(
        vfs.open(&context, "/f", OpenFlags::READ_ONLY, 0),
        Ok(socket)
    );
}

#[test]
fn a_listing_names_each_entry_once_while_entries_come_and_go() {
    let booted = common::boot("");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    vfs.mkdir(&context, "/d", 0o755).unwrap();
    for index in 0..100 {
        vfs.mkdir(&context, &format!("/d/e{index}"), 0o755).unwrap();
    }
    let fd = vfs.open(&context, "/d", OpenFlags::DIRECTORY, 0).unwrap();
    let mut seen = BTreeSet::new();
    while let Some(entry) = vfs.readdir(&context, fd).unwrap() {
        let name = String::from_utf8(entry.name).unwrap();
        assert!(seen.insert(name.clone()), "{name} twice");
        if name == "e10" {
            vfs.rmdir(&context, "/d/e11").unwrap();
            vfs.rmdir(&context, "/d/e5").unwrap();
        }
    }
    assert_eq!(seen.len(), 99, "e11 went before it was reached");
    assert!(!seen.contains("e11"));
    assert_eq!(vfs.lseek(&context, fd, 0, Whence::Start), Ok(0));
    assert!(vfs.readdir(&context, fd).unwrap().is_some(), "rewound");
    let mut buffer = [0u8; 1];
    assert_eq!(vfs.read(&context, fd, &mut buffer), Err(Errno::IsDirectory));
}

#[test]
fn mounts_cover_directories_and_refuse_to_go_while_busy() {
    let booted = common::boot("");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    vfs.mkdir(&context, "/mnt", 0o755).unwrap();
    vfs.mkdir(&context, "/mnt/hidden", 0o755).unwrap();
    let inner = Tmpfs::new(&context, 1 << 20).unwrap();
    vfs.mount(&context, "/mnt", inner.clone(), MountOptions::default())
        .unwrap();
    assert_eq!(
        vfs.stat(&context, "/mnt/hidden").err(),
        Some(Errno::NotFound)
    );
    let fd = vfs.open(&context, "/mnt/inside", CREATE, 0o644).unwrap();
    // As on Linux, a second mount stacks on the first and hides it.
    let again = Tmpfs::new(&context, 1 << 20).unwrap();
    vfs.mount(&context, "/mnt", again, MountOptions::default())
        .unwrap();
    assert_eq!(
        vfs.stat(&context, "/mnt/inside").err(),
        Some(Errno::NotFound)
    );
    assert_eq!(vfs.mounts().len(), 3);
    vfs.unmount(&context, "/mnt").unwrap();
    assert!(vfs.stat(&context, "/mnt/inside").is_ok());
    let (root, mnt) = (
        vfs.stat(&context, "/").unwrap(),
        vfs.stat(&context, "/mnt").unwrap(),
    );
    assert_ne!(root.device, mnt.device);
    assert_eq!(vfs.stat(&context, "/mnt/..").unwrap(), root);
    assert_eq!(
        vfs.stat(&context, "/mnt/../mnt/inside/").err(),
        Some(Errno::NotDirectory)
    );
    assert_eq!(
        vfs.rename(&context, "/mnt/inside", "/out"),
        Err(Errno::CrossDevice)
    );
    assert_eq!(
        vfs.link(&context, "/mnt/inside", "/out"),
        Err(Errno::CrossDevice)
    );
    assert_eq!(vfs.rmdir(&context, "/mnt"), Err(Errno::Busy));
    assert_eq!(vfs.rename(&context, "/mnt", "/elsewhere"), Err(Errno::Busy));
    assert_eq!(vfs.unmount(&context, "/mnt"), Err(Errno::Busy));
    vfs.close(&context, fd).unwrap();
    vfs.unmount(&context, "/mnt").unwrap();
    assert!(vfs.stat(&context, "/mnt/hidden").is_ok(), "uncovered");
    assert_eq!(vfs.unmount(&context, "/mnt"), Err(Errno::InvalidArgument));
    assert!(inner.used_bytes() > 0, "the file system lives while held");
}

#[test]
fn a_read_only_mount_refuses_every_change() {
    let booted = common::boot("");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    vfs.mkdir(&context, "/ro", 0o755).unwrap();
    let inner = Tmpfs::new(&context, 1 << 20).unwrap();
    let options = MountOptions { read_only: true };
    vfs.mount(&context, "/ro", inner, options).unwrap();
    assert_eq!(
        vfs.open(&context, "/ro/f", CREATE, 0o644),
        Err(Errno::ReadOnly)
    );
    assert_eq!(vfs.mkdir(&context, "/ro/d", 0o755), Err(Errno::ReadOnly));
    assert_eq!(vfs.symlink(&context, "x", "/ro/l"), Err(Errno::ReadOnly));
    assert_eq!(
        vfs.open(&context, "/ro", OpenFlags::WRITE_ONLY, 0),
        Err(Errno::IsDirectory)
    );
    assert!(vfs.statvfs(&context, "/ro").unwrap().read_only);
    assert!(!vfs.statvfs(&context, "/").unwrap().read_only);
    let file = vfs.open(&context, "/f", CREATE, 0o644).unwrap();
    assert_eq!(
        vfs.mount(
            &context,
            "/f",
            Tmpfs::new(&context, 4096 * 4).unwrap(),
            options
        ),
        Err(Errno::NotDirectory)
    );
    vfs.close(&context, file).unwrap();
}
