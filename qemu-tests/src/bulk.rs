//! Bulk transfers against the appliance (hosted on a tap or in QEMU)
//! from Linux inside a namespace, for either family: 64 MiB through echo
//! both ways at once with a hash each way, and the source stream checked
//! byte by byte; UDP echo round trips. The caller passes the source
//! service's pattern (`app::services::chargen_byte`: this crate does not
//! link the appliance).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use crate::netns::Namespace;

/// Byte `offset` of the source service's stream.
pub type Pattern = fn(u64) -> u8;

/// What each bulk direction carries.
pub const BULK: usize = 64 * 1024 * 1024;

const TIMEOUT: Duration = Duration::from_secs(30);

fn fnv_start() -> u64 {
    0xcbf2_9ce4_8422_2325
}

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Writes [`BULK`] pattern bytes to `stream` and ends its sending side;
/// returns their hash.
fn write_pattern(mut stream: TcpStream) -> u64 {
    let mut hash = fnv_start();
    let mut block = vec![0u8; 64 * 1024];
    for round in 0..BULK / block.len() {
        block
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (round * 31 + i * 7) as u8);
        stream.write_all(&block).expect("write to echo");
        hash = fnv(hash, &block);
    }
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    hash
}

/// Reads `stream` to its end: (bytes, hash).
fn read_all(mut stream: TcpStream) -> (usize, u64) {
    let mut hash = fnv_start();
    let mut total = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let count = stream.read(&mut buffer).expect("read from echo");
        if count == 0 {
            return (total, hash);
        }
        hash = fnv(hash, &buffer[..count]);
        total += count;
    }
}

/// From inside `namespace`: [`BULK`] bytes to the appliance's echo at
/// `guest` while reading them back, then [`BULK`] bytes of its source
/// (whose bytes `pattern` says); panics unless every byte came intact.
///
/// # Panics
/// When a byte differs, a connection fails or a read waits 30 s.
pub fn echo_and_source_intact(namespace: &Namespace, guest: IpAddr, pattern: Pattern) {
    let (sent, (total, echoed)) = namespace.run_inside(move || {
        let stream = TcpStream::connect((guest, 7)).expect("connect to echo");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let reader = stream.try_clone().unwrap();
        let writer = std::thread::spawn(move || write_pattern(stream));
        let read = read_all(reader);
        (writer.join().unwrap(), read)
    });
    assert_eq!(total, BULK, "echo gave back {total} bytes");
    assert_eq!(sent, echoed, "echoed bytes differ from those sent");
    let source = SocketAddr::new(guest, 19);
    let received = namespace.run_inside(move || source_intact(source, pattern));
    assert!(received >= BULK as u64);
}

/// Reads [`BULK`] bytes of the source at `address`, checking each.
fn source_intact(address: SocketAddr, pattern: Pattern) -> u64 {
    let mut stream = TcpStream::connect(address).expect("connect to source");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    while offset < BULK as u64 {
        let count = stream.read(&mut buffer).expect("read from source");
        assert!(count > 0, "source closed early at {offset}");
        for (index, &byte) in buffer[..count].iter().enumerate() {
            let at = offset + index as u64;
            assert_eq!(byte, pattern(at), "byte {at}");
        }
        offset += count as u64;
    }
    offset
}

/// From `local` (an address of Linux's, port 0 for any): datagrams of
/// several sizes to the appliance's UDP echo at `guest`, each back whole.
/// Call it inside the namespace ([`Namespace::run_inside`]).
///
/// # Panics
/// When a datagram does not come back within 5 s, or changed.
pub fn udp_echoes(local: SocketAddr, guest: IpAddr) {
    let udp = UdpSocket::bind(local).unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for size in [1usize, 512, 1452, 4000] {
        let datagram: Vec<u8> = (0..size).map(|i| i as u8).collect();
        udp.send_to(&datagram, (guest, 7)).unwrap();
        let mut buffer = vec![0u8; 8192];
        let (count, from) = udp.recv_from(&mut buffer).expect("an echoed datagram");
        assert_eq!(&buffer[..count], &datagram[..], "{size} bytes from {from}");
        assert_eq!(from.ip(), guest);
    }
}
