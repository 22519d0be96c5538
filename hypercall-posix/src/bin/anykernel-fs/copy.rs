//! Commands that copy and change trees: get, put, mkdir, rm, mv.
//!
//! Trees are walked with a depth bound, so a damaged image whose
//! directories loop ends with an error rather than recursing forever.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use ext2::{Access, Error, FileKind, InodeNumber};

use crate::commands::{CHUNK, ImageFs, failed, split};
use crate::paths::resolve;

/// Directory levels a copy or removal descends.
const MAX_DEPTH: u32 = 256;

/// A directory's entries (name, inode), without `.` and `..`.
pub fn entries(fs: &ImageFs, directory: InodeNumber) -> Result<Vec<(String, InodeNumber)>, Error> {
    let mut entries = Vec::new();
    fs.readdir(directory, 0, |entry| {
        if entry.name != b"." && entry.name != b".." {
            entries.push((
                String::from_utf8_lossy(entry.name).into_owned(),
                entry.inode,
            ));
        }
        true
    })?;
    Ok(entries)
}

/// Hands file `inode`'s contents to `sink` a chunk at a time.
pub fn read_file(
    fs: &ImageFs,
    inode: InodeNumber,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<(), String> {
    let mut buf = vec![0; CHUNK];
    let mut offset = 0;
    loop {
        let read = fs
            .read_at(inode, offset, &mut buf)
            .map_err(|e| e.to_string())?;
        if read == 0 {
            return Ok(());
        }
        sink(&buf[..read]).map_err(|e| e.to_string())?;
        offset += read as u64;
    }
}

/// `get`: copies `path` out to `destination` (default: its name, here).
pub fn get(fs: &ImageFs, path: &str, destination: Option<&Path>) -> Result<(), String> {
    let inode = resolve(fs, path).map_err(failed(path))?;
    let name = crate::paths::components(path)
        .last()
        .copied()
        .unwrap_or("root")
        .to_string();
    let destination = destination.map_or_else(|| name.into(), Path::to_path_buf);
    get_tree(fs, inode, &destination, 0)
}

fn get_tree(fs: &ImageFs, inode: InodeNumber, to: &Path, depth: u32) -> Result<(), String> {
    let shown = to.display().to_string();
    let attributes = fs.getattr(inode).map_err(failed(&shown))?;
    let host = |error: std::io::Error| format!("{shown}: {error}");
    match attributes.kind {
        FileKind::Directory if depth < MAX_DEPTH => {
            std::fs::create_dir_all(to).map_err(host)?;
            for (name, child) in entries(fs, inode).map_err(failed(&shown))? {
                get_tree(fs, child, &to.join(name), depth + 1)?;
            }
        }
        FileKind::Directory => return Err(format!("{shown}: directories nested too deep")),
        FileKind::Symlink => {
            let target = fs.readlink(inode).map_err(failed(&shown))?;
            let target = String::from_utf8_lossy(&target).into_owned();
            std::os::unix::fs::symlink(target, to).map_err(host)?;
            return Ok(());
        }
        FileKind::Regular => {
            let mut file = File::create(to).map_err(host)?;
            read_file(fs, inode, |chunk| file.write_all(chunk))
                .map_err(|error| format!("{shown}: {error}"))?;
        }
        _ => return Err(format!("{shown}: not a file, directory or symlink")),
    }
    let mode = u32::from(attributes.mode);
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).map_err(host)
}

/// Where a new entry for `path` goes: inside it if it is a directory,
/// else at its parent under its last name. `fallback` names it in a
/// directory.
fn target(fs: &ImageFs, path: &str, fallback: &str) -> Result<(InodeNumber, String), String> {
    match resolve(fs, path) {
        Ok(inode)
            if fs
                .getattr(inode)
                .is_ok_and(|a| a.kind == FileKind::Directory) =>
        {
            Ok((inode, fallback.to_string()))
        }
        _ => split(fs, path),
    }
}

/// `put`: copies the host file or tree `source` into the image at `path`.
pub fn put(fs: &mut ImageFs, source: &Path, path: &str) -> Result<(), String> {
    let name = source.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.ok_or_else(|| format!("{}: no file name", source.display()))?;
    let (directory, name) = target(fs, path, &name)?;
    put_tree(fs, source, directory, &name, 0)
}

fn put_tree(
    fs: &mut ImageFs,
    source: &Path,
    directory: InodeNumber,
    name: &str,
    depth: u32,
) -> Result<(), String> {
    let shown = source.display().to_string();
    let host = |error: std::io::Error| format!("{shown}: {error}");
    let meta = std::fs::symlink_metadata(source).map_err(host)?;
    let access = Access {
        mode: (meta.mode() & 0o7777) as u16,
        uid: meta.uid(),
        gid: meta.gid(),
    };
    let existing = fs.lookup(directory, name.as_bytes()).ok();
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(source).map_err(host)?;
        let target = target.as_os_str().as_encoded_bytes();
        fs.symlink(directory, name.as_bytes(), target, access)
            .map_err(failed(name))?;
    } else if meta.is_dir() {
        if depth >= MAX_DEPTH {
            return Err(format!("{shown}: directories nested too deep"));
        }
        let inode = match existing {
            Some(inode) => inode,
            None => fs
                .mkdir(directory, name.as_bytes(), access)
                .map_err(failed(name))?,
        };
        for entry in std::fs::read_dir(source).map_err(host)? {
            let entry = entry.map_err(host)?;
            let child = entry.file_name().to_string_lossy().into_owned();
            put_tree(fs, &entry.path(), inode, &child, depth + 1)?;
        }
    } else {
        let inode = match existing {
            Some(inode) => {
                fs.truncate(inode, 0).map_err(failed(name))?;
                inode
            }
            None => fs
                .create(directory, name.as_bytes(), access)
                .map_err(failed(name))?,
        };
        let mut file = File::open(source).map_err(host)?;
        write_file(fs, inode, &mut file).map_err(|error| format!("{name}: {error}"))?;
    }
    Ok(())
}

/// Copies everything `reader` gives into file `inode`.
fn write_file(fs: &mut ImageFs, inode: InodeNumber, reader: &mut impl Read) -> Result<(), String> {
    let mut buf = vec![0; CHUNK];
    let mut offset = 0u64;
    loop {
        let read = reader.read(&mut buf).map_err(|e| e.to_string())?;
        if read == 0 {
            return Ok(());
        }
        let mut done = 0;
        while done < read {
            let written = fs
                .write_at(inode, offset, &buf[done..read])
                .map_err(|e| e.to_string())?;
            done += written;
            offset += written as u64;
        }
    }
}

/// `mkdir [-p]`.
pub fn mkdir(fs: &mut ImageFs, path: &str, parents: bool) -> Result<(), String> {
    let access = Access {
        mode: 0o755,
        uid: 0,
        gid: 0,
    };
    if !parents {
        let (directory, name) = split(fs, path)?;
        return fs
            .mkdir(directory, name.as_bytes(), access)
            .map(drop)
            .map_err(failed(path));
    }
    let mut current = fs.root();
    for part in crate::paths::components(path) {
        current = match fs.lookup(current, part.as_bytes()) {
            Ok(inode) => inode,
            Err(Error::NotFound) => fs
                .mkdir(current, part.as_bytes(), access)
                .map_err(failed(path))?,
            Err(error) => return Err(failed(path)(error)),
        };
    }
    Ok(())
}

/// `rm [-r]`.
pub fn remove(fs: &mut ImageFs, path: &str, recursive: bool) -> Result<(), String> {
    let (directory, name) = split(fs, path)?;
    remove_entry(fs, directory, &name, recursive, 0).map_err(failed(path))
}

fn remove_entry(
    fs: &mut ImageFs,
    directory: InodeNumber,
    name: &str,
    recursive: bool,
    depth: u32,
) -> Result<(), Error> {
    let inode = fs.lookup(directory, name.as_bytes())?;
    if fs.getattr(inode)?.kind != FileKind::Directory {
        return fs.unlink(directory, name.as_bytes());
    }
    if recursive {
        if depth >= MAX_DEPTH {
            return Err(Error::Loop);
        }
        for (child, _) in entries(fs, inode)? {
            remove_entry(fs, inode, &child, true, depth + 1)?;
        }
    }
    fs.rmdir(directory, name.as_bytes())
}

/// `mv`.
pub fn rename(fs: &mut ImageFs, from: &str, to: &str) -> Result<(), String> {
    let (from_directory, from_name) = split(fs, from)?;
    let (to_directory, to_name) = target(fs, to, &from_name)?;
    fs.rename(
        from_directory,
        from_name.as_bytes(),
        to_directory,
        to_name.as_bytes(),
    )
    .map_err(failed(from))
}
