//! The appliance serving the files baked into its image (`cargo xtask
//! test` builds it with `--files qemu-tests/files`): every file read back
//! byte for byte, HEAD, If-Modified-Since, a listing, the 404/403/400
//! answers to missing paths and traversal, and with `http.writable=1`
//! uploads under /files/tmp/ read back, replaced, refused past the limit,
//! and deleted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qemu_tests::clients::{connect, free_port};
use qemu_tests::{Forward, Machine, Network, Nic, Qemu, QemuConfig, appliance_image, boot};

/// How long the guest may take to boot and get its DHCP lease.
const LEASE_DEADLINE: Duration = Duration::from_secs(60);

/// The site baked into the image under test.
fn site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("files")
}

fn serve(machine: Machine, params: &[&str]) -> (Qemu, u16) {
    let http = free_port();
    let forward = Forward {
        host_port: http,
        guest_port: 80,
    };
    let config = QemuConfig::kernel(appliance_image())
        .machine(machine)
        .params(params.iter().copied())
        .nic(Nic::new(Network::User {
            forwards: vec![forward],
        }));
    let mut qemu = boot(&config);
    qemu.expect_line("vioif0 is 10.0.2.15/24 via 10.0.2.2", LEASE_DEADLINE);
    (qemu, http)
}

/// A response: status, head, and the body when one follows.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}: ");
        self.head
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
    }
}

/// Sends one request on a new connection and reads the answer (the body
/// only where the method and status say one follows).
fn request(port: u16, method: &str, path: &str, headers: &str, body: &[u8]) -> Response {
    send(port, method, path, headers, body.len(), body)
}

/// Sends a head declaring `length` bytes of body, and `body` (all of it,
/// or none for a body the server should refuse unread), in one write.
fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    length: usize,
    body: &[u8],
) -> Response {
    let mut stream = connect(port).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    let mut message = format!(
        "{method} {path} HTTP/1.1\r\nHost: appliance\r\nConnection: close\r\n{headers}Content-Length: {length}\r\n\r\n"
    )
    .into_bytes();
    message.extend_from_slice(body);
    stream.write_all(&message).expect("the request");
    read_response(&mut stream, method == "HEAD")
}

fn read_response(stream: &mut TcpStream, head_only: bool) -> Response {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a response head");
        head.push(byte[0]);
        assert!(head.len() < 16 * 1024, "head too long");
    }
    let head = String::from_utf8(head).expect("a UTF-8 head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut response = Response {
        status,
        head,
        body: Vec::new(),
    };
    let length: usize = response
        .header("Content-Length")
        .and_then(|value| value.parse().ok())
        .expect("Content-Length");
    if !head_only && status != 304 && status != 204 {
        response.body = vec![0u8; length];
        stream.read_exact(&mut response.body).expect("the body");
    }
    response
}

fn get(port: u16, path: &str) -> Response {
    request(port, "GET", path, "", b"")
}

#[test]
fn the_baked_in_site_is_served_byte_for_byte() {
    let (qemu, port) = serve(Machine::Q35, &[]);
    for (url, file) in [
        ("/files/index.html", "index.html"),
        ("/files/docs/readme.txt", "docs/readme.txt"),
        ("/files/docs/with%20space.txt", "docs/with space.txt"),
        ("/files/data/numbers.txt", "data/numbers.txt"),
        ("/files/latest", "docs/readme.txt"),
    ] {
        let expected = std::fs::read(site().join(file)).expect("the site's file");
        let response = get(port, url);
        assert_eq!(response.status, 200, "{url}: {}", qemu.log());
        assert_eq!(response.body.len(), expected.len(), "{url}");
        assert!(response.body == expected, "{url}: the bytes differ");
    }
    let html = get(port, "/files/index.html");
    assert_eq!(html.header("Content-Type"), Some("text/html"));
    let modified = html
        .header("Last-Modified")
        .expect("Last-Modified")
        .to_owned();
    let head = request(port, "HEAD", "/files/data/numbers.txt", "", b"");
    assert_eq!(
        (head.status, head.header("Content-Length")),
        (200, Some("195000"))
    );
    let since = format!("If-Modified-Since: {modified}\r\n");
    let unchanged = request(port, "GET", "/files/index.html", &since, b"");
    assert_eq!(unchanged.status, 304, "{}", unchanged.head);
    let old = "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
    assert_eq!(
        request(port, "GET", "/files/index.html", old, b"").status,
        200
    );
    let listing = String::from_utf8(get(port, "/files/docs/").body).expect("HTML");
    assert!(
        listing.contains("href=\"/files/docs/readme.txt\""),
        "{listing}"
    );
    assert!(listing.contains("with%20space.txt"), "{listing}");
    let root = String::from_utf8(get(port, "/files").body).expect("HTML");
    assert!(root.contains("href=\"/files/data/\""), "{root}");
}

#[test]
fn missing_paths_and_traversal_are_refused() {
    let (qemu, port) = serve(Machine::Microvm, &[]);
    for (url, status) in [
        ("/files/missing.html", 404),
        ("/files/index.html/inside", 404),
        ("/files/../etc/passwd", 403),
        ("/files/docs/../../x", 403),
        ("/files/%2e%2e/%2e%2e/x", 403),
        ("/files//etc/passwd", 403),
        ("/files/%2Fetc%2Fpasswd", 403),
        ("/files/index.html%00.txt", 400),
        ("/files/bad%zzescape", 400),
    ] {
        assert_eq!(get(port, url).status, status, "{url}: {}", qemu.log());
    }
    let long = format!("/files/{}", "n".repeat(300));
    assert_eq!(get(port, &long).status, 400);
    // Uploads are off without http.writable=1.
    let put = request(port, "PUT", "/files/tmp/x", "", b"data");
    assert_eq!(put.status, 405);
    assert_eq!(
        request(port, "DELETE", "/files/index.html", "", b"").status,
        405
    );
}

#[test]
fn uploads_under_the_writable_prefix_read_back_and_go() {
    let params = ["http.writable=1", "http.upload_limit=1M"];
    let (qemu, port) = serve(Machine::Q35, &params);
    let upload: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let put = request(port, "PUT", "/files/tmp/upload.bin", "", &upload);
    assert_eq!(put.status, 201, "{}: {}", put.head, qemu.log());
    let back = get(port, "/files/tmp/upload.bin");
    assert_eq!(back.status, 200);
    assert!(back.body == upload, "the upload reads back");
    let again = request(port, "PUT", "/files/tmp/upload.bin", "", b"short");
    assert_eq!(again.status, 204);
    assert_eq!(get(port, "/files/tmp/upload.bin").body, b"short");
    let too_large = send(port, "PUT", "/files/tmp/big", "", 1_100_000, b"");
    assert_eq!(too_large.status, 413);
    assert_eq!(get(port, "/files/tmp/big").status, 404);
    assert_eq!(
        request(port, "PUT", "/files/index.html", "", b"x").status,
        403
    );
    assert_eq!(
        request(port, "PUT", "/files/tmp/../index.html", "", b"x").status,
        403
    );
    assert_eq!(
        request(port, "PUT", "/files/tmp/no/dir", "", b"x").status,
        404
    );
    let listing = String::from_utf8(get(port, "/files/tmp/").body).expect("HTML");
    assert!(listing.contains("upload.bin"), "{listing}");
    let delete = request(port, "DELETE", "/files/tmp/upload.bin", "", b"");
    assert_eq!(delete.status, 204);
    assert_eq!(get(port, "/files/tmp/upload.bin").status, 404);
    assert_eq!(
        request(port, "DELETE", "/files/tmp/upload.bin", "", b"").status,
        404
    );
}
