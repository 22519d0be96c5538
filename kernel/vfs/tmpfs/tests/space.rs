//! tmpfs within its bounds: ENOSPC (not a crash) at the mount's size and
//! at the kernel's memory limit, nothing changed by a refused call, and
//! every byte given back when files go.

mod common;

use base::Context;
use vfs::{Errno, Fd, OpenFlags, Vfs};

const CREATE: OpenFlags = OpenFlags(OpenFlags::CREATE.0 | OpenFlags::WRITE_ONLY.0);

fn tmpfs_bytes(context: &Context<'_>) -> usize {
    let accounts = context.kernel().memory().accounts();
    let account = accounts.iter().find(|a| a.name == "tmpfs");
    account.map_or(0, |account| account.bytes)
}

/// Writes `chunk` to `fd` until the file system refuses; bytes written.
fn fill(vfs: &Vfs, context: &Context<'_>, fd: Fd, chunk: &[u8]) -> (u64, Errno) {
    let mut total = 0;
    loop {
        match vfs.write(context, fd, chunk) {
            Ok(count) => total += count as u64,
            Err(error) => return (total, error),
        }
    }
}

#[test]
fn a_full_tmpfs_answers_enospc_and_recovers_when_files_go() {
    let booted = common::boot("tmpfs.size=1M");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    let empty = tmpfs_bytes(&context);
    let fd = vfs.open(&context, "/big", CREATE, 0o644).expect("open");
    let (written, error) = fill(&vfs, &context, fd, &[7u8; 10_000]);
    assert_eq!(error, Errno::NoSpace);
    assert!(written > 900_000 && written <= 1 << 20, "{written} bytes");
    assert_eq!(vfs.fstat(&context, fd).unwrap().attributes.size, written);
    // Nothing new fits, and a refused call leaves no trace.
    let mut names = 0;
    let refused = loop {
        match vfs.mkdir(&context, &format!("/d{names}"), 0o755) {
            Ok(()) => names += 1,
            Err(error) => break error,
        }
    };
    assert_eq!(refused, Errno::NoSpace);
    assert_eq!(
        vfs.stat(&context, &format!("/d{names}")).err(),
        Some(Errno::NotFound)
    );
    let statvfs = vfs.statvfs(&context, "/").unwrap();
    assert_eq!(statvfs.free_blocks, 0);
    vfs.close(&context, fd).unwrap();
    vfs.unlink(&context, "/big").unwrap();
    for index in 0..names {
        vfs.rmdir(&context, &format!("/d{index}")).unwrap();
    }
    assert_eq!(tmpfs_bytes(&context), empty, "every byte given back");
    let fd = vfs.open(&context, "/again", CREATE, 0o644).unwrap();
    assert_eq!(vfs.write(&context, fd, &[1u8; 100_000]), Ok(100_000));
}

#[test]
fn the_kernel_memory_limit_bounds_tmpfs_too() {
    // tmpfs may take all of a 24 MiB kernel, and must stop at its limit.
    let booted = common::boot_with_memory("tmpfs.size=1G", 24 << 20);
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    let fd = vfs.open(&context, "/big", CREATE, 0o644).unwrap();
    let (written, error) = fill(&vfs, &context, fd, &[1u8; 65_536]);
    assert_eq!(error, Errno::NoSpace);
    let limit = context.kernel().memory().stats().limit as u64;
    assert!(
        written > limit / 2 && written < limit,
        "{written} of {limit}"
    );
    vfs.ftruncate(&context, fd, 0).unwrap();
    assert!(tmpfs_bytes(&context) < 4096, "the pages went back");
}

#[test]
fn holes_cost_nothing_and_read_as_zeros() {
    let booted = common::boot("tmpfs.size=1M");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    let fd = vfs
        .open(
            &context,
            "/sparse",
            OpenFlags::CREATE | OpenFlags::READ_WRITE,
            0o644,
        )
        .unwrap();
    let far = 1 << 40;
    assert_eq!(vfs.pwrite(&context, fd, b"end", far), Ok(3));
    let stat = vfs.fstat(&context, fd).unwrap().attributes;
    assert_eq!((stat.size, stat.blocks), (far + 3, 8));
    let mut buffer = [9u8; 8192];
    assert_eq!(vfs.pread(&context, fd, &mut buffer, 1 << 30), Ok(8192));
    assert!(buffer.iter().all(|&byte| byte == 0));
    assert_eq!(vfs.pread(&context, fd, &mut buffer[..5], far), Ok(3));
    assert_eq!(&buffer[..3], b"end");
    assert_eq!(
        vfs.pwrite(&context, fd, b"x", u64::MAX - 1),
        Err(Errno::InvalidArgument)
    );
    assert_eq!(
        vfs.pwrite(&context, fd, b"xy", i64::MAX as u64),
        Err(Errno::FileTooLarge)
    );
}

#[test]
fn timestamps_come_from_the_clock() {
    let booted = common::boot("");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    let before = context.time_of_day_ns();
    let fd = vfs.open(&context, "/f", CREATE, 0o644).unwrap();
    let made = vfs.fstat(&context, fd).unwrap().attributes;
    assert!(made.modified_ns >= before && made.modified_ns <= context.time_of_day_ns());
    let root = vfs.stat(&context, "/").unwrap().attributes;
    assert!(
        root.modified_ns >= made.modified_ns,
        "the directory changed"
    );
    context.sleep_until(context.now_ns() + 2_000_000);
    vfs.write(&context, fd, b"later").unwrap();
    let written = vfs.fstat(&context, fd).unwrap().attributes;
    assert!(written.modified_ns > made.modified_ns);
    assert_eq!(written.changed_ns, written.modified_ns);
}
