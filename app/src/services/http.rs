//! A small HTTP/1.1 server: `/`, `/stats`, keep-alive.
//!
//! Requests are parsed by `httparse` as they arrive; the start of a head
//! that has not arrived whole waits in the connection's buffer. A head
//! longer than [`HEAD_LIMIT`] or with more than [`MAX_HEADERS`] lines, a
//! request that is not HTTP/1.x or a body (this server takes none) ends
//! in a 4xx answer and the connection closes. Pipelined requests are
//! answered in order; while [`OUTPUT_HIGH_WATER`] bytes of replies wait
//! to be sent, the rest wait too. HTTP/1.1 connections stay open unless
//! the client says `Connection: close`; HTTP/1.0 ones close unless it
//! says `keep-alive`.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write;
use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::SocketOption;
use serve::{Buffer, Io, Protocol, Want};

use super::Services;
use super::http_date::write_date_header;

/// The longest request head accepted.
const HEAD_LIMIT: usize = 8 * 1024;
/// The most header lines a request head may have.
const MAX_HEADERS: usize = 32;
/// Responses waiting to be sent beyond which pipelined requests wait.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;

const INDEX: &str = "<!doctype html>\n<html><head><title>anykernel</title></head>\n<body><h1>anykernel</h1>\n<p>This page is served by a TCP/IP stack of its own, in a kernel written against one hypercall interface.</p>\n<p><a href=\"/stats\">/stats</a>: the kernel's counters.</p>\n</body></html>\n";

/// A parsed request head.
#[derive(Debug, PartialEq, Eq)]
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    keep_alive: bool,
    has_body: bool,
}

/// What the bytes received so far hold.
#[derive(Debug, PartialEq, Eq)]
enum Head<'a> {
    /// A whole request head, this many bytes long.
    Complete(usize, Request<'a>),
    /// The head has not ended yet.
    Partial,
    /// Not an HTTP/1.x request head.
    Invalid,
    /// More than [`MAX_HEADERS`] header lines.
    TooManyHeaders,
}

/// The HTTP service. A connection's state is the start of a request head
/// that has not arrived whole (or requests waiting for the replies before
/// them to drain): nothing at all between requests.
pub(super) struct Http(pub(super) Arc<Services>);

impl Protocol for Http {
    type Session = Buffer;

    fn open(&self, io: &mut Io<'_, '_>) -> (Buffer, Want) {
        let _ = io
            .net()
            .set_option(io.context(), io.fd(), SocketOption::NoDelay(true));
        (Buffer::new(), Want::Input)
    }

    fn advance(&self, waiting: &mut Buffer, input: &[u8], io: &mut Io<'_, '_>) -> Want {
        if waiting.is_empty() {
            let (taken, want) = self.answer_all(input, io);
            return keep(waiting, &input[taken..], want, io);
        }
        if waiting.extend(io.account(), input).is_err() {
            return Want::Close;
        }
        let (taken, want) = self.answer_all(waiting.as_slice(), io);
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
    /// Answers every whole request at the start of `bytes`, until the
    /// replies pile up; how many bytes that took, and what next.
    fn answer_all(&self, bytes: &[u8], io: &mut Io<'_, '_>) -> (usize, Want) {
        let mut taken = 0;
        loop {
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
                    self.0.stats().http_requests.fetch_add(1, Relaxed);
                    send(io, &Reply::error(400, "bad request\n"));
                    return (taken, Want::Close);
                }
            };
            taken += length;
            if !answer(io, &self.0, &request) {
                return (taken, Want::Close);
            }
        }
    }
}

/// One response.
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

/// Answers one request; whether the connection stays open.
fn answer(io: &mut Io<'_, '_>, services: &Services, request: &Request<'_>) -> bool {
    services.stats().http_requests.fetch_add(1, Relaxed);
    if request.has_body {
        send(io, &Reply::error(413, "no bodies here\n"));
        return false;
    }
    let stats;
    let (status, kind, body) = match (request.method, request.path) {
        ("GET" | "HEAD", "/" | "/index.html") => (200, "text/html", INDEX),
        ("GET" | "HEAD", "/stats") => {
            stats = stats_text(io.context(), services);
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

/// Sends `reply` (what the socket does not take now waits in order).
fn send(io: &mut Io<'_, '_>, reply: &Reply<'_>) {
    let mut response = String::with_capacity(200 + reply.body.len());
    let _ = write!(
        response,
        "HTTP/1.1 {} {}\r\n",
        reply.status,
        reason(reply.status)
    );
    let _ = write_date_header(&mut response, io.context().time_of_day_ns());
    let _ = write!(
        response,
        "Server: anykernel\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        reply.kind,
        reply.body.len(),
        if reply.keep_alive {
            "keep-alive"
        } else {
            "close"
        }
    );
    if !reply.head_only {
        response.push_str(reply.body);
    }
    io.send(response.as_bytes());
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
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
    let s = services.stats();
    let c = services.counters();
    let _ = writeln!(
        text,
        "services connections {} connections_open {} refused {} accept_paused {} timed_out {} echoed_bytes {} discarded_bytes {} source_bytes {} http_requests {}",
        c.connections.load(Relaxed),
        c.open.load(Relaxed),
        c.refused.load(Relaxed),
        c.limited.load(Relaxed),
        c.timed_out.load(Relaxed),
        s.echoed_bytes.load(Relaxed),
        s.discarded_bytes.load(Relaxed),
        s.source_bytes.load(Relaxed),
        s.http_requests.load(Relaxed)
    );
    text
}

/// Parses the head at the start of `bytes`, as far as it has arrived.
fn parse(bytes: &[u8]) -> Head<'_> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let length = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(httparse::Error::TooManyHeaders) => return Head::TooManyHeaders,
        Err(_) => return Head::Invalid,
    };
    let (Some(method), Some(path), Some(minor)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Head::Invalid;
    };
    if !path.starts_with('/') {
        return Head::Invalid;
    }
    let mut request = Request {
        method,
        path,
        keep_alive: minor == 1,
        has_body: false,
    };
    for header in parsed.headers.iter() {
        apply_header(&mut request, header.name, header.value.trim_ascii());
    }
    Head::Complete(length, request)
}

/// What one header line says about the connection and the body.
fn apply_header(request: &mut Request<'_>, name: &str, value: &[u8]) {
    if name.eq_ignore_ascii_case("connection") {
        let has = |option: &str| {
            value
                .split(|&byte| byte == b',')
                .any(|token| token.trim_ascii().eq_ignore_ascii_case(option.as_bytes()))
        };
        if has("close") {
            request.keep_alive = false;
        } else if has("keep-alive") {
            request.keep_alive = true;
        }
    } else if name.eq_ignore_ascii_case("content-length") {
        request.has_body = value != b"0";
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        request.has_body = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(head: &[u8]) -> Request<'_> {
        match parse(head) {
            Head::Complete(length, request) => {
                assert_eq!(length, head.len());
                request
            }
            other => panic!("{head:?} gave {other:?}"),
        }
    }

    #[test]
    fn requests_parse_with_their_connection_semantics() {
        let stats = request(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            (stats.method, stats.path, stats.keep_alive),
            ("GET", "/stats", true)
        );
        assert!(!request(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!request(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(request(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(request(b"GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n").keep_alive);
        assert!(request(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").has_body);
        assert!(!request(b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").has_body);
        assert!(request(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").has_body);
    }

    #[test]
    fn bad_heads_are_invalid_and_unfinished_ones_partial() {
        for bad in [
            &b"GET / HTTP/2.0\r\n\r\n"[..],
            b"GET noslash HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nbroken header\r\n\r\n",
            b"\xff\xfe",
        ] {
            assert_eq!(parse(bad), Head::Invalid, "{bad:?}");
        }
        assert_eq!(parse(b""), Head::Partial);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), Head::Partial);
    }

    #[test]
    fn a_pipelined_head_ends_where_the_next_begins() {
        let Head::Complete(length, _) = parse(b"GET / HTTP/1.1\r\n\r\nGET /stats HTTP/1.1\r\n\r\n")
        else {
            panic!("the first head is complete");
        };
        assert_eq!(length, 18);
    }

    #[test]
    fn too_many_header_lines_are_refused() {
        let mut head = String::from("GET / HTTP/1.1\r\n");
        for index in 0..=MAX_HEADERS {
            head.push_str(&alloc::format!("X-{index}: y\r\n"));
        }
        head.push_str("\r\n");
        assert_eq!(parse(head.as_bytes()), Head::TooManyHeaders);
    }
}
