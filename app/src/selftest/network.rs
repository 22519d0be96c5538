//! `test=net-peer peer=A.B.C.D [bytes=N]`: this guest as a network client
//! of another appliance on the same link.
//!
//! It pings the peer until it answers (the peer may still be booting),
//! downloads `bytes` (default 16 MiB) from its source service checking
//! every byte against the chargen pattern, echoes 1,000 messages through
//! its echo service in order, and passes. Its own address comes from the
//! usual `ip=` parameter.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use kernel::net::{Fd, Net, SocketType};

use super::{Case, Outcome};
use crate::services::chargen_byte;

const SECOND: u64 = 1_000_000_000;
/// How long the peer may take to answer its first ping.
const PEER_PATIENCE: u64 = 30;

pub(super) fn run(case: &Case<'_>) -> Outcome {
    let net = Net::of(case.context).ok_or("no net faction")?;
    let params = case.kernel.params();
    let peer: Ipv4Addr = params
        .get("peer")
        .and_then(|text| text.parse().ok())
        .ok_or("peer= is missing or not an IPv4 address")?;
    let bytes = params
        .get_size("bytes")
        .map_err(|error| format!("{error}"))?
        .unwrap_or(16 << 20) as u64;
    wait_for_peer(case, &net, peer)?;
    download(case, &net, peer, bytes)?;
    echo(case, &net, peer)
}

fn wait_for_peer(case: &Case<'_>, net: &Net, peer: Ipv4Addr) -> Outcome {
    for sequence in 0..PEER_PATIENCE as u16 {
        if let Ok(rtt) = net.ping(case.context, peer, sequence, SECOND) {
            case.report
                .line(format_args!("ping {peer}: {} us", rtt / 1_000));
            return Ok(());
        }
    }
    Err(format!("{peer} did not answer {PEER_PATIENCE} pings"))
}

fn connect(case: &Case<'_>, net: &Net, peer: Ipv4Addr, port: u16) -> Result<Fd, String> {
    let fd = net
        .socket(case.context, SocketType::Stream)
        .map_err(|e| format!("{e}"))?;
    net.connect(case.context, fd, SocketAddrV4::new(peer, port))
        .map_err(|error| format!("connect to {peer}:{port}: {error}"))?;
    Ok(fd)
}

fn download(case: &Case<'_>, net: &Net, peer: Ipv4Addr, bytes: u64) -> Outcome {
    let fd = connect(case, net, peer, 19)?;
    let started = case.context.now_ns();
    let mut buffer = vec![0u8; 32 * 1024];
    let mut offset = 0u64;
    while offset < bytes {
        let count = net
            .read(case.context, fd, &mut buffer)
            .map_err(|error| format!("read at {offset}: {error}"))?;
        if count == 0 {
            return Err(format!("the source closed at {offset}"));
        }
        for (index, &byte) in buffer[..count].iter().enumerate() {
            if byte != chargen_byte(offset + index as u64) {
                return Err(format!("byte {} differs", offset + index as u64));
            }
        }
        offset += count as u64;
    }
    let _ = net.close(case.context, fd);
    let elapsed = (case.context.now_ns() - started).max(1);
    case.report.line(format_args!(
        "downloaded {offset} bytes in {} ms",
        elapsed / 1_000_000
    ));
    Ok(())
}

fn echo(case: &Case<'_>, net: &Net, peer: Ipv4Addr) -> Outcome {
    let fd = connect(case, net, peer, 7)?;
    let mut buffer = [0u8; 64];
    for number in 0..1000u32 {
        let message = format!("message {number:04}");
        net.write(case.context, fd, message.as_bytes())
            .map_err(|error| format!("echo write: {error}"))?;
        let mut got = 0;
        while got < message.len() {
            match net.read(case.context, fd, &mut buffer[got..message.len()]) {
                Ok(0) => return Err(String::from("the echo closed")),
                Ok(count) => got += count,
                Err(error) => return Err(format!("echo read: {error}")),
            }
        }
        if &buffer[..got] != message.as_bytes() {
            return Err(format!("echo {number} came back different"));
        }
    }
    let _ = net.close(case.context, fd);
    case.report.line(format_args!("1000 echoes in order"));
    Ok(())
}
