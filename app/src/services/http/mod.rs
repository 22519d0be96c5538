//! A small HTTP/1.1 server: `/`, `/stats`, files under `/files/`,
//! keep-alive.
//!
//! Requests are parsed as they arrive ([`request`]); the start of a head
//! that has not arrived whole waits in the connection's buffer. A head
//! longer than [`HEAD_LIMIT`] or with more than [`request::MAX_HEADERS`]
//! lines, or a request that is not HTTP/1.x, ends in a 4xx answer and the
//! connection closes; so does a body anywhere but an upload. Pipelined
//! requests are answered in order; while [`OUTPUT_HIGH_WATER`] bytes of
//! replies wait to be sent, the rest wait too. A file's body goes out in
//! pieces as the socket takes them, and an upload's comes in the same way
//! ([`transfer`]): a connection holds a file, never its contents.
//! HTTP/1.1 connections stay open unless the client says
//! `Connection: close`; HTTP/1.0 ones close unless it says `keep-alive`.

mod date;
mod files;
mod paths;
mod request;
mod transfer;

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write;
use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::SocketOption;
use serve::{Buffer, Io, Protocol, Want};

use self::date::write_date_header;
use self::files::FileService;
use self::request::{Head, Request, parse};
use self::transfer::Transfer;
use super::Services;

/// The longest request head accepted.
const HEAD_LIMIT: usize = 8 * 1024;
/// Responses waiting to be sent beyond which pipelined requests wait.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;

const INDEX: &str = "<!doctype html>\n<html><head><title>anykernel</title></head>\n<body><h1>anykernel</h1>\n<p>This page is served by a TCP/IP stack of its own, in a kernel written against one hypercall interface.</p>\n<p><a href=\"/stats\">/stats</a>: the kernel's counters. <a href=\"/files/\">/files/</a>: the site's files.</p>\n</body></html>\n";

/// The HTTP service.
pub(super) struct Http {
    services: Arc<Services>,
    files: Option<FileService>,
}

impl Http {
    /// The service; files are served when the kernel has a vfs.
    pub(super) fn new(context: &Context<'_>, services: Arc<Services>) -> Self {
        Self {
            files: FileService::new(context),
            services,
        }
    }
}

/// A connection's state: the start of a request head that has not arrived
/// whole (or requests waiting for the replies before them to drain), and
/// a body on its way in or out. Nothing at all between requests.
#[derive(Default)]
pub(super) struct Session {
    waiting: Buffer,
    transfer: Option<Transfer>,
}

impl Protocol for Http {
    type Session = Session;

    fn open(&self, io: &mut Io<'_, '_>) -> (Session, Want) {
        let _ = io
            .net()
            .set_option(io.context(), io.fd(), SocketOption::NoDelay(true));
        (Session::default(), Want::Input)
    }

    fn advance(&self, session: &mut Session, input: &[u8], io: &mut Io<'_, '_>) -> Want {
        let Session { waiting, transfer } = session;
        if waiting.is_empty() {
            let (taken, want) = self.answer_all(transfer, input, io);
            return keep(waiting, &input[taken..], want, io);
        }
        if waiting.extend(io.account(), input).is_err() {
            return Want::Close;
        }
        let (taken, want) = self.answer_all(transfer, waiting.as_slice(), io);
        waiting.consume(taken);
        want
    }
}

/// Keeps the `rest` of the input that no answer took, for the next call.
fn keep(waiting: &mut Buffer, rest: &[u8], want: Want, io: &Io<'_, '_>) -> Want {
    if want == Want::Close || rest.is_empty() {
        return want;
    }
    match waiting.extend(io.account(), rest) {
        Ok(()) => want,
        Err(_) => Want::Close,
    }
}

impl Http {
    /// Moves a transfer on and answers every whole request at the start of
    /// `bytes`, until the replies pile up; how many bytes that took, and
    /// what next.
    fn answer_all(
        &self,
        transfer: &mut Option<Transfer>,
        bytes: &[u8],
        io: &mut Io<'_, '_>,
    ) -> (usize, Want) {
        let mut taken = 0;
        loop {
            if let Some(moving) = transfer {
                let (used, want) = moving.advance(&bytes[taken..], io);
                taken += used;
                match want {
                    Some(want) => return (taken, want),
                    None => *transfer = None,
                }
            }
            if io.pending() >= OUTPUT_HIGH_WATER {
                return (taken, Want::Resume);
            }
            let rest = &bytes[taken..];
            let (length, request) = match parse(rest) {
                Head::Complete(length, request) if length <= HEAD_LIMIT => (length, request),
                Head::Partial if rest.len() < HEAD_LIMIT => return (taken, Want::Input),
                Head::Complete(..) | Head::Partial | Head::TooManyHeaders => {
                    send(io, &Reply::error(431, "head too long\n"));
                    return (taken, Want::Close);
                }
                Head::Invalid => {
                    self.services.stats().http_requests.fetch_add(1, Relaxed);
                    send(io, &Reply::error(400, "bad request\n"));
                    return (taken, Want::Close);
                }
            };
            taken += length;
            if !self.answer(io, &request, transfer) {
                return (taken, Want::Close);
            }
        }
    }

    /// Answers one request (or starts its transfer); whether the
    /// connection stays open.
    fn answer(
        &self,
        io: &mut Io<'_, '_>,
        request: &Request<'_>,
        transfer: &mut Option<Transfer>,
    ) -> bool {
        self.services.stats().http_requests.fetch_add(1, Relaxed);
        if let Some(files) = &self.files
            && paths::is_file_url(request.path)
        {
            return files.answer(io, request, request.path, transfer);
        }
        if request.has_body() {
            send(io, &Reply::error(413, "no bodies here\n"));
            return false;
        }
        let stats;
        let (status, kind, body) = match (request.method, request.path) {
            ("GET" | "HEAD", "/" | "/index.html") => (200, "text/html", INDEX),
            ("GET" | "HEAD", "/stats") => {
                stats = stats_text(io.context(), &self.services);
                (200, "text/plain", stats.as_str())
            }
            ("GET" | "HEAD", _) => (404, "text/plain", "not found\n"),
            _ => (405, "text/plain", "GET or HEAD\n"),
        };
        let reply = Reply {
            status,
            kind,
            body,
            keep_alive: request.keep_alive,
            head_only: request.method == "HEAD",
        };
        send(io, &reply);
        request.keep_alive
    }
}

/// One response with its whole body.
struct Reply<'a> {
    status: u16,
    kind: &'static str,
    body: &'a str,
    keep_alive: bool,
    head_only: bool,
}

impl<'a> Reply<'a> {
    /// A plain-text error that closes the connection.
    fn error(status: u16, body: &'a str) -> Self {
        Self {
            status,
            kind: "text/plain",
            body,
            keep_alive: false,
            head_only: false,
        }
    }
}

/// Sends `reply` (what the socket does not take now waits in order).
fn send(io: &mut Io<'_, '_>, reply: &Reply<'_>) {
    let length = reply.body.len() as u64;
    let mut response = head(io, reply.status, reply.kind, length, reply.keep_alive, "");
    if !reply.head_only {
        response.push_str(reply.body);
    }
    io.send(response.as_bytes());
}

/// A response head: status line, `Date`, the type, the length, the
/// connection's fate, and `extra` header lines (each ending in CRLF).
fn head(
    io: &Io<'_, '_>,
    status: u16,
    kind: &str,
    length: u64,
    keep_alive: bool,
    extra: &str,
) -> String {
    let mut response = String::with_capacity(256);
    let _ = write!(response, "HTTP/1.1 {status} {}\r\n", reason(status));
    let _ = write_date_header(&mut response, io.context().time_of_day_ns());
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let _ = write!(
        response,
        "Server: anykernel\r\nContent-Type: {kind}\r\nContent-Length: {length}\r\nConnection: {connection}\r\n{extra}\r\n"
    );
    response
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        507 => "Insufficient Storage",
        _ => "Error",
    }
}

/// The kernel's and the services' counters.
fn stats_text(context: &Context<'_>, services: &Services) -> String {
    let mut text = String::new();
    let kernel = context.kernel();
    let memory = kernel.memory().stats();
    let _ = writeln!(
        text,
        "kernel uptime_ms {} memory_in_use {} memory_peak {} memory_limit {}",
        kernel.uptime_ns() / 1_000_000,
        memory.in_use,
        memory.peak,
        memory.limit
    );
    let _ = kernel.memory().write_stats(&mut text);
    services.net().with_stack(context, |stack| {
        let _ = stack.write_stats(&mut text);
    });
    if let Some(block) = kernel::block::Block::of(context) {
        let _ = block.write_stats(context, &mut text);
    }
    let _ = services.counters().write_stats(&mut text);
    let s = services.stats();
    let _ = writeln!(
        text,
        "services echoed_bytes {} discarded_bytes {} source_bytes {} http_requests {}",
        s.echoed_bytes.load(Relaxed),
        s.discarded_bytes.load(Relaxed),
        s.source_bytes.load(Relaxed),
        s.http_requests.load(Relaxed)
    );
    text
}
