//! The commands that read: ls, cat, stat, df; and the dispatch of all.
//!
//! Each is a handful of the vfs's file calls (`lstat`, `open`, `readdir`,
//! `read`, `readlink`, `statvfs`) on the mounted image.

use std::io::Write;

use kernel::vfs::{Attributes, Errno, NodeKind, OpenFlags, Stat};

use crate::Command;
use crate::copy;
use crate::paths::{absolute, join};
use crate::session::{Session, failed};

/// Bytes moved per read or write call.
pub const CHUNK: usize = 1 << 20;

/// Runs `command` in `session`.
pub fn dispatch(session: &Session<'_, '_>, command: &Command) -> Result<(), String> {
    let s = session;
    match command {
        Command::Ls { paths } if paths.is_empty() => list(s, "/"),
        Command::Ls { paths } if paths.len() == 1 => list(s, &paths[0]),
        Command::Ls { paths } => paths.iter().try_for_each(|path| {
            println!("{path}:");
            list(s, path)
        }),
        Command::Cat { paths } => paths.iter().try_for_each(|path| cat(s, path)),
        Command::Stat { paths } => paths.iter().try_for_each(|path| stat(s, path)),
        Command::Df => df(s),
        Command::Get { path, destination } => copy::get(s, path, destination.as_deref()),
        Command::Put { source, path } => copy::put(s, source, path),
        Command::Mkdir { parents, paths } => paths
            .iter()
            .try_for_each(|path| copy::mkdir(s, path, *parents)),
        Command::Rm { recursive, paths } => paths
            .iter()
            .try_for_each(|path| copy::remove(s, path, *recursive)),
        Command::Mv { from, to } => copy::rename(s, from, to),
    }
}

/// A directory's entry names, without `.` and `..`, as `readdir` gives them.
pub fn entries(session: &Session<'_, '_>, directory: &str) -> Result<Vec<String>, Errno> {
    let flags = OpenFlags::READ_ONLY | OpenFlags::DIRECTORY;
    let open = session.open(directory, flags, 0)?;
    let mut names = Vec::new();
    while let Some(entry) = session.vfs.readdir(session.context, open.fd)? {
        names.push(String::from_utf8_lossy(&entry.name).into_owned());
    }
    Ok(names)
}

/// Hands the file at `path`'s contents to `sink` a chunk at a time;
/// errors name it `shown`.
pub fn read_file(
    session: &Session<'_, '_>,
    path: &str,
    shown: &str,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<(), String> {
    let open = session
        .open(path, OpenFlags::READ_ONLY, 0)
        .map_err(failed(shown))?;
    let mut buffer = vec![0; CHUNK];
    loop {
        let read = session.vfs.read(session.context, open.fd, &mut buffer);
        match read.map_err(failed(shown))? {
            0 => return Ok(()),
            count => sink(&buffer[..count]).map_err(|error| format!("{shown}: {error}"))?,
        }
    }
}

/// The letter `ls -l` shows for a kind.
fn letter(kind: NodeKind) -> char {
    match kind {
        NodeKind::File => '-',
        NodeKind::Directory => 'd',
        NodeKind::Symlink => 'l',
    }
}

/// One `ls -l`-like line for the node at `path`, shown as `name`.
fn line(
    session: &Session<'_, '_>,
    path: &str,
    name: &str,
    a: &Attributes,
) -> Result<String, Errno> {
    let kind = letter(a.kind);
    let (mode, links, uid, gid, size) = (a.permissions, a.links, a.user, a.group, a.size);
    let mut text = format!("{kind}{mode:04o} {links:>3} {uid:>5} {gid:>5} {size:>12} {name}");
    if a.kind == NodeKind::Symlink {
        let target = session.vfs.readlink(session.context, path)?;
        text.push_str(&format!(" -> {}", String::from_utf8_lossy(&target)));
    }
    Ok(text)
}

fn lstat(session: &Session<'_, '_>, path: &str) -> Result<Stat, Errno> {
    session.vfs.lstat(session.context, path)
}

fn list(session: &Session<'_, '_>, path: &str) -> Result<(), String> {
    let at = absolute(path);
    let found = lstat(session, &at).map_err(failed(path))?.attributes;
    if found.kind != NodeKind::Directory {
        println!(
            "{}",
            line(session, &at, path, &found).map_err(failed(path))?
        );
        return Ok(());
    }
    let mut names = entries(session, &at).map_err(failed(path))?;
    names.sort();
    for name in names {
        let child = join(&at, &name);
        let found = lstat(session, &child).map_err(failed(&name))?.attributes;
        let text = line(session, &child, &name, &found).map_err(failed(&name))?;
        println!("{text}");
    }
    Ok(())
}

fn cat(session: &Session<'_, '_>, path: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    read_file(session, &absolute(path), path, |chunk| out.write_all(chunk))
}

fn stat(session: &Session<'_, '_>, path: &str) -> Result<(), String> {
    let a = lstat(session, &absolute(path))
        .map_err(failed(path))?
        .attributes;
    let kind = match a.kind {
        NodeKind::File => "Regular",
        NodeKind::Directory => "Directory",
        NodeKind::Symlink => "Symlink",
    };
    let seconds = |ns: u64| ns / 1_000_000_000;
    println!("  File: {path}");
    println!("  Kind: {kind}  Inode: {}  Links: {}", a.node, a.links);
    println!(
        "  Size: {}  Sectors: {}  Mode: {:04o}",
        a.size, a.blocks, a.permissions
    );
    println!("   Uid: {}  Gid: {}", a.user, a.group);
    println!(
        " Times: atime {} mtime {} ctime {}",
        seconds(a.accessed_ns),
        seconds(a.modified_ns),
        seconds(a.changed_ns)
    );
    Ok(())
}

fn df(session: &Session<'_, '_>) -> Result<(), String> {
    let s = session
        .vfs
        .statvfs(session.context, "/")
        .map_err(failed("/"))?;
    let kib = |blocks: u64| blocks * u64::from(s.block_size) / 1024;
    println!(
        "{:>12} {:>12} {:>12} {:>10} {:>10}",
        "1K-blocks", "Used", "Available", "Inodes", "IFree"
    );
    let used = s.blocks.saturating_sub(s.free_blocks);
    let (total, used, available) = (kib(s.blocks), kib(used), kib(s.available_blocks));
    println!(
        "{total:>12} {used:>12} {available:>12} {:>10} {:>10}",
        s.files, s.free_files
    );
    Ok(())
}
