//! `ls` and `cat`: the kernel's files, through the remote file calls.

use std::io::Write;

use anykernel_client::proto::types::{Descriptor, DirectoryEntry, FileKind, FileStatus};
use anykernel_client::{Client, Error, Stubs};

/// Linux's O_DIRECTORY (the file calls take Linux's `O_` values).
const O_DIRECTORY: u32 = 0o200000;
/// Bytes asked for per read.
const READ_SIZE: u32 = 64 * 1024;
/// Entries asked for per directory call.
const ENTRIES: u32 = 256;

/// `ls [PATH]`: a directory's names, one a line, `ls -l`'s shape (kind
/// and permissions, links, size, name); a file: that one line.
pub fn ls(client: &Client, path: &str) -> Result<String, String> {
    let failed = |error: Error| format!("{path}: {error}");
    let status = client.stat(path.into()).map_err(failed)?;
    if status.kind != FileKind::Directory {
        return Ok(line(&status, path));
    }
    let fd = client.open(path.into(), O_DIRECTORY, 0).map_err(failed)?;
    let listed = list(client, fd);
    let _ = client.close(fd);
    let mut out = String::new();
    for entry in listed.map_err(failed)? {
        let full = format!("{}/{}", path.trim_end_matches('/'), entry.name);
        match client.stat(full) {
            Ok(status) => out.push_str(&line(&status, &entry.name)),
            Err(_) => out.push_str(&format!("{} {}\n", letter(entry.kind), entry.name)),
        }
    }
    Ok(out)
}

fn list(client: &Client, fd: Descriptor) -> Result<Vec<DirectoryEntry>, Error> {
    let mut entries: Vec<DirectoryEntry> = Vec::new();
    loop {
        let some = client.read_directory(fd, ENTRIES)?;
        if some.is_empty() {
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok(entries);
        }
        entries.extend(some);
    }
}

/// One `ls -l` line.
fn line(status: &FileStatus, name: &str) -> String {
    let mut mode = String::from(letter(status.kind));
    for shift in [6, 3, 0] {
        let bits = (status.permissions >> shift) & 7;
        for (bit, character) in [(4, 'r'), (2, 'w'), (1, 'x')] {
            mode.push(if bits & bit != 0 { character } else { '-' });
        }
    }
    format!("{mode} {:>3} {:>10} {name}\n", status.links, status.size)
}

fn letter(kind: FileKind) -> char {
    match kind {
        FileKind::File => '-',
        FileKind::Directory => 'd',
        FileKind::Symlink => 'l',
    }
}

/// `cat PATH…`: each file's bytes to standard output, in order.
pub fn cat(client: &Client, paths: &[String]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    for path in paths {
        let failed = |error: Error| format!("{path}: {error}");
        let fd = client.open(path.clone(), 0, 0).map_err(failed)?;
        let copied = copy(client, fd, &mut out);
        let _ = client.close(fd);
        copied.map_err(|error| format!("{path}: {error}"))?;
    }
    Ok(())
}

fn copy(client: &Client, fd: Descriptor, out: &mut impl Write) -> Result<(), String> {
    loop {
        let bytes = client.read(fd, READ_SIZE).map_err(|e| e.to_string())?;
        if bytes.0.is_empty() {
            return Ok(());
        }
        out.write_all(&bytes.0).map_err(|e| e.to_string())?;
    }
}
