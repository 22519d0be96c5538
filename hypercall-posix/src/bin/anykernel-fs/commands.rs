//! The commands: mount, do one thing, unmount.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use ext2::{Attributes, Error, FileKind, Fs, InodeNumber, MountOptions};

use crate::Command;
use crate::copy;
use crate::device::ImageFile;
use crate::paths::{parent, resolve};

/// The file system the commands work on.
pub type ImageFs = Fs<ImageFile>;

/// Bytes moved per read or write call.
pub const CHUNK: usize = 1 << 20;

/// A message naming what failed: `PATH: reason (ERRNO)`.
pub fn failed(what: impl std::fmt::Display) -> impl Fn(Error) -> String {
    move |error| format!("{what}: {error}")
}

fn clock() -> ext2::Clock {
    Box::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
    })
}

/// Mounts `image`, runs `command`, unmounts.
pub fn run(image: &Path, command: &Command) -> Result<(), String> {
    let write = command.writes();
    let named = image.display();
    let device = ImageFile::open(image, write).map_err(|error| format!("{named}: {error}"))?;
    let options = MountOptions {
        read_only: !write,
        clock: Some(clock()),
    };
    let mut fs = Fs::mount(device, options).map_err(failed(&named))?;
    let result = dispatch(&mut fs, command);
    let unmounted = fs.unmount().map_err(failed(&named));
    result.and(unmounted.map(drop))
}

fn dispatch(fs: &mut ImageFs, command: &Command) -> Result<(), String> {
    match command {
        Command::Ls { paths } if paths.is_empty() => list(fs, "/"),
        Command::Ls { paths } if paths.len() == 1 => list(fs, &paths[0]),
        Command::Ls { paths } => paths.iter().try_for_each(|path| {
            println!("{path}:");
            list(fs, path)
        }),
        Command::Cat { paths } => paths.iter().try_for_each(|path| cat(fs, path)),
        Command::Stat { paths } => paths.iter().try_for_each(|path| stat(fs, path)),
        Command::Df => df(fs),
        Command::Get { path, destination } => copy::get(fs, path, destination.as_deref()),
        Command::Put { source, path } => copy::put(fs, source, path),
        Command::Mkdir { parents, paths } => paths
            .iter()
            .try_for_each(|path| copy::mkdir(fs, path, *parents)),
        Command::Rm { recursive, paths } => paths
            .iter()
            .try_for_each(|path| copy::remove(fs, path, *recursive)),
        Command::Mv { from, to } => copy::rename(fs, from, to),
    }
}

/// One `ls -l`-like line for `name`.
fn line(fs: &ImageFs, inode: InodeNumber, name: &str) -> Result<String, Error> {
    let attributes = fs.getattr(inode)?;
    let kind = match attributes.kind {
        FileKind::Regular => '-',
        FileKind::Directory => 'd',
        FileKind::Symlink => 'l',
        FileKind::CharacterDevice => 'c',
        FileKind::BlockDevice => 'b',
        FileKind::Fifo => 'p',
        FileKind::Socket => 's',
    };
    let Attributes {
        mode,
        links,
        uid,
        gid,
        size,
        ..
    } = attributes;
    let mut text = format!("{kind}{mode:04o} {links:>3} {uid:>5} {gid:>5} {size:>12} {name}");
    if attributes.kind == FileKind::Symlink {
        let target = fs.readlink(inode)?;
        text.push_str(&format!(" -> {}", String::from_utf8_lossy(&target)));
    }
    Ok(text)
}

fn list(fs: &ImageFs, path: &str) -> Result<(), String> {
    let inode = resolve(fs, path).map_err(failed(path))?;
    if fs.getattr(inode).map_err(failed(path))?.kind != FileKind::Directory {
        println!("{}", line(fs, inode, path).map_err(failed(path))?);
        return Ok(());
    }
    let mut entries = copy::entries(fs, inode).map_err(failed(path))?;
    entries.sort();
    for (name, child) in entries {
        println!("{}", line(fs, child, &name).map_err(failed(&name))?);
    }
    Ok(())
}

fn cat(fs: &ImageFs, path: &str) -> Result<(), String> {
    let inode = resolve(fs, path).map_err(failed(path))?;
    let mut out = std::io::stdout().lock();
    copy::read_file(fs, inode, |chunk| out.write_all(chunk))
        .map_err(|error| format!("{path}: {error}"))
}

fn stat(fs: &ImageFs, path: &str) -> Result<(), String> {
    let inode = resolve(fs, path).map_err(failed(path))?;
    let a = fs.getattr(inode).map_err(failed(path))?;
    println!("  File: {path}");
    println!(
        "  Kind: {:?}  Inode: {}  Links: {}",
        a.kind, a.inode, a.links
    );
    println!(
        "  Size: {}  Sectors: {}  Mode: {:04o}",
        a.size, a.sectors, a.mode
    );
    println!(
        "   Uid: {}  Gid: {}  Generation: {}",
        a.uid, a.gid, a.generation
    );
    println!(
        " Times: atime {} mtime {} ctime {}",
        a.atime, a.mtime, a.ctime
    );
    if matches!(a.kind, FileKind::CharacterDevice | FileKind::BlockDevice) {
        println!("Device: {}:{}", a.device.0, a.device.1);
    }
    Ok(())
}

fn df(fs: &ImageFs) -> Result<(), String> {
    let s = fs.statfs();
    let kib = |blocks: u64| blocks * u64::from(s.block_size) / 1024;
    println!(
        "{:>12} {:>12} {:>12} {:>10} {:>10}",
        "1K-blocks", "Used", "Available", "Inodes", "IFree"
    );
    let used = s.blocks - s.free_blocks;
    let (total, used, available) = (kib(s.blocks), kib(used), kib(s.available_blocks));
    println!(
        "{total:>12} {used:>12} {available:>12} {:>10} {:>10}",
        s.inodes, s.free_inodes
    );
    Ok(())
}

/// The directory and name `path` comes to, or an error for the root.
pub fn split(fs: &ImageFs, path: &str) -> Result<(InodeNumber, String), String> {
    match parent(fs, path).map_err(failed(path))? {
        (directory, Some(name)) => Ok((directory, name.to_string())),
        (_, None) => Err(format!("{path}: not allowed on the root directory")),
    }
}
