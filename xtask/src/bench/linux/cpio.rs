//! The Linux guest's initramfs as a "newc" cpio archive (the `cpio` crate).
//!
//! Entries are directories, regular files and character devices, written
//! in order with inode numbers 1, 2, ... and then the `TRAILER!!!` entry.
//! Owners are root and times zero, so the same files give the same bytes.

use std::io::Write as _;

/// What one archive entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A directory.
    Directory,
    /// A regular file with these permission bits (e.g. 0o755) and bytes.
    File { permissions: u32, data: Vec<u8> },
    /// A character device (e.g. /dev/console is 5, 1).
    CharDevice { major: u32, minor: u32 },
}

/// One entry: its path inside the archive (no leading `/`) and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub node: Node,
}

/// Why an entry cannot be archived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpioError {
    /// A file of 4 GiB or more does not fit the 32-bit size field.
    TooLarge,
}

impl std::fmt::Display for CpioError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a file of 4 GiB or more does not fit a newc cpio archive")
    }
}

impl std::error::Error for CpioError {}

/// Writes to memory cannot fail, and each entry's size is its data's.
const IN_MEMORY: &str = "an in-memory archive entry of the declared size";

/// The archive of `entries`, in order, with the trailer.
pub fn archive(entries: &[Entry]) -> Result<Vec<u8>, CpioError> {
    let mut bytes = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        // Inode numbers only need to differ; 0 is left to the trailer.
        let inode = u32::try_from(index + 1).map_err(|_| CpioError::TooLarge)?;
        bytes = append(bytes, inode, entry)?;
    }
    Ok(cpio::newc::trailer(bytes).expect(IN_MEMORY))
}

/// `bytes` with `entry` appended as inode `inode`.
fn append(bytes: Vec<u8>, inode: u32, entry: &Entry) -> Result<Vec<u8>, CpioError> {
    let (mode, links, data, (major, minor)) = match &entry.node {
        Node::Directory => (0o040_755, 2, &[][..], (0, 0)),
        Node::File { permissions, data } => (0o100_000 | permissions, 1, &data[..], (0, 0)),
        Node::CharDevice { major, minor } => (0o020_600, 1, &[][..], (*major, *minor)),
    };
    let size = u32::try_from(data.len()).map_err(|_| CpioError::TooLarge)?;
    let mut writer = cpio::newc::Builder::new(&entry.path)
        .ino(inode)
        .mode(mode)
        .nlink(links)
        .rdev_major(major)
        .rdev_minor(minor)
        .write(bytes, size);
    writer.write_all(data).expect(IN_MEMORY);
    Ok(writer.finish().expect(IN_MEMORY))
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    /// An entry as read back: name, mode, device numbers and data.
    type ReadEntry = (String, u32, (u32, u32), Vec<u8>);

    /// Every entry of `bytes`, trailer excluded, read back with the crate's
    /// reader.
    fn read_back(mut bytes: &[u8]) -> Vec<ReadEntry> {
        let mut entries = Vec::new();
        loop {
            let mut reader = cpio::newc::Reader::new(bytes).expect("a header");
            if reader.entry().is_trailer() {
                assert_eq!(reader.finish().expect("the end").len(), 0, "nothing after");
                return entries;
            }
            let entry = reader.entry();
            let (name, mode) = (entry.name().to_string(), entry.mode());
            let device = (entry.rdev_major(), entry.rdev_minor());
            let mut data = Vec::new();
            reader.read_to_end(&mut data).expect("the data");
            entries.push((name, mode, device, data));
            bytes = reader.finish().expect("the next entry");
        }
    }

    #[test]
    fn entries_read_back_in_order_with_their_kinds() {
        let entries = [
            Entry {
                path: "bin".into(),
                node: Node::Directory,
            },
            Entry {
                path: "init".into(),
                node: Node::File {
                    permissions: 0o755,
                    data: b"#!/bin/sh\n".to_vec(),
                },
            },
            Entry {
                path: "dev/console".into(),
                node: Node::CharDevice { major: 5, minor: 1 },
            },
        ];
        let bytes = archive(&entries).expect("small files fit");
        assert_eq!(bytes.len() % 4, 0);
        assert!(bytes.starts_with(b"070701"), "newc magic");
        let read = read_back(&bytes);
        let expected = [
            ("bin", 0o040_755, (0, 0), &b""[..]),
            ("init", 0o100_755, (0, 0), b"#!/bin/sh\n"),
            ("dev/console", 0o020_600, (5, 1), b""),
        ];
        assert_eq!(read.len(), expected.len());
        for (got, want) in read.iter().zip(expected) {
            assert_eq!((got.0.as_str(), got.1, got.2, &got.3[..]), want);
        }
    }

    #[test]
    fn the_same_entries_give_the_same_bytes() {
        let entries = [Entry {
            path: "www/index.html".into(),
            node: Node::File {
                permissions: 0o644,
                data: b"<p>hi</p>".to_vec(),
            },
        }];
        assert_eq!(archive(&entries), archive(&entries));
        assert!(read_back(&archive(&[]).expect("empty")).is_empty());
    }
}
