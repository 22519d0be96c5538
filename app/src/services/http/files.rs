//! `/files/…`: the files baked into the image, and uploads.
//!
//! `GET` and `HEAD` serve a file with its `Content-Length`, type and
//! `Last-Modified` (`If-Modified-Since` at or after it: 304), or list a
//! directory. With the boot parameter `http.writable=1`, `PUT` stores a
//! body of at most `http.upload_limit` bytes (default 16 MiB; more: 413)
//! under `/files/tmp/` (`tmp/` of the site when the site is a writable
//! disk, else the root tmpfs's `/tmp`: [`crate::files`]), and `DELETE`
//! removes what is there; elsewhere they are refused (403; 405 while
//! uploads are off). A `PUT` is answered once its file is on stable
//! storage (fsync). Paths are checked first ([`super::paths`]).

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write;

use kernel::Context;
use kernel::vfs::{Errno, NodeKind, OpenFlags, Stat, Vfs};
use serve::Io;

use crate::files;

use super::date::{parse_imf_fixdate, write_header};
use super::paths::{self, Target};
use super::request::Request;
use super::transfer::Transfer;
use super::{Reply, head, send};

/// The largest upload unless `http.upload_limit` says otherwise.
const DEFAULT_UPLOAD_LIMIT: usize = 16 << 20;
/// Directory entries listed at most.
const LISTING_LIMIT: usize = 4096;

/// Files over HTTP.
pub(super) struct FileService {
    vfs: Arc<Vfs>,
    writable: bool,
    upload_limit: u64,
    /// Where `/files/tmp/` is.
    uploads: String,
}

impl FileService {
    /// The service, when the kernel has a vfs; configured from the boot
    /// parameters `http.writable` and `http.upload_limit`.
    pub(super) fn new(context: &Context<'_>) -> Option<Self> {
        let vfs = Vfs::of(context)?;
        let params = context.kernel().params();
        let writable = files::uploads_enabled(context);
        let limit = params.get_size("http.upload_limit").ok().flatten();
        let upload_limit = limit.unwrap_or(DEFAULT_UPLOAD_LIMIT) as u64;
        let uploads = if writable {
            files::upload_directory(context, &vfs)
        } else {
            String::from(files::UPLOADS)
        };
        if writable {
            log::info!("http: uploads under /files/tmp/ ({uploads}), at most {upload_limit} bytes");
        }
        Some(Self {
            vfs,
            writable,
            upload_limit,
            uploads,
        })
    }

    /// Answers a request for `target`; whether the connection stays open
    /// (or a transfer goes on).
    pub(super) fn answer(
        &self,
        io: &mut Io<'_, '_>,
        request: &Request<'_>,
        url: &str,
        transfer: &mut Option<Transfer>,
    ) -> bool {
        let target = match paths::target(url, &self.uploads) {
            Some(Ok(target)) => target,
            None => return reply(io, request, 404, "not found\n"),
            Some(Err((status, text))) => return reply(io, request, status, text),
        };
        match request.method {
            "GET" | "HEAD" if !request.has_body() => self.get(io, request, &target, transfer),
            "PUT" => self.put(io, request, &target, transfer),
            "DELETE" if !request.has_body() => self.delete(io, request, &target),
            _ => reply(io, request, 405, "GET, HEAD, PUT or DELETE\n"),
        }
    }

    fn get(
        &self,
        io: &mut Io<'_, '_>,
        request: &Request<'_>,
        target: &Target,
        transfer: &mut Option<Transfer>,
    ) -> bool {
        let context = io.context();
        let stat = match self.vfs.stat(context, &target.path) {
            Ok(stat) => stat,
            Err(errno) => return reply_errno(io, request, errno),
        };
        if stat.attributes.kind == NodeKind::Directory {
            return self.list(io, request, target);
        }
        let mut extra = String::new();
        let _ = write_header(&mut extra, "Last-Modified", stat.attributes.modified_ns);
        let kind = content_type(&target.path);
        let size = stat.attributes.size;
        if not_modified(request, &stat) {
            let response = head(io, 304, kind, size, request.keep_alive, &extra);
            io.send(response.as_bytes());
            return request.keep_alive;
        }
        let file = match self
            .vfs
            .open_file(context, &target.path, OpenFlags::READ_ONLY, 0)
        {
            Ok(file) => file,
            Err(errno) => return reply_errno(io, request, errno),
        };
        let response = head(io, 200, kind, size, request.keep_alive, &extra);
        io.send(response.as_bytes());
        if request.method == "HEAD" || size == 0 {
            return request.keep_alive;
        }
        *transfer = Some(Transfer::Sending {
            vfs: self.vfs.clone(),
            file,
            offset: 0,
            end: size,
            keep_alive: request.keep_alive,
        });
        true
    }

    /// A directory's entries as links.
    fn list(&self, io: &mut Io<'_, '_>, request: &Request<'_>, target: &Target) -> bool {
        let context = io.context();
        let fd = match self
            .vfs
            .open(context, &target.path, OpenFlags::DIRECTORY, 0)
        {
            Ok(fd) => fd,
            Err(errno) => return reply_errno(io, request, errno),
        };
        let base = target.url.trim_end_matches('/');
        let mut page = String::new();
        let _ = write!(
            page,
            "<!doctype html>\n<html><head><title>{}</title></head>\n<body><h1>{}</h1>\n<ul>\n",
            escape(base),
            escape(base)
        );
        for _ in 0..LISTING_LIMIT {
            let Ok(Some(entry)) = self.vfs.readdir(context, fd) else {
                break;
            };
            let name = String::from_utf8_lossy(&entry.name);
            let slash = if entry.kind == NodeKind::Directory {
                "/"
            } else {
                ""
            };
            let _ = writeln!(
                page,
                "<li><a href=\"{base}/{}{slash}\">{}{slash}</a></li>",
                encode(&entry.name),
                escape(&name)
            );
        }
        page.push_str("</ul>\n</body></html>\n");
        let _ = self.vfs.close(context, fd);
        let listing = Reply {
            status: 200,
            kind: "text/html",
            body: &page,
            keep_alive: request.keep_alive,
            head_only: request.method == "HEAD",
        };
        send(io, &listing);
        request.keep_alive
    }

    /// Whether uploads may touch `target`; answers (and closes) when not.
    fn refuses_change(&self, io: &mut Io<'_, '_>, request: &Request<'_>, target: &Target) -> bool {
        if !self.writable {
            reply(
                io,
                request,
                405,
                "uploads are off (boot with http.writable=1)\n",
            );
            return true;
        }
        if !target.writable || target.is_upload_root {
            reply(io, request, 403, "uploads go under /files/tmp/\n");
            return true;
        }
        false
    }

    fn put(
        &self,
        io: &mut Io<'_, '_>,
        request: &Request<'_>,
        target: &Target,
        transfer: &mut Option<Transfer>,
    ) -> bool {
        if self.refuses_change(io, request, target) {
            return false;
        }
        let Some(length) = request.content_length.filter(|_| !request.chunked) else {
            return reply(io, request, 411, "Content-Length, please\n");
        };
        if length > self.upload_limit {
            return reply(io, request, 413, "too large\n");
        }
        let context = io.context();
        let existed = self.vfs.stat(context, &target.path).is_ok();
        let flags = OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE_ONLY;
        let file = match self.vfs.open_file(context, &target.path, flags, 0o644) {
            Ok(file) => file,
            Err(errno) => return reply_errno(io, request, errno),
        };
        let status = if existed { 204 } else { 201 };
        *transfer = Some(Transfer::Receiving {
            vfs: self.vfs.clone(),
            file,
            offset: 0,
            remaining: length,
            status,
            keep_alive: request.keep_alive,
        });
        true
    }

    fn delete(&self, io: &mut Io<'_, '_>, request: &Request<'_>, target: &Target) -> bool {
        if self.refuses_change(io, request, target) {
            return false;
        }
        let context = io.context();
        let removed = match self.vfs.unlink(context, &target.path) {
            Err(Errno::IsDirectory) => self.vfs.rmdir(context, &target.path),
            other => other,
        };
        match removed {
            Ok(()) => reply(io, request, 204, ""),
            Err(errno) => reply_errno(io, request, errno),
        }
    }
}

/// Whether `If-Modified-Since` is at or after the file's time.
fn not_modified(request: &Request<'_>, stat: &Stat) -> bool {
    let since = request.if_modified_since.and_then(parse_imf_fixdate);
    since.is_some_and(|since| stat.attributes.modified_ns / 1_000_000_000 <= since)
}

/// A plain-text answer; the connection stays open only for a request
/// without a body (one that has a body has not been read).
fn reply(io: &mut Io<'_, '_>, request: &Request<'_>, status: u16, text: &str) -> bool {
    let keep_alive = request.keep_alive && !request.has_body();
    let answer = Reply {
        status,
        kind: "text/plain",
        body: text,
        keep_alive,
        head_only: request.method == "HEAD",
    };
    send(io, &answer);
    keep_alive
}

/// The answer for a file call's error.
fn reply_errno(io: &mut Io<'_, '_>, request: &Request<'_>, errno: Errno) -> bool {
    let (status, text) = match errno {
        Errno::NotFound | Errno::NotDirectory | Errno::Loop | Errno::NameTooLong => {
            (404, "not found\n")
        }
        Errno::IsDirectory | Errno::NotEmpty | Errno::Exists => (409, "conflict\n"),
        Errno::NoSpace => (507, "no space left\n"),
        Errno::ReadOnly | Errno::AccessDenied | Errno::NotPermitted => (403, "read-only\n"),
        _ => (500, "file system error\n"),
    };
    reply(io, request, status, text)
}

/// A type for a file name's extension.
fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension {
        "html" | "htm" => "text/html",
        "txt" | "md" => "text/plain",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// `text` with HTML's special characters escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

/// `name` percent-encoded for a URL path segment.
fn encode(name: &[u8]) -> String {
    let mut encoded = String::with_capacity(name.len());
    for &byte in name {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}
