//! From a `/files/…` URL path to a vfs path, refusing traversal.
//!
//! The query is dropped, `%XX` escapes decoded, and then the path must be
//! plain names: no `.` or `..` (403), no empty name but a trailing one (a
//! doubled or encoded leading slash would make it absolute: 403), no NUL
//! or `%00`, no bad escape, no name past 255 bytes, no path past
//! [`PATH_LIMIT`], nothing that is not UTF-8 (400). `/files/tmp/…` is the
//! upload directory (`tmp/` of a writable site, or the root tmpfs's
//! `/tmp`: see [`crate::files`]); everything else under `/files/` is the
//! site, read-only to HTTP.

use alloc::string::String;
use alloc::vec::Vec;

use crate::files::SITE;

/// The URL prefix of the file tree.
pub(super) const PREFIX: &str = "/files";
/// The longest decoded path accepted.
pub(super) const PATH_LIMIT: usize = 1024;
/// The longest name in it.
const NAME_LIMIT: usize = 255;

/// A request's file, as the vfs names it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Target {
    /// The vfs path.
    pub(super) path: String,
    /// Whether it is in the writable directory.
    pub(super) writable: bool,
    /// Whether it names the writable directory itself (nothing to PUT).
    pub(super) is_upload_root: bool,
    /// The URL path as the client sent it, less the query.
    pub(super) url: String,
}

/// Why a path was refused: the status and the text to answer.
pub(super) type Refusal = (u16, &'static str);

/// Whether `url` is under [`PREFIX`].
pub(super) fn is_file_url(url: &str) -> bool {
    relative(url).is_some()
}

/// `url` less its query and [`PREFIX/`], if it is under [`PREFIX`].
fn relative(url: &str) -> Option<&str> {
    let url = url.split('?').next().unwrap_or_default();
    let rest = url.strip_prefix(PREFIX)?;
    match rest.strip_prefix('/') {
        Some(relative) => Some(relative),
        None if rest.is_empty() => Some(""),
        None => None,
    }
}

/// The target of `url` if it is under [`PREFIX`]; `None` otherwise.
/// `/files/tmp/…` maps into `uploads`.
pub(super) fn target(url: &str, uploads: &str) -> Option<Result<Target, Refusal>> {
    let relative = relative(url)?;
    let url = url.split('?').next().unwrap_or_default();
    Some(decode(relative).and_then(|decoded| {
        let mut target = map(&decoded, uploads)?;
        target.url = String::from(url);
        Ok(target)
    }))
}

/// `%XX` decoded; 400 for a bad escape, NUL, or a path too long.
fn decode(text: &str) -> Result<Vec<u8>, Refusal> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let byte = if bytes[at] == b'%' {
            let hex = bytes.get(at + 1..at + 3).ok_or((400, "bad escape\n"))?;
            let hex = core::str::from_utf8(hex).map_err(|_| (400, "bad escape\n"))?;
            at += 3;
            u8::from_str_radix(hex, 16).map_err(|_| (400, "bad escape\n"))?
        } else {
            at += 1;
            bytes[at - 1]
        };
        if byte == 0 {
            return Err((400, "NUL in path\n"));
        }
        decoded.push(byte);
        if decoded.len() > PATH_LIMIT {
            return Err((400, "path too long\n"));
        }
    }
    Ok(decoded)
}

/// The vfs path of a decoded relative path.
fn map(decoded: &[u8], uploads: &str) -> Result<Target, Refusal> {
    let text = core::str::from_utf8(decoded).map_err(|_| (400, "path not UTF-8\n"))?;
    let names: Vec<&str> = text.split('/').collect();
    let last = names.len() - 1;
    for (index, name) in names.iter().enumerate() {
        match *name {
            "" if index == last => {}
            "" | "." | ".." => return Err((403, "no such path here\n")),
            _ if name.len() > NAME_LIMIT => return Err((400, "name too long\n")),
            _ => {}
        }
    }
    let clean = text.trim_end_matches('/');
    let (root, inside, writable) = match clean.split_once('/') {
        _ if clean == "tmp" => (uploads, "", true),
        Some(("tmp", inside)) => (uploads, inside, true),
        _ => (SITE, clean, false),
    };
    let mut path = String::from(root);
    if !inside.is_empty() {
        path.push('/');
        path.push_str(inside);
    }
    Ok(Target {
        path,
        writable,
        is_upload_root: writable && inside.is_empty(),
        url: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(url: &str) -> Result<(String, bool), Refusal> {
        let target = target(url, "/tmp").expect("under /files")?;
        Ok((target.path, target.writable))
    }

    #[test]
    fn file_urls_map_into_the_site_and_the_upload_directory() {
        assert_eq!(path("/files"), Ok(("/www".into(), false)));
        assert_eq!(path("/files/"), Ok(("/www".into(), false)));
        assert_eq!(
            path("/files/a/b.html?x=1"),
            Ok(("/www/a/b.html".into(), false))
        );
        assert_eq!(path("/files/dir/"), Ok(("/www/dir".into(), false)));
        assert_eq!(
            path("/files/with%20space"),
            Ok(("/www/with space".into(), false))
        );
        assert_eq!(path("/files/tmp/up.bin"), Ok(("/tmp/up.bin".into(), true)));
        assert_eq!(path("/files/tmp"), Ok(("/tmp".into(), true)));
        assert_eq!(path("/files/tmpfile"), Ok(("/www/tmpfile".into(), false)));
        assert!(target("/filesystem", "/tmp").is_none());
        assert!(!is_file_url("/filesystem") && is_file_url("/files?x") && is_file_url("/files/a"));
        assert!(target("/stats", "/tmp").is_none());
        let on_disk = target("/files/tmp/up.bin", "/www/tmp").expect("under /files");
        assert_eq!(on_disk.map(|t| t.path), Ok("/www/tmp/up.bin".into()));
    }

    #[test]
    fn traversal_is_refused() {
        for (url, status) in [
            ("/files/../etc/passwd", 403),
            ("/files/a/../../x", 403),
            ("/files/%2e%2e/x", 403),
            ("/files/./x", 403),
            ("/files//etc/passwd", 403),
            ("/files/%2Fetc%2Fpasswd", 403),
            ("/files/a//b", 403),
            ("/files/tmp/../../x", 403),
            ("/files/x%00.html", 400),
            ("/files/bad%zz", 400),
            ("/files/bad%4", 400),
            ("/files/%ff%fe", 400),
        ] {
            assert_eq!(path(url).err().map(|(s, _)| s), Some(status), "{url}");
        }
        let long_name = alloc::format!("/files/{}", "n".repeat(256));
        assert_eq!(path(&long_name).err().map(|(s, _)| s), Some(400));
        let long_path = alloc::format!("/files/{}", "d/".repeat(600));
        assert_eq!(path(&long_path).err().map(|(s, _)| s), Some(400));
    }
}
