//! HTTP/1.x request heads, parsed by `httparse` as they arrive.
//!
//! A head says what is asked and how the connection goes on: keep-alive
//! (HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
//! `keep-alive`), a body's length (`Content-Length`; `Transfer-Encoding`
//! is a body of unknown length, which only an upload could take and none
//! does), and `If-Modified-Since`. A `Content-Length` that is not a
//! number makes the head invalid.

/// The most header lines a request head may have.
pub(super) const MAX_HEADERS: usize = 32;

/// A parsed request head.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) keep_alive: bool,
    /// The body's length, when `Content-Length` gives one.
    pub(super) content_length: Option<u64>,
    /// Whether a body of unknown length follows (`Transfer-Encoding`).
    pub(super) chunked: bool,
    /// `If-Modified-Since`, as sent.
    pub(super) if_modified_since: Option<&'a str>,
    /// A header was malformed.
    pub(super) invalid: bool,
}

impl Request<'_> {
    /// Whether a body follows the head.
    pub(super) fn has_body(&self) -> bool {
        self.chunked || self.content_length.is_some_and(|length| length > 0)
    }
}

/// What the bytes received so far hold.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Head<'a> {
    /// A whole request head, this many bytes long.
    Complete(usize, Request<'a>),
    /// The head has not ended yet.
    Partial,
    /// Not an HTTP/1.x request head.
    Invalid,
    /// More than [`MAX_HEADERS`] header lines.
    TooManyHeaders,
}

/// Parses the head at the start of `bytes`, as far as it has arrived.
pub(super) fn parse(bytes: &[u8]) -> Head<'_> {
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
        content_length: None,
        chunked: false,
        if_modified_since: None,
        invalid: false,
    };
    for header in parsed.headers.iter() {
        apply_header(&mut request, header.name, header.value.trim_ascii());
    }
    if request.invalid {
        return Head::Invalid;
    }
    Head::Complete(length, request)
}

/// What one header line says about the connection and the body.
fn apply_header<'a>(request: &mut Request<'a>, name: &str, value: &'a [u8]) {
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
        let length = core::str::from_utf8(value)
            .ok()
            .and_then(|text| text.parse().ok());
        request.invalid |= length.is_none();
        request.content_length = length;
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        request.chunked = true;
    } else if name.eq_ignore_ascii_case("if-modified-since") {
        request.if_modified_since = core::str::from_utf8(value).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

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
        let put = request(b"PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
        assert!(put.has_body() && put.content_length == Some(5));
        assert!(!request(b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").has_body());
        assert!(request(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").has_body());
        let since =
            request(b"GET / HTTP/1.1\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n");
        assert_eq!(
            since.if_modified_since,
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
    }

    #[test]
    fn bad_heads_are_invalid_and_unfinished_ones_partial() {
        for bad in [
            &b"GET / HTTP/2.0\r\n\r\n"[..],
            b"GET noslash HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nbroken header\r\n\r\n",
            b"\xff\xfe",
            b"PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
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
