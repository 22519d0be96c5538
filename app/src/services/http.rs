//! A small HTTP/1.1 server: `/`, `/stats`, keep-alive.
//!
//! Requests are read into a fixed buffer until the blank line that ends
//! the head; a head longer than the buffer, a malformed request line or a
//! body (this server takes none) ends in a 4xx answer and the connection
//! closes. HTTP/1.1 connections stay open unless the client says
//! `Connection: close`; HTTP/1.0 ones close unless it says `keep-alive`.

use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::{Fd, SocketOption};

use super::Services;

/// The longest request head accepted.
const HEAD_LIMIT: usize = 8 * 1024;

const INDEX: &str = "<!doctype html>\n<html><head><title>anykernel</title></head>\n<body><h1>anykernel</h1>\n<p>This page is served by a TCP/IP stack of its own, in a kernel written against one hypercall interface.</p>\n<p><a href=\"/stats\">/stats</a>: the kernel's counters.</p>\n</body></html>\n";

/// A parsed request head.
#[derive(Debug, PartialEq, Eq)]
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    keep_alive: bool,
    has_body: bool,
}

pub(super) fn serve(context: &Context<'_>, services: &Services, connection: Fd) {
    let net = services.net();
    let _ = net.set_option(context, connection, SocketOption::NoDelay(true));
    let mut buffer = alloc::vec![0u8; HEAD_LIMIT];
    let mut filled = 0;
    loop {
        let Some(head_end) = find_head_end(&buffer[..filled]) else {
            if filled == buffer.len() {
                send(
                    context,
                    services,
                    connection,
                    &Reply::error(431, "head too long\n"),
                );
                return;
            }
            match super::read_or_idle(context, net, connection, &mut buffer[filled..]) {
                Ok(0) | Err(_) => return,
                Ok(count) => filled += count,
            }
            continue;
        };
        let keep_alive = answer(context, services, connection, &buffer[..head_end]);
        buffer.copy_within(head_end..filled, 0);
        filled -= head_end;
        if !keep_alive {
            return;
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
fn answer(context: &Context<'_>, services: &Services, connection: Fd, head: &[u8]) -> bool {
    services.stats().http_requests.fetch_add(1, Relaxed);
    let Some(request) = parse(head) else {
        send(
            context,
            services,
            connection,
            &Reply::error(400, "bad request\n"),
        );
        return false;
    };
    if request.has_body {
        send(
            context,
            services,
            connection,
            &Reply::error(413, "no bodies here\n"),
        );
        return false;
    }
    let stats;
    let (status, kind, body) = match (request.method, request.path) {
        ("GET" | "HEAD", "/" | "/index.html") => (200, "text/html", INDEX),
        ("GET" | "HEAD", "/stats") => {
            stats = stats_text(context, services);
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
    send(context, services, connection, &reply) && request.keep_alive
}

/// Writes `reply`; whether it went out.
fn send(context: &Context<'_>, services: &Services, connection: Fd, reply: &Reply<'_>) -> bool {
    let mut response = String::with_capacity(160 + reply.body.len());
    let _ = write!(
        response,
        "HTTP/1.1 {} {}\r\nServer: anykernel\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        reply.status,
        reason(reply.status),
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
    services
        .net()
        .write(context, connection, response.as_bytes())
        .is_ok()
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
    services.net().with_stack(context, |stack| {
        let _ = stack.write_stats(&mut text);
    });
    let s = services.stats();
    let _ = writeln!(
        text,
        "services connections {} refused {} echoed_bytes {} discarded_bytes {} source_bytes {} http_requests {}",
        s.connections.load(Relaxed),
        s.refused.load(Relaxed),
        s.echoed_bytes.load(Relaxed),
        s.discarded_bytes.load(Relaxed),
        s.source_bytes.load(Relaxed),
        s.http_requests.load(Relaxed)
    );
    text
}

/// The end of the head (after its blank line), if it is all here.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

fn parse(head: &[u8]) -> Option<Request<'_>> {
    let text = core::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut words = lines.next()?.split(' ');
    let (method, path, version) = (words.next()?, words.next()?, words.next()?);
    if words.next().is_some() || !path.starts_with('/') {
        return None;
    }
    let mut keep_alive = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return None,
    };
    let mut has_body = false;
    for line in lines.filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            keep_alive = if value.eq_ignore_ascii_case("close") {
                false
            } else {
                keep_alive || value.eq_ignore_ascii_case("keep-alive")
            };
        } else if name.eq_ignore_ascii_case("content-length") {
            has_body = value != "0";
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        }
    }
    Some(Request {
        method,
        path,
        keep_alive,
        has_body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_with_their_connection_semantics() {
        let request = parse(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (request.method, request.path, request.keep_alive),
            ("GET", "/stats", true)
        );
        assert!(
            !parse(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        assert!(
            parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        assert!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n")
                .unwrap()
                .has_body
        );
        assert_eq!(parse(b"GET / HTTP/2.0\r\n\r\n"), None);
        assert_eq!(parse(b"GET noslash HTTP/1.1\r\n\r\n"), None);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nbroken header\r\n\r\n"), None);
        assert_eq!(parse(b"\xff\xfe"), None);
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
    }
}
