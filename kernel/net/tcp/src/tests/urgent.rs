//! Urgent data (RFC 6093): the engine takes it in-band, as SO_OOBINLINE
//! does, and ignores the urgent pointer: every byte of a segment with URG
//! is delivered once, in order, wherever the pointer points.

use std::vec::Vec;

use super::network::{Network, SECOND, address};
use crate::SocketHandle;
use crate::header::{Flags, HeaderFields};
use crate::sequence::Sequence;

/// A data segment from host 0's connection `client` at `sequence`, with
/// URG and `pointer` in the urgent pointer field.
fn urgent(
    network: &Network,
    client: SocketHandle,
    (sequence, ack): (Sequence, Sequence),
    data: &[u8],
    pointer: u16,
) -> Vec<u8> {
    let tcp = network.tcp(0);
    let local = tcp.local_address(client).unwrap();
    let remote = tcp.peer_address(client).unwrap();
    let mut bytes = std::vec![0u8; 20 + data.len()];
    HeaderFields {
        source_port: local.port(),
        destination_port: remote.port(),
        sequence,
        acknowledgment: ack,
        flags: Flags::ACK.with(Flags::URG).with(Flags::PSH),
        window: 1000,
    }
    .write(&mut bytes, 0);
    bytes[18..20].copy_from_slice(&pointer.to_be_bytes());
    bytes[20..].copy_from_slice(data);
    bytes
}

#[test]
fn urgent_data_is_delivered_in_band_whatever_the_pointer() {
    let mut network = Network::pair(41);
    let (client, _, server) = network.establish(80);
    network.send(0, client, b"before ").unwrap();
    network.settle(SECOND);
    let last = network
        .sent_by(1, 0)
        .last()
        .expect("the server's ACK")
        .segment();
    let (mut next, ack) = (last.acknowledgment, last.sequence);
    // The pointer inside the data, at its start (0), and far beyond it.
    let pieces: [(&[u8], u16); 4] = [
        (b"interrupt!", 5),
        (b" and more", 0),
        (b" urgent ahead", 60_000),
        (b" [an urgent byte alone]", 1),
    ];
    let start = network.capture.len();
    for (data, pointer) in pieces {
        let segment = urgent(&network, client, (next, ack), data, pointer);
        network.inject(1, address(0), segment, true);
        next = next.add(data.len() as u32);
    }
    // A retransmission of the second one changes nothing.
    let again = urgent(&network, client, (next.subtract(45), ack), b" and more", 0);
    network.inject(1, address(0), again, true);
    let expected = b"before interrupt! and more urgent ahead [an urgent byte alone]";
    assert_eq!(network.read(1, server).unwrap(), expected);
    network.settle(SECOND);
    let acknowledged = network
        .sent_by(1, start)
        .map(|sent| sent.segment().acknowledgment);
    assert_eq!(
        acknowledged.max_by_key(|ack| ack.0.wrapping_sub(next.0 - 1000)),
        Some(next)
    );
    // The engine never sets URG, and leaves the pointer zero.
    assert!(
        network
            .capture
            .iter()
            .all(|sent| !sent.has(Flags::URG) && sent.bytes[18..20] == [0, 0])
    );
    assert_eq!(network.tcp(1).stats().urgent_segments, 5);
}

#[test]
fn a_stream_with_urgent_segments_arrives_whole() {
    let mut network = Network::pair(42);
    let (client, _, server) = network.establish(80);
    // A middlebox sets URG on every third data segment of the client's,
    // the pointer cycling through the segment and past it.
    let mut count = 0u16;
    network.rewrite = Some(std::boxed::Box::new(move |from, bytes| {
        let header = usize::from(bytes[12] >> 4) * 4;
        if from != 0 || bytes.len() <= header {
            return;
        }
        count = count.wrapping_add(1);
        if count.is_multiple_of(3) {
            bytes[13] |= Flags::URG.0;
            bytes[18..20].copy_from_slice(&(count.wrapping_mul(97) % 3000).to_be_bytes());
        }
    }));
    network.impairment = super::network::Impairment {
        loss: 20,
        reorder: 20,
        ..Default::default()
    };
    assert!(super::transfer::transfer(
        &mut network,
        client,
        server,
        300_000,
        60 * SECOND
    ));
    assert!(network.tcp(1).stats().urgent_segments >= 60);
}
