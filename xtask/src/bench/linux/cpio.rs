//! A writer of cpio archives in the "newc" format, as Linux's initramfs reads.
//!
//! Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex
//! fields), the NUL-terminated name padded to a multiple of 4 bytes, then
//! the data padded the same way; the archive ends with `TRAILER!!!`.
//! Owners are root and times zero, so the same files give the same bytes.

use std::fmt::Write as _;

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

/// The `newc` header magic.
const MAGIC: &str = "070701";
/// The name of the entry that ends an archive.
const TRAILER: &str = "TRAILER!!!";

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

/// The archive of `entries`, in order, with the trailer.
pub fn archive(entries: &[Entry]) -> Result<Vec<u8>, CpioError> {
    let mut bytes = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        // Inode numbers only need to differ; 0 is left to the trailer.
        let inode = u32::try_from(index + 1).map_err(|_| CpioError::TooLarge)?;
        append(&mut bytes, inode, &entry.path, &entry.node)?;
    }
    let trailer = Node::File {
        permissions: 0,
        data: Vec::new(),
    };
    append(&mut bytes, 0, TRAILER, &trailer)?;
    Ok(bytes)
}

fn append(bytes: &mut Vec<u8>, inode: u32, path: &str, node: &Node) -> Result<(), CpioError> {
    let (mode, links, data, device) = match node {
        Node::Directory => (0o040_755, 2, &[][..], (0, 0)),
        Node::File { permissions, data } => (0o100_000 | permissions, 1, &data[..], (0, 0)),
        Node::CharDevice { major, minor } => (0o020_600, 1, &[][..], (*major, *minor)),
    };
    let size = u32::try_from(data.len()).map_err(|_| CpioError::TooLarge)?;
    let name_size = u32::try_from(path.len() + 1).map_err(|_| CpioError::TooLarge)?;
    let mut header = String::from(MAGIC);
    let fields = [
        inode, mode, 0, 0, links, 0, size, 0, 0, device.0, device.1, name_size, 0,
    ];
    for field in fields {
        let _ = write!(header, "{field:08x}");
    }
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(path.as_bytes());
    bytes.push(0);
    pad(bytes);
    bytes.extend_from_slice(data);
    pad(bytes);
    Ok(())
}

/// Zeroes up to the next multiple of 4 bytes.
fn pad(bytes: &mut Vec<u8>) {
    while !bytes.len().is_multiple_of(4) {
        bytes.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of the header at `offset`: the name, mode, size, rdev.
    fn header_at(bytes: &[u8], offset: usize) -> (String, u32, u32, (u32, u32), usize) {
        let text = std::str::from_utf8(&bytes[offset..offset + 110]).expect("ASCII header");
        assert_eq!(&text[..6], MAGIC);
        let field = |index: usize| {
            u32::from_str_radix(&text[6 + index * 8..14 + index * 8], 16).expect("hex field")
        };
        let name_size = field(11) as usize;
        let name_start = offset + 110;
        let name = std::str::from_utf8(&bytes[name_start..name_start + name_size - 1])
            .expect("UTF-8 name")
            .to_string();
        assert_eq!(bytes[name_start + name_size - 1], 0, "names end in NUL");
        let data_start = (name_start + name_size).next_multiple_of(4);
        let next = (data_start + field(6) as usize).next_multiple_of(4);
        (name, field(1), field(6), (field(9), field(10)), next)
    }

    #[test]
    fn entries_are_aligned_headers_names_and_data_then_the_trailer() {
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
        let (name, mode, size, _, next) = header_at(&bytes, 0);
        assert_eq!((name.as_str(), mode, size), ("bin", 0o040_755, 0));
        let (name, mode, size, _, after_init) = header_at(&bytes, next);
        assert_eq!((name.as_str(), mode, size), ("init", 0o100_755, 10));
        let data_start = (next + 110 + 5).next_multiple_of(4);
        assert_eq!(&bytes[data_start..data_start + 10], b"#!/bin/sh\n");
        let (name, mode, _, device, after_console) = header_at(&bytes, after_init);
        assert_eq!(
            (name.as_str(), mode, device),
            ("dev/console", 0o020_600, (5, 1))
        );
        let (name, _, size, _, end) = header_at(&bytes, after_console);
        assert_eq!((name.as_str(), size, end), (TRAILER, 0, bytes.len()));
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
        assert!(archive(&[]).expect("empty").starts_with(b"070701"));
    }
}
