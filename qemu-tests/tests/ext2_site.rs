//! The appliance serving a site from an ext2 disk (virtio-blk on q35's
//! PCI and on microvm's virtio-mmio), as `cargo xtask run --disk FILE`
//! does: every file mke2fs -d put in the image reads back byte for byte;
//! a 64 MiB PUT then GET comes back with the same hash, Linux's e2fsck
//! finds the image clean and debugfs reads the upload; and a guest killed
//! in the middle of writes leaves an image that `e2fsck -p` repairs, with
//! every upload that was answered (fsync'd first) intact.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use blake2::{Blake2s256, Digest};
use qemu_tests::clients::{connect, free_port};
use qemu_tests::{Disk, Ext2Image, Forward, Machine, Network, Nic, Qemu, QemuConfig};
use qemu_tests::{appliance_image, boot};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// How long the guest may take to boot and get its DHCP lease.
const LEASE_DEADLINE: Duration = Duration::from_secs(60);
/// The big upload.
const BIG: usize = 64 << 20;
/// How long one request may take (a 64 MiB body under TCG included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The site mke2fs copies into the images.
fn site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("files")
}

/// Boots the appliance on `machine` with `image` as vblk0 and `params`;
/// waits until the disk is the site and the network is up.
fn serve(machine: Machine, image: &Ext2Image, params: &[&str]) -> (Qemu, u16) {
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
        }))
        .disk(Disk::new(&image.path));
    let mut qemu = boot(&config);
    // The lease may come before or after the services are up.
    qemu.expect_line("vioif0 is 10.0.2.15/24 via 10.0.2.2", LEASE_DEADLINE);
    if !qemu.log().contains("anykernel: ready") {
        qemu.expect_line("anykernel: ready", LEASE_DEADLINE);
    }
    qemu.log_contains_or_panic("files: ext2 at /www");
    (qemu, http)
}

/// An answer: the status and the body (none for 201 and 204).
struct Response {
    status: u16,
    body: Vec<u8>,
}

/// Sends `method path` with `body` on a new connection and reads the
/// answer.
fn request(port: u16, method: &str, path: &str, body: &[u8]) -> Response {
    let mut stream = open(port);
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: appliance\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("the head");
    stream.write_all(body).expect("the body");
    read_response(&mut stream)
}

fn open(port: u16) -> TcpStream {
    let stream = connect(port).expect("connect");
    stream
        .set_read_timeout(Some(REQUEST_TIMEOUT))
        .expect("a timeout");
    stream
        .set_write_timeout(Some(REQUEST_TIMEOUT))
        .expect("a timeout");
    stream
}

fn read_response(stream: &mut TcpStream) -> Response {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a response head");
        head.push(byte[0]);
        assert!(head.len() < 16 * 1024, "head too long");
    }
    let head = String::from_utf8(head).expect("a UTF-8 head");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|value| value.trim().parse().ok());
    let (Some(status), Some(length)) = (status, length) else {
        panic!("no status or length in {head}");
    };
    let mut body = vec![0u8; if status == 204 { 0 } else { length }];
    stream.read_exact(&mut body).expect("the body");
    Response { status, body }
}

/// `length` bytes from `seed`.
fn data(seed: u64, length: usize) -> Vec<u8> {
    let mut bytes = vec![0; length];
    Xoshiro256PlusPlus::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

fn hash(bytes: &[u8]) -> Vec<u8> {
    Blake2s256::digest(bytes).to_vec()
}

/// Every file of the site, by URL and path in the site.
const SITE_FILES: [(&str, &str); 5] = [
    ("/files/index.html", "index.html"),
    ("/files/docs/readme.txt", "docs/readme.txt"),
    ("/files/docs/with%20space.txt", "docs/with space.txt"),
    ("/files/data/numbers.txt", "data/numbers.txt"),
    ("/files/latest", "docs/readme.txt"),
];

fn assert_site_reads_back(qemu: &Qemu, port: u16) {
    for (url, file) in SITE_FILES {
        let expected = std::fs::read(site().join(file)).expect("the site's file");
        let response = request(port, "GET", url, b"");
        assert_eq!(response.status, 200, "{url}: {}", qemu.log());
        assert!(response.body == expected, "{url}: the bytes differ");
    }
    let listing = String::from_utf8(request(port, "GET", "/files/docs/", b"").body);
    assert!(listing.expect("HTML").contains("readme.txt"));
}

/// The site, then 64 MiB up and down, then the image judged by Linux.
fn serves_and_stores(machine: Machine, tag: &str) {
    let image = Ext2Image::new(tag, 160, Some(&site()));
    let params = ["http.writable=1", "http.upload_limit=80M"];
    let (qemu, port) = serve(machine, &image, &params);
    assert_site_reads_back(&qemu, port);
    let big = data(64, BIG);
    let big_hash = hash(&big);
    let started = Instant::now();
    let put = request(port, "PUT", "/files/tmp/big.bin", &big);
    let put_time = started.elapsed();
    assert_eq!(put.status, 201, "{}", qemu.log());
    let started = Instant::now();
    let back = request(port, "GET", "/files/tmp/big.bin", b"");
    let get_time = started.elapsed();
    assert_eq!(back.status, 200);
    assert_eq!(back.body.len(), BIG);
    assert!(hash(&back.body) == big_hash, "the upload reads back");
    let mib = (BIG >> 20) as f64;
    eprintln!(
        "{tag}: PUT 64 MiB {put_time:.1?} ({:.2} MiB/s), GET {get_time:.1?} ({:.2} MiB/s)",
        mib / put_time.as_secs_f64(),
        mib / get_time.as_secs_f64()
    );
    // The PUT was answered once on stable storage: stopping the guest now
    // loses nothing (the appliance has no shutdown of its own).
    drop(qemu.stop());
    let (clean, report) = image.check();
    assert!(clean, "e2fsck -fn: {report}");
    assert!(
        hash(&image.cat("/tmp/big.bin")) == hash(&big),
        "debugfs reads it"
    );
}

#[test]
fn q35_serves_an_ext2_site_and_stores_64_mib_on_a_virtio_pci_disk() {
    serves_and_stores(Machine::Q35, "site-q35");
}

#[test]
fn microvm_serves_an_ext2_site_and_stores_64_mib_on_a_virtio_mmio_disk() {
    serves_and_stores(Machine::Microvm, "site-microvm");
}

#[test]
fn without_uploads_the_disk_is_served_read_only_and_never_written() {
    let image = Ext2Image::new("site-ro", 16, Some(&site()));
    let before = std::fs::read(&image.path).expect("the image");
    let (qemu, port) = serve(Machine::Microvm, &image, &[]);
    qemu.log_contains_or_panic("files: ext2 at /www, read-only");
    assert_site_reads_back(&qemu, port);
    assert_eq!(request(port, "PUT", "/files/tmp/x", b"x").status, 405);
    drop(qemu.stop());
    assert!(std::fs::read(&image.path).expect("the image") == before);
}

/// What the guest's `/stats` says of `counter`.
fn counter(port: u16, counter: &str) -> u64 {
    let stats = request(port, "GET", "/stats", b"");
    let text = String::from_utf8_lossy(&stats.body).into_owned();
    let prefix = format!("{counter} ");
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{counter}` in {text}"))
}

/// Starts a 48 MiB upload and returns once the guest has written `mib`
/// MiB of it to the disk (it is then writing back the cache, in the
/// middle of the upload): the moment to kill it.
fn upload_until_written(port: u16, name: &str, mib: u64) -> std::thread::JoinHandle<()> {
    let written = counter(port, "block vblk0_written_bytes");
    let mut stream = open(port);
    let path = format!("/files/tmp/{name}");
    let sender = std::thread::spawn(move || {
        let big = data(99, 48 << 20);
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: appliance\r\nContent-Length: {}\r\n\r\n",
            big.len()
        );
        // Ends with an error when the guest is killed: that is the point.
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&big);
    });
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    while counter(port, "block vblk0_written_bytes") < written + (mib << 20) {
        assert!(Instant::now() < deadline, "the guest wrote nothing back");
        // The guest announces no write-back; its counter is read again.
        std::thread::sleep(Duration::from_millis(50));
    }
    sender
}

/// Rounds of uploads that were answered, then one the guest is killed in
/// the middle of (once it has written `MiB` of it back to the disk);
/// after each round the image is repaired and the next boot goes on
/// from it.
#[test]
fn a_guest_killed_during_writes_leaves_a_repairable_image_with_every_answered_upload() {
    let image = Ext2Image::new("site-kill", 96, Some(&site()));
    let params = ["http.writable=1", "http.upload_limit=64M"];
    let mut answered: Vec<(String, Vec<u8>)> = Vec::new();
    for (round, mib) in [1, 8, 24].into_iter().enumerate() {
        let (qemu, port) = serve(Machine::Q35, &image, &params);
        for index in 0..3 {
            let name = format!("done-{round}-{index}.bin");
            let contents = data((round * 10 + index) as u64, 200_000 + index * 77_777);
            let put = request(port, "PUT", &format!("/files/tmp/{name}"), &contents);
            assert_eq!(put.status, 201, "{name}: {}", qemu.log());
            answered.push((name, contents));
        }
        let sender = upload_until_written(port, &format!("unfinished-{round}.bin"), mib);
        drop(qemu.stop());
        sender.join().expect("the sender ends");
        let (clean, found) = image.check();
        let (repaired, report) = image.repair();
        assert!(repaired, "round {round}: e2fsck -fp: {report}");
        let problems = if clean { "none" } else { found.as_str() };
        eprintln!(
            "round {round}, killed after {mib} MiB written back; e2fsck -fn found: {problems}"
        );
        let (clean, report) = image.check();
        assert!(
            clean,
            "round {round}: after the repair, e2fsck -fn: {report}"
        );
        for (name, contents) in &answered {
            let read = image.cat(&format!("/tmp/{name}"));
            assert!(read == *contents, "{name}: {} bytes read back", read.len());
        }
    }
}

/// A log check that names what was missing.
trait LogCheck {
    fn log_contains_or_panic(&self, text: &str);
}

impl LogCheck for Qemu {
    fn log_contains_or_panic(&self, text: &str) {
        assert!(self.log().contains(text), "no `{text}` in:\n{}", self.log());
    }
}
