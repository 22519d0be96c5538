//! The Unix endpoint: bytes both ways, and close waking blocked calls.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hypercall::{StreamEndpoints, StreamError, StreamListener};

use super::*;
use crate::{Posix, PosixConfig};

fn socket_path(name: &str) -> std::path::PathBuf {
    let unique = format!("anykernel-stream-{}-{name}", std::process::id());
    std::env::temp_dir().join(unique)
}

/// Runs `f` on a thread and fails if it takes more than five seconds.
fn within_deadline<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(f()));
    receiver
        .recv_timeout(Duration::from_secs(5))
        .expect("the blocked call returned within the deadline")
}

#[test]
fn unit_zero_is_the_first_server_and_past_it_there_is_none() {
    let path = socket_path("units");
    let config = PosixConfig {
        servers: vec![ServerSpec::Unix(path.clone())],
        ..PosixConfig::default()
    };
    let posix = Posix::new(config);
    let listener = posix.stream_listen(0).expect("listens");
    assert!(path.exists());
    assert_eq!(posix.stream_listen(1).err(), Some(StreamError::NoDevice));
    drop(listener);
    assert!(!path.exists(), "dropping the endpoint removes its path");
}

#[test]
fn bytes_cross_both_ways_and_end_of_stream_is_zero() {
    let path = socket_path("bytes");
    let endpoint = UnixEndpoint::bind(&path).expect("binds");
    let mut client = UnixStream::connect(&path).expect("connects");
    let connection = endpoint.accept().expect("accepts");
    client.write_all(b"ping").expect("writes");
    let mut buffer = [0u8; 8];
    let count = connection.read(&mut buffer).expect("reads");
    assert_eq!(&buffer[..count], b"ping");
    connection.write_all(b"pong").expect("writes");
    client.read_exact(&mut buffer[..4]).expect("reads");
    assert_eq!(&buffer[..4], b"pong");
    drop(client);
    assert_eq!(connection.read(&mut buffer), Ok(0));
}

#[test]
fn close_wakes_a_blocked_accept_and_a_blocked_read() {
    let path = socket_path("close");
    let endpoint = Arc::new(UnixEndpoint::bind(&path).expect("binds"));
    let _client = UnixStream::connect(&path).expect("connects");
    let connection: Arc<dyn hypercall::StreamConnection> =
        Arc::from(endpoint.accept().expect("accepts"));
    let reader = connection.clone();
    let started = Instant::now();
    let read = std::thread::spawn(move || reader.read(&mut [0u8; 4]));
    let acceptor = endpoint.clone();
    let accept = std::thread::spawn(move || acceptor.accept().err());
    // No event says a host thread is inside accept(2) or read(2): a pause
    // makes the blocked path the one exercised (were close not to wake a
    // blocked call, the deadlines below fail). A close that came first
    // would also end both calls with an error, so the pause cannot make
    // the test fail falsely.
    std::thread::sleep(Duration::from_millis(50));
    connection.close();
    endpoint.close();
    let read = within_deadline(move || read.join().expect("no panic"));
    let accept = within_deadline(move || accept.join().expect("no panic"));
    assert_eq!(
        (read, accept),
        (Err(StreamError::Closed), Some(StreamError::Closed))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_path_that_is_not_a_socket_is_left_alone() {
    let path = socket_path("file");
    std::fs::write(&path, b"keep me").expect("writes");
    let error = UnixEndpoint::bind(&path).expect_err("not a socket");
    assert!(error.contains("not a socket"), "{error}");
    assert_eq!(std::fs::read(&path).expect("still there"), b"keep me");
    std::fs::remove_file(&path).expect("cleans up");
}

#[test]
fn server_specs_parse_unix_paths_only() {
    let spec: ServerSpec = "unix:/tmp/k.sock".parse().expect("valid");
    assert_eq!(spec.to_string(), "unix:/tmp/k.sock");
    assert!("unix:".parse::<ServerSpec>().is_err());
    assert!("tcp:1.2.3.4:5".parse::<ServerSpec>().is_err());
}
