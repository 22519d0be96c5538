//! The commands that copy and change trees: get, put, mkdir, rm, mv.
//!
//! Each is the vfs's file calls on the mounted image (`open` with
//! `O_CREAT|O_TRUNC`, `write`, `mkdir`, `symlink`, `unlink`, `rmdir`,
//! `rename`, …). Trees are walked with a depth bound, so a damaged image
//! whose directories loop ends with an error rather than recursing
//! forever.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kernel::vfs::{Errno, NodeKind, OpenFlags};

use crate::commands::{CHUNK, entries, read_file};
use crate::paths::{absolute, components, join, last};
use crate::session::{Session, failed};

/// Directory levels a copy or removal descends.
const MAX_DEPTH: u32 = 256;

/// The kind of the node at `path`, its last link not followed.
fn kind(session: &Session<'_, '_>, path: &str) -> Result<NodeKind, Errno> {
    Ok(session.vfs.lstat(session.context, path)?.attributes.kind)
}

/// `get`: copies `path` out to `destination` (default: its name, here).
pub fn get(
    session: &Session<'_, '_>,
    path: &str,
    destination: Option<&Path>,
) -> Result<(), String> {
    let name = last(path).unwrap_or("root");
    let destination = destination.map_or_else(|| name.into(), Path::to_path_buf);
    get_tree(session, &absolute(path), &destination, 0)
}

fn get_tree(session: &Session<'_, '_>, from: &str, to: &Path, depth: u32) -> Result<(), String> {
    let shown = to.display().to_string();
    let found = session.vfs.lstat(session.context, from);
    let attributes = found.map_err(failed(&shown))?.attributes;
    let host = |error: std::io::Error| format!("{shown}: {error}");
    match attributes.kind {
        NodeKind::Directory if depth < MAX_DEPTH => {
            std::fs::create_dir_all(to).map_err(host)?;
            for name in entries(session, from).map_err(failed(&shown))? {
                get_tree(session, &join(from, &name), &to.join(name), depth + 1)?;
            }
        }
        NodeKind::Directory => return Err(format!("{shown}: directories nested too deep")),
        NodeKind::Symlink => {
            let target = session.vfs.readlink(session.context, from);
            let target = String::from_utf8_lossy(&target.map_err(failed(&shown))?).into_owned();
            return std::os::unix::fs::symlink(target, to).map_err(host);
        }
        NodeKind::File => {
            let mut file = File::create(to).map_err(host)?;
            read_file(session, from, &shown, |chunk| file.write_all(chunk))?;
        }
    }
    let mode = u32::from(attributes.permissions);
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).map_err(host)
}

/// Where a new entry for `path` goes: inside it if it is a directory,
/// else `path` itself. `fallback` names it in a directory.
fn target(session: &Session<'_, '_>, path: &str, fallback: &str) -> Result<String, String> {
    let at = absolute(path);
    if kind(session, &at) == Ok(NodeKind::Directory) {
        return Ok(join(&at, fallback));
    }
    not_root(path)?;
    Ok(at)
}

/// An error for the root directory, which has no name to change.
fn not_root(path: &str) -> Result<(), String> {
    match last(path) {
        Some(_) => Ok(()),
        None => Err(format!("{path}: not allowed on the root directory")),
    }
}

/// `put`: copies the host file or tree `source` into the image at `path`.
pub fn put(session: &Session<'_, '_>, source: &Path, path: &str) -> Result<(), String> {
    let name = source.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.ok_or_else(|| format!("{}: no file name", source.display()))?;
    let at = target(session, path, &name)?;
    put_tree(session, source, &at, 0)
}

fn put_tree(session: &Session<'_, '_>, source: &Path, at: &str, depth: u32) -> Result<(), String> {
    let shown = source.display().to_string();
    let host = |error: std::io::Error| format!("{shown}: {error}");
    let meta = std::fs::symlink_metadata(source).map_err(host)?;
    let permissions = (meta.permissions().mode() & 0o7777) as u16;
    let (vfs, context) = (&session.vfs, session.context);
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(source).map_err(host)?;
        let target = target.to_string_lossy();
        vfs.symlink(context, &target, at).map_err(failed(at))
    } else if meta.is_dir() {
        if depth >= MAX_DEPTH {
            return Err(format!("{shown}: directories nested too deep"));
        }
        match vfs.mkdir(context, at, permissions) {
            Err(Errno::Exists) if kind(session, at) == Ok(NodeKind::Directory) => {}
            made => made.map_err(failed(at))?,
        }
        for entry in std::fs::read_dir(source).map_err(host)? {
            let entry = entry.map_err(host)?;
            let child = join(at, &entry.file_name().to_string_lossy());
            put_tree(session, &entry.path(), &child, depth + 1)?;
        }
        Ok(())
    } else {
        let flags = OpenFlags::WRITE_ONLY | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let open = session.open(at, flags, permissions).map_err(failed(at))?;
        let mut file = File::open(source).map_err(host)?;
        write_all(session, open.fd, &mut file, at)
    }
}

/// Copies everything `reader` gives to the descriptor `fd` (for `at`).
fn write_all(
    session: &Session<'_, '_>,
    fd: kernel::vfs::Fd,
    reader: &mut impl Read,
    at: &str,
) -> Result<(), String> {
    let mut buffer = vec![0; CHUNK];
    loop {
        let read = reader.read(&mut buffer).map_err(|e| format!("{at}: {e}"))?;
        if read == 0 {
            return Ok(());
        }
        let mut done = 0;
        while done < read {
            let written = session.vfs.write(session.context, fd, &buffer[done..read]);
            done += written.map_err(failed(at))?;
        }
    }
}

/// `mkdir [-p]`.
pub fn mkdir(session: &Session<'_, '_>, path: &str, parents: bool) -> Result<(), String> {
    let (vfs, context) = (&session.vfs, session.context);
    if !parents {
        not_root(path)?;
        return vfs
            .mkdir(context, &absolute(path), 0o755)
            .map_err(failed(path));
    }
    let mut prefix = String::new();
    for part in components(path) {
        prefix = join(if prefix.is_empty() { "/" } else { &prefix }, part);
        match vfs.mkdir(context, &prefix, 0o755) {
            Ok(()) | Err(Errno::Exists) => {}
            Err(error) => return Err(failed(path)(error)),
        }
    }
    Ok(())
}

/// `rm [-r]`.
pub fn remove(session: &Session<'_, '_>, path: &str, recursive: bool) -> Result<(), String> {
    not_root(path)?;
    remove_entry(session, &absolute(path), recursive, 0).map_err(failed(path))
}

fn remove_entry(
    session: &Session<'_, '_>,
    path: &str,
    recursive: bool,
    depth: u32,
) -> Result<(), Errno> {
    let (vfs, context) = (&session.vfs, session.context);
    if kind(session, path)? != NodeKind::Directory {
        return vfs.unlink(context, path);
    }
    if recursive {
        if depth >= MAX_DEPTH {
            return Err(Errno::Loop);
        }
        for name in entries(session, path)? {
            remove_entry(session, &join(path, &name), true, depth + 1)?;
        }
    }
    vfs.rmdir(context, path)
}

/// `mv`: rename(2), into `to` if it is a directory.
pub fn rename(session: &Session<'_, '_>, from: &str, to: &str) -> Result<(), String> {
    not_root(from)?;
    let name = last(from).unwrap_or_default();
    let to = target(session, to, name)?;
    session
        .vfs
        .rename(session.context, &absolute(from), &to)
        .map_err(failed(from))
}
