//! `test=storage`: file system figures for `cargo xtask bench --vs linux`,
//! timed in the guest through the vfs calls on the ext2 disk `vblk0`.
//!
//! The same steps as the Linux guest's script (xtask's
//! `bench/linux/initramfs.rs`), on the same kind of image:
//! 1. sequential write: `seq` of `storage.mib=` MiB (default 64) in 1 MiB
//!    writes, then fsync (`dd bs=1M conv=fsync`);
//! 2. the disk's cached blocks forgotten (`drop_caches`), untimed;
//! 3. sequential read of `seq` in 1 MiB reads (`dd bs=1M`);
//! 4. small files: `storage.files=` (default 1000) files of 4 KiB made
//!    in `small/` (open with O_CREAT|O_TRUNC, one write, close), then one
//!    sync of the file system (an fsync of the directory: ours syncs the
//!    whole volume, as `sync` does).
//!
//! Each step's time is a `bench disk_<step>_us` line; the bytes and files
//! are `bench disk_bytes`/`disk_files`, and the device's requests and
//! the buffer cache's block reads and writes of each step a
//! `selftest storage:` line (for profiling). The file system
//! is unmounted at the end, clean, for the host's `e2fsck`.

use alloc::format;
use alloc::string::String;
use alloc::vec;

use kernel::block::{Block, DiskStats, Volume};
use kernel::ext2_block::Ext2;
use kernel::vfs::{Errno, MountOptions, OpenFlags, Vfs};

use super::{Case, Outcome};

/// Where the disk is mounted.
const MOUNT: &str = "/bench";
/// Bytes per read or write of the sequential steps.
const CHUNK: usize = 1024 * 1024;
/// Bytes per small file.
const SMALL: usize = 4096;

pub(super) fn run(case: &Case<'_>) -> Outcome {
    let params = case.kernel.params();
    let mib = params.get_u64("storage.mib").ok().flatten().unwrap_or(64);
    let files = params
        .get_u64("storage.files")
        .ok()
        .flatten()
        .unwrap_or(1000);
    let vfs = Vfs::of(case.context).ok_or("the vfs is not linked")?;
    let ext2 = mount(case, &vfs)?;
    let volume = ext2.volume().clone();
    let bytes = mib * CHUNK as u64;
    case.report.figure("disk_bytes", bytes, "bytes");
    case.report.figure("disk_files", files, "files");
    let write = timed(case, &volume, "write", || write_file(case, &vfs, bytes))?;
    // `storage.cold=0` reads from the cache instead (for profiling).
    if params.get("storage.cold") != Some("0") {
        let forgotten = volume.forget(case.context);
        forgotten.map_err(|e| format!("forget: {e}"))?;
    }
    let read = timed(case, &volume, "read", || read_file(case, &vfs, bytes))?;
    let small = timed(case, &volume, "small", || small_files(case, &vfs, files))?;
    case.report.figure("disk_write_us", write, "us");
    case.report.figure("disk_read_us", read, "us");
    case.report.figure("disk_small_us", small, "us");
    vfs.unmount(case.context, MOUNT)
        .map_err(|e| format!("unmount: {e}"))
}

/// ext2 on `vblk0`, mounted read-write at [`MOUNT`].
fn mount(case: &Case<'_>, vfs: &Vfs) -> Result<alloc::sync::Arc<Ext2>, String> {
    match vfs.mkdir(case.context, MOUNT, 0o755) {
        Ok(()) | Err(Errno::Exists) => {}
        Err(error) => return Err(format!("mkdir {MOUNT}: {error}")),
    }
    let ext2 = Ext2::mount(case.context, "vblk0", false).map_err(|e| format!("vblk0: {e}"))?;
    if ext2.is_read_only() {
        return Err("vblk0's ext2 mounts read-only".into());
    }
    let options = MountOptions::default();
    vfs.mount(case.context, MOUNT, ext2.clone(), options)
        .map_err(|e| format!("mount: {e}"))?;
    Ok(ext2)
}

/// Runs `step`, says how many device requests it made; its microseconds.
fn timed(
    case: &Case<'_>,
    volume: &Volume,
    name: &str,
    step: impl FnOnce() -> Result<(), Errno>,
) -> Result<u64, String> {
    let cache = Block::of(case.context).ok_or("the block layer is not linked")?;
    let lookups = |cache: &Block| {
        let stats = cache.cache_stats(case.context);
        stats.hits + stats.misses
    };
    let (before, looked) = (volume.disk().stats(), lookups(&cache));
    let start = case.context.now_ns();
    step().map_err(|error| format!("{name}: {error}"))?;
    let micros = (case.context.now_ns() - start) / 1_000;
    let (after, looked) = (volume.disk().stats(), lookups(&cache) - looked);
    case.report.line(format_args!(
        "{name}: {micros} us, {}, {looked} cached block reads and writes",
        requests(&before, &after)
    ));
    Ok(micros)
}

/// The requests between two readings of a disk's counters.
fn requests(before: &DiskStats, after: &DiskStats) -> String {
    format!(
        "{} reads ({} KiB), {} writes ({} KiB), {} flushes, peak {} in flight",
        after.reads - before.reads,
        (after.read_bytes - before.read_bytes) / 1024,
        after.writes - before.writes,
        (after.written_bytes - before.written_bytes) / 1024,
        after.flushes - before.flushes,
        after.peak_in_flight
    )
}

fn write_file(case: &Case<'_>, vfs: &Vfs, bytes: u64) -> Result<(), Errno> {
    let context = case.context;
    let flags = OpenFlags::WRITE_ONLY | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    let fd = vfs.open(context, &format!("{MOUNT}/seq"), flags, 0o644)?;
    let chunk = vec![0x5a_u8; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let take = left.min(CHUNK as u64) as usize;
        left -= vfs.write(context, fd, &chunk[..take])? as u64;
    }
    vfs.fsync(context, fd)?;
    vfs.close(context, fd)
}

fn read_file(case: &Case<'_>, vfs: &Vfs, bytes: u64) -> Result<(), Errno> {
    let context = case.context;
    let fd = vfs.open(context, &format!("{MOUNT}/seq"), OpenFlags::READ_ONLY, 0)?;
    let mut chunk = vec![0_u8; CHUNK];
    let mut total = 0;
    loop {
        match vfs.read(context, fd, &mut chunk)? {
            0 => break,
            read => total += read as u64,
        }
    }
    vfs.close(context, fd)?;
    match total == bytes {
        true => Ok(()),
        false => Err(Errno::Io),
    }
}

fn small_files(case: &Case<'_>, vfs: &Vfs, files: u64) -> Result<(), Errno> {
    let context = case.context;
    let directory = format!("{MOUNT}/small");
    vfs.mkdir(context, &directory, 0o755)?;
    let data = vec![0x78_u8; SMALL];
    let flags = OpenFlags::WRITE_ONLY | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    for index in 0..files {
        let fd = vfs.open(context, &format!("{directory}/f{index}"), flags, 0o644)?;
        let written = vfs.write(context, fd, &data);
        vfs.close(context, fd)?;
        if written? != SMALL {
            return Err(Errno::NoSpace);
        }
    }
    let fd = vfs.open(context, &directory, OpenFlags::DIRECTORY, 0)?;
    let synced = vfs.fsync(context, fd);
    vfs.close(context, fd)?;
    synced
}
