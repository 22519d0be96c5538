//! Bulk transfers against the appliance from Linux, for either family:
//! 64 MiB through echo both ways at once with a hash each way, and the
//! source stream checked byte by byte; UDP echo round trips.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use super::{Namespace, chargen_byte};

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
/// `guest` while reading them back, then [`BULK`] bytes of its source;
/// panics unless every byte came back intact.
pub fn echo_and_source_intact(namespace: &Namespace, guest: IpAddr) {
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
    let received = namespace.run_inside(move || source_intact(SocketAddr::new(guest, 19)));
    assert!(received >= BULK as u64);
}

/// Reads [`BULK`] bytes of the source at `address`, checking each.
fn source_intact(address: SocketAddr) -> u64 {
    let mut stream = TcpStream::connect(address).expect("connect to source");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    while offset < BULK as u64 {
        let count = stream.read(&mut buffer).expect("read from source");
        assert!(count > 0, "source closed early at {offset}");
        for (index, &byte) in buffer[..count].iter().enumerate() {
            let at = offset + index as u64;
            assert_eq!(byte, chargen_byte(at), "byte {at}");
        }
        offset += count as u64;
    }
    offset
}

/// From `local` (an address of Linux's, port 0 for any): datagrams of
/// several sizes to the appliance's UDP echo at `guest`, each back whole.
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
