//! Tests of the bus file: attach, validation, seqlock reads, the cursor.

use super::*;
use crate::nic::bus::cursor::RingCursor;
use crate::test_support::run_with_deadline;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::time::Instant;

/// A unique bus path in the temp dir, removed on drop.
struct TempBus(PathBuf);

impl TempBus {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("anykernel-ring-{}-{count}", std::process::id());
        Self(std::env::temp_dir().join(name))
    }

    fn attach(&self) -> Ring {
        Ring::attach(&self.0, Attach::CreateIfMissing).expect("bus attaches")
    }

    fn write_at(&self, offset: u64, bytes: &[u8]) {
        let file = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.0)
            .expect("bus file");
        file.write_all_at(bytes, offset).expect("written");
    }
}

impl Drop for TempBus {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn frame(tag: u8, length: usize) -> Vec<u8> {
    (0..length)
        .map(|index| tag.wrapping_add(index as u8))
        .collect()
}

fn append(ring: &Ring, sender: u32, frame: &[u8]) -> u64 {
    ring.lock()
        .expect("uncontended")
        .append(sender, 77, frame)
        .expect("appended")
}

fn slot_offset(sequence: u64) -> u64 {
    BUS_HEADER_BYTES + (sequence % u64::from(SLOT_COUNT)) * SLOT_BYTES
}

#[test]
fn a_new_file_is_sized_and_a_second_attach_shares_it() {
    let bus = TempBus::new();
    let first = bus.attach();
    let length = std::fs::metadata(&bus.0).expect("created").len();
    assert_eq!(length, file_length(SLOT_COUNT));
    let second = bus.attach();
    assert_ne!(first.allocate_sender(), second.allocate_sender());
    assert_eq!(append(&first, 5, &frame(1, 60)), 1);
    assert_eq!(second.frames_written(), 1);
    let read = frame_at(&second, 1).expect("frame 1 is there");
    assert_eq!(
        (read.sender, read.timestamp_ns, read.bytes),
        (5, 77, frame(1, 60))
    );
}

#[test]
fn frames_of_every_legal_length_read_back_whole() {
    let bus = TempBus::new();
    let ring = bus.attach();
    for length in [MIN_FRAME, 15, 16, 17, 63, 64, 1513, MAX_FRAME] {
        let sequence = append(&ring, 1, &frame(length as u8, length));
        let read = frame_at(&ring, sequence).unwrap_or_else(|| panic!("{length}"));
        assert_eq!(read.bytes, frame(length as u8, length));
    }
    assert!(matches!(
        ring.read_into(0, &mut Vec::new()),
        SlotRead::Stale
    ));
    assert!(matches!(
        ring.read_into(99, &mut Vec::new()),
        SlotRead::Stale
    ));
}

#[test]
fn bad_headers_are_refused_with_a_reason() {
    let cases: [(u64, &[u8], &str); 4] = [
        (0, b"XXXX", "bad magic"),
        (4, &[9, 0, 0, 0], "version"),
        (16, &[0, 0, 0, 0x40], "slot count"),
        (20, &[1, 0, 0, 0], "slot size"),
    ];
    for (offset, bytes, reason) in cases {
        let bus = TempBus::new();
        drop(bus.attach());
        bus.write_at(offset, bytes);
        let failure = Ring::attach(&bus.0, Attach::CreateIfMissing).expect_err(reason);
        assert_eq!(failure.error, NicError::Unavailable);
        assert!(failure.reason.contains(reason), "{}", failure.reason);
    }
}

#[test]
fn short_or_missing_files_are_refused() {
    let bus = TempBus::new();
    let missing = Ring::attach(&bus.0, Attach::ExistingOnly).expect_err("missing");
    assert!(missing.reason.contains("cannot open"), "{}", missing.reason);
    bus.write_at(0, b"");
    let empty = Ring::attach(&bus.0, Attach::ExistingOnly).expect_err("empty");
    assert!(
        empty.reason.contains("shorter than a bus header"),
        "{}",
        empty.reason
    );
    bus.write_at(0, &initial_header(SLOT_COUNT));
    let short = Ring::attach(&bus.0, Attach::CreateIfMissing).expect_err("truncated");
    assert!(
        short.reason.contains("shorter than its header"),
        "{}",
        short.reason
    );
}

#[test]
fn garbage_in_a_slot_is_bad_or_stale_never_a_frame() {
    let bus = TempBus::new();
    let ring = bus.attach();
    for tag in 1..=3 {
        append(&ring, 1, &frame(tag, 60));
    }
    bus.write_at(slot_offset(2) + 16, &9999u32.to_le_bytes());
    assert!(matches!(ring.read_into(2, &mut Vec::new()), SlotRead::Bad));
    bus.write_at(slot_offset(3), &[0xee; 64]);
    assert!(matches!(
        ring.read_into(3, &mut Vec::new()),
        SlotRead::Stale
    ));
    let mut cursor = RingCursor::at_oldest(&ring);
    assert_eq!(
        cursor.next_frame(&ring).map(|read| read.bytes),
        Some(frame(1, 60))
    );
    assert_eq!(cursor.next_frame(&ring), None);
    assert_eq!((cursor.bad, cursor.lapped), (2, 0));
}

#[test]
fn a_cursor_overtaken_by_more_than_a_ring_skips_to_the_oldest() {
    let bus = TempBus::new();
    let ring = bus.attach();
    let mut cursor = RingCursor::at_end(&ring);
    let total = u64::from(SLOT_COUNT) + 10;
    for number in 0..total {
        let mut bytes = frame(0, 64);
        bytes[..8].copy_from_slice(&number.to_le_bytes());
        append(&ring, 1, &bytes);
    }
    let first = cursor.next_frame(&ring).expect("frames are there");
    assert_eq!(first.sequence, 11);
    assert_eq!(cursor.lapped, 10);
    let mut count = 1;
    while let Some(read) = cursor.next_frame(&ring) {
        assert_eq!(read.bytes[..8], (read.sequence - 1).to_le_bytes());
        count += 1;
    }
    assert_eq!(count, u64::from(SLOT_COUNT));
    assert!(cursor.caught_up(&ring));
}

#[test]
fn a_dead_holder_loses_the_lock_and_a_live_one_means_busy() {
    let bus = TempBus::new();
    let ring = bus.attach();
    bus.write_at(8, &u32::MAX.to_le_bytes());
    assert_eq!(append(&ring, 1, &frame(1, 20)), 1);
    let held = ring.lock().expect("free after the steal");
    assert_eq!(ring.lock().err(), Some(NicError::Busy));
    drop(held);
    assert_eq!(append(&ring, 1, &frame(2, 20)), 2);
}

#[test]
fn a_wait_on_a_stale_ticket_returns_at_once() {
    let bus = TempBus::new();
    let ring = bus.attach();
    let ticket = ring.ticket();
    ring.wake_all();
    assert_ne!(ring.ticket(), ticket, "wake_all moves the wake word");
    run_with_deadline(|| ring.wait(ticket, None));
}

#[test]
fn a_wait_ends_at_its_timeout() {
    let bus = TempBus::new();
    let ring = bus.attach();
    let waited = run_with_deadline(|| {
        let started = Instant::now();
        ring.wait(ring.ticket(), Some(Duration::from_millis(20)));
        started.elapsed()
    });
    assert!(waited >= Duration::from_millis(20), "waited {waited:?}");
}

#[test]
fn a_wake_through_a_second_attach_ends_a_wait_without_a_timeout() {
    let bus = TempBus::new();
    let (waiting, waking) = (bus.attach(), bus.attach());
    let ticket = waiting.ticket();
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                // `wait` may return spuriously: wait until the word moves.
                while waiting.ticket() == ticket {
                    waiting.wait(ticket, None);
                }
            });
            waking.wake_all();
            waiter.join().expect("the waiter does not panic");
        });
    });
    assert_eq!(waiting.ticket(), ticket.wrapping_add(1));
}

/// The frame in the slot of `sequence`, if it holds one.
fn frame_at(ring: &Ring, sequence: u64) -> Option<BusFrame> {
    let mut bytes = Vec::new();
    match ring.read_into(sequence, &mut bytes) {
        SlotRead::Frame(slot) => Some(BusFrame {
            sequence,
            sender: slot.sender,
            timestamp_ns: slot.timestamp_ns,
            bytes,
        }),
        SlotRead::Stale | SlotRead::Bad => None,
    }
}
