//! The `mount=` boot parameter: which file systems to mount where at boot.
//!
//! `mount=DEVICE:PATH:TYPE[:OPTION]`, several separated by commas (a
//! second `mount=` word would replace the first: boot parameters are not
//! lists), e.g. `mount=vblk0:/www:ext2:ro,vblk1:/data:ext2`.
//!
//! | field | meaning |
//! | --- | --- |
//! | `DEVICE` | the disk (`vblk0`, …); for a file system without one (tmpfs), any word, e.g. `none` |
//! | `PATH` | the directory to mount on, absolute; made (with its parents) if missing |
//! | `TYPE` | the file system: `ext2`, `tmpfs`, whatever the kernel links |
//! | `OPTION` | `ro` (read-only) or `rw` (the default) |
//!
//! This module only reads the text ([`parse_list`]); the `kernel` crate's
//! `mounts` component mounts what it names, logging each entry it cannot
//! use and going on without it.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// The boot parameter's name.
pub const PARAMETER: &str = "mount";

/// One file system to mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    /// The device (a disk name such as `vblk0`).
    pub device: String,
    /// The absolute path to mount on.
    pub path: String,
    /// The file system type (`ext2`, `tmpfs`).
    pub kind: String,
    /// Mount read-only.
    pub read_only: bool,
}

/// Why an entry of `mount=` was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: {} (expected DEVICE:PATH:TYPE[:ro|rw], e.g. vblk0:/www:ext2:ro)",
            self.entry, self.reason
        )
    }
}

impl core::error::Error for SpecError {}

impl fmt::Display for MountSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let option = if self.read_only { ":ro" } else { "" };
        write!(f, "{}:{}:{}{option}", self.device, self.path, self.kind)
    }
}

/// Every entry of a `mount=` value, in order; empty entries (a trailing
/// comma) are skipped.
pub fn parse_list(value: &str) -> Vec<Result<MountSpec, SpecError>> {
    value
        .split(',')
        .filter(|entry| !entry.is_empty())
        .map(parse)
        .collect()
}

/// One `DEVICE:PATH:TYPE[:OPTION]` entry.
///
/// # Errors
/// A [`SpecError`] naming the entry and what is wrong.
pub fn parse(entry: &str) -> Result<MountSpec, SpecError> {
    let fail = |reason| SpecError {
        entry: entry.to_string(),
        reason,
    };
    let fields: Vec<&str> = entry.split(':').collect();
    let (device, path, kind, option) = match fields[..] {
        [device, path, kind] => (device, path, kind, None),
        [device, path, kind, option] => (device, path, kind, Some(option)),
        _ => return Err(fail("three or four fields separated by `:`")),
    };
    if device.is_empty() {
        return Err(fail("no device"));
    }
    if !path.starts_with('/') || path.contains('\0') {
        return Err(fail("the path is not absolute"));
    }
    if kind.is_empty() {
        return Err(fail("no file system type"));
    }
    let read_only = match option {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(_) => return Err(fail("the option is neither `ro` nor `rw`")),
    };
    Ok(MountSpec {
        device: device.to_string(),
        path: path.to_string(),
        kind: kind.to_string(),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(device: &str, path: &str, kind: &str, read_only: bool) -> MountSpec {
        MountSpec {
            device: device.into(),
            path: path.into(),
            kind: kind.into(),
            read_only,
        }
    }

    #[test]
    fn entries_are_separated_by_commas_and_take_an_option() {
        assert_eq!(
            parse_list("vblk0:/www:ext2,vblk1:/data/disk:ext2:ro,none:/scratch:tmpfs:rw,"),
            [
                Ok(spec("vblk0", "/www", "ext2", false)),
                Ok(spec("vblk1", "/data/disk", "ext2", true)),
                Ok(spec("none", "/scratch", "tmpfs", false)),
            ]
        );
        assert_eq!(
            spec("vblk0", "/www", "ext2", true).to_string(),
            "vblk0:/www:ext2:ro"
        );
    }

    #[test]
    fn bad_entries_are_named_with_the_reason_and_the_rest_still_parse() {
        let parsed = parse_list("vblk0:www:ext2,vblk0:/a:ext2:rx,vblk2:/b:ext2");
        assert_eq!(
            parsed[0].as_ref().err().map(|e| e.reason),
            Some("the path is not absolute")
        );
        assert_eq!(
            parsed[1].as_ref().err().map(|e| e.reason),
            Some("the option is neither `ro` nor `rw`")
        );
        assert_eq!(parsed[2], Ok(spec("vblk2", "/b", "ext2", false)));
        for bad in [
            "",
            "vblk0",
            "vblk0:/www",
            ":/www:ext2",
            "vblk0:/www:",
            "a:/b:c:ro:x",
        ] {
            let error = parse(bad).expect_err(bad);
            assert!(
                error.to_string().contains("expected DEVICE:PATH:TYPE"),
                "{error}"
            );
        }
    }
}
