//! anykernel-busdump: the pcap it writes parses, record by record.

use std::path::Path;
use std::process::Command;

use crate::common::{TempBus, numbered_frame, send};

const TOOL: &str = env!("CARGO_BIN_EXE_anykernel-busdump");

fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// The records of a pcap file after checking its global header:
/// (seconds, captured bytes).
fn parse_pcap(bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
    assert!(bytes.len() >= 24, "a global header");
    assert_eq!(word(bytes, 0), 0xa1b2_c3d4, "microsecond magic");
    assert_eq!(bytes[4..8], [2, 0, 4, 0], "version 2.4");
    assert_eq!(word(bytes, 20), 1, "LINKTYPE_ETHERNET");
    let mut records = Vec::new();
    let mut rest = &bytes[24..];
    while !rest.is_empty() {
        assert!(rest.len() >= 16, "a whole record header");
        let (captured, original) = (word(rest, 8) as usize, word(rest, 12) as usize);
        assert_eq!(captured, original);
        assert!(word(rest, 4) < 1_000_000, "microseconds");
        assert!(rest.len() >= 16 + captured, "a whole record");
        records.push((word(rest, 0), rest[16..16 + captured].to_vec()));
        rest = &rest[16 + captured..];
    }
    records
}

fn dump(bus: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(TOOL)
        .arg(bus)
        .arg(output)
        .args(extra)
        .output()
        .expect("the tool runs")
}

#[test]
fn the_dump_holds_every_frame_in_the_ring_oldest_first() {
    let bus = TempBus::new("dump");
    let output = TempBus::new("dump-pcap");
    let nic = bus.nic(1);
    let frames: Vec<Vec<u8>> = (0..5)
        .map(|n| numbered_frame(1, n, 60 + 300 * n as usize))
        .collect();
    frames.iter().for_each(|frame| send(&nic, frame));
    let result = dump(&bus.path, &output.path, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let records = parse_pcap(&std::fs::read(&output.path).expect("written"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    assert!(
        records
            .iter()
            .all(|(seconds, _)| u64::from(*seconds).abs_diff(now.as_secs()) < 60)
    );
    let bytes: Vec<Vec<u8>> = records.into_iter().map(|(_, bytes)| bytes).collect();
    assert_eq!(bytes, frames);
    tcpdump_agrees(&output.path, 5);
}

#[test]
fn follow_appends_new_frames_until_the_count() {
    let bus = TempBus::new("follow");
    let output = TempBus::new("follow-pcap");
    let nic = bus.nic(1);
    send(&nic, &numbered_frame(1, 0, 64));
    let mut child = Command::new(TOOL)
        .arg(&bus.path)
        .arg(&output.path)
        .args(["--follow", "--count", "3"])
        .spawn()
        .expect("the tool runs");
    send(&nic, &numbered_frame(1, 1, 64));
    send(&nic, &numbered_frame(1, 2, 64));
    crate::common::run_with_deadline(|| {
        assert!(child.wait().expect("ends at the count").success())
    });
    let records = parse_pcap(&std::fs::read(&output.path).expect("written"));
    let bytes: Vec<Vec<u8>> = records.into_iter().map(|(_, bytes)| bytes).collect();
    assert_eq!(
        bytes,
        (0..3).map(|n| numbered_frame(1, n, 64)).collect::<Vec<_>>()
    );
}

#[test]
fn bad_usage_and_bad_buses_fail_with_a_message() {
    let bus = TempBus::new("dump-missing");
    let output = TempBus::new("dump-missing-pcap");
    let missing = dump(&bus.path, &output.path, &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open"));
    let usage = dump(&bus.path, &output.path, &["--count", "many"]);
    assert_eq!(usage.status.code(), Some(2));
    let usage = Command::new(TOOL).output().expect("the tool runs");
    assert!(String::from_utf8_lossy(&usage.stderr).contains("usage"));
}

/// If tcpdump is installed (an extra check, not a skip: the parse above
/// already ran), it reads the file and lists `frames` frames.
fn tcpdump_agrees(path: &Path, frames: usize) {
    let Ok(listing) = Command::new("tcpdump").arg("-nr").arg(path).output() else {
        return;
    };
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let text = String::from_utf8_lossy(&listing.stdout);
    // One summary line per frame; unknown EtherTypes add indented hex dumps.
    let summaries = text
        .lines()
        .filter(|line| !line.starts_with(char::is_whitespace));
    assert_eq!(summaries.count(), frames, "{text}");
}
