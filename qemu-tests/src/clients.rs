//! Host-side clients of the appliance's services, for tests and benches:
//! free ports for forwards and HTTP over one keep-alive connection.
//!
//! Every read and write has a timeout, so a guest that stops answering
//! fails the caller instead of hanging it.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// How long one read or write on a client socket may wait.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// # Panics
/// If no port can be bound at all.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// Connects to 127.0.0.1:`port` with the client timeouts set.
///
/// # Errors
/// The connect's error.
pub fn connect(port: u16) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One HTTP response: status code, head and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The head, status line included.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends `GET path` on `stream` (keep-alive) and reads the response.
///
/// # Errors
/// I/O errors, or `InvalidData` for a response that does not parse.
pub fn http_get(stream: &mut TcpStream, path: &str) -> io::Result<Response> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: appliance\r\n\r\n")?;
    read_response(stream)
}

/// Sends `PUT path` with `body` on `stream` (keep-alive) and reads the
/// response.
///
/// # Errors
/// As [`http_get`].
pub fn http_put(stream: &mut TcpStream, path: &str, body: &[u8]) -> io::Result<Response> {
    let length = body.len();
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nHost: appliance\r\nContent-Length: {length}\r\n\r\n"
    )?;
    stream.write_all(body)?;
    read_response(stream)
}

fn read_response(stream: &mut TcpStream) -> io::Result<Response> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
        if head.len() > 16 * 1024 {
            return Err(invalid("response head too long"));
        }
    }
    let head = String::from_utf8(head).map_err(|_| invalid("head is not UTF-8"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status code"))?;
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| invalid("no Content-Length"))?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(Response { status, head, body })
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}
