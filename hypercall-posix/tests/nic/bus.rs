//! NICs on one shared-memory bus in one process.

use std::time::{Duration, Instant};

use hypercall::{MIN_FRAME, NicError, VirtualNic};
use hypercall_posix::nic::{
    BUS_HEADER_BYTES, BusNic, FaultSpec, MAX_FRAME, SLOT_BYTES, SLOT_COUNT,
};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

use crate::common::{
    TempBus, decode, drain, file_word, numbered_frame, receive, run_with_deadline, scribble, send,
    wait_for,
};

/// The header word counting receivers asleep on the bus.
const WAITERS_OFFSET: u64 = 28;

/// The file offset of the slot holding frame `sequence`.
fn slot_offset(sequence: u64) -> u64 {
    BUS_HEADER_BYTES + (sequence % u64::from(SLOT_COUNT)) * SLOT_BYTES
}

#[test]
fn two_nics_exchange_frames_both_ways_in_order_and_a_third_sees_both() {
    let bus = TempBus::new("exchange");
    let (first, second, third) = (bus.nic(1), bus.nic(2), bus.nic(3));
    assert_ne!(first.sender_id(), second.sender_id());
    for number in 0..200 {
        send(&first, &numbered_frame(1, number, 60 + number as usize));
        send(&second, &numbered_frame(2, number, 1514 - number as usize));
    }
    let from = |frames: &[(u8, u64)], sender: u8| -> Vec<u64> {
        frames
            .iter()
            .filter(|(from, _)| *from == sender)
            .map(|&(_, number)| number)
            .collect()
    };
    let (at_first, at_second, at_third) = (drain(&first), drain(&second), drain(&third));
    let all: Vec<u64> = (0..200).collect();
    assert_eq!(
        (from(&at_first, 2), from(&at_first, 1)),
        (all.clone(), vec![])
    );
    assert_eq!(
        (from(&at_second, 1), from(&at_second, 2)),
        (all.clone(), vec![])
    );
    assert_eq!((from(&at_third, 1), from(&at_third, 2)), (all.clone(), all));
    assert_eq!(at_third.len(), 400);
    assert_eq!(third.statistics().delivered, 400);
    assert_eq!(
        (third.statistics().lapped, third.statistics().bad_records),
        (0, 0)
    );
}

#[test]
fn a_nic_receives_only_what_was_sent_after_it_attached() {
    let bus = TempBus::new("late");
    let early = bus.nic(1);
    send(&early, &numbered_frame(1, 0, 64));
    let late = bus.nic(2);
    assert!(drain(&late).is_empty());
    send(&early, &numbered_frame(1, 1, 64));
    assert_eq!(drain(&late), [(1, 1)]);
}

#[test]
fn a_blocked_receive_gets_a_frame_sent_from_another_thread() {
    let bus = TempBus::new("wakeup");
    let (sender, receiver) = (bus.nic(1), bus.nic(2));
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| receive(&receiver));
            wait_for("the receiver to sleep", || {
                file_word(&bus.path, WAITERS_OFFSET) == 1
            });
            send(&sender, &numbered_frame(1, 42, 100));
            assert_eq!(waiting.join().expect("no panic"), (1, 42));
        });
    });
}

#[test]
fn close_ends_a_blocked_receive_promptly_and_every_later_call() {
    let bus = TempBus::new("close");
    let (nic, other) = (bus.nic(1), bus.nic(2));
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| nic.receive(&mut [0u8; MAX_FRAME]));
            wait_for("the receiver to sleep", || {
                file_word(&bus.path, WAITERS_OFFSET) == 1
            });
            let closed_at = Instant::now();
            nic.close();
            assert_eq!(waiting.join().expect("no panic"), Err(NicError::Closed));
            assert!(
                closed_at.elapsed() < Duration::from_millis(500),
                "{:?}",
                closed_at.elapsed()
            );
        });
    });
    send(&other, &numbered_frame(2, 0, 64));
    assert_eq!(nic.receive(&mut [0u8; MAX_FRAME]), Err(NicError::Closed));
    assert_eq!(
        nic.try_receive(&mut [0u8; MAX_FRAME]),
        Err(NicError::Closed)
    );
    assert_eq!(nic.send(&numbered_frame(1, 0, 64)), Err(NicError::Closed));
    assert_eq!(drain(&other), []);
}

#[test]
fn a_reader_a_ring_behind_gets_the_newest_frames_and_a_loss_count() {
    let bus = TempBus::new("overrun");
    let (writer, reader) = (bus.nic(1), bus.nic(2));
    let total = u64::from(SLOT_COUNT) + 300;
    for number in 0..total {
        send(
            &writer,
            &numbered_frame(1, number, 64 + (number % 1400) as usize),
        );
    }
    let received = drain(&reader);
    let expected: Vec<(u8, u64)> = (300..total).map(|number| (1, number)).collect();
    assert_eq!(received, expected);
    let statistics = reader.statistics();
    assert_eq!((statistics.lapped, statistics.bad_records), (300, 0));
    assert_eq!(statistics.delivered, u64::from(SLOT_COUNT));
}

#[test]
fn frames_outside_the_legal_lengths_are_bad_length() {
    let bus = TempBus::new("length");
    let (nic, other) = (bus.nic(1), bus.nic(2));
    assert_eq!(nic.max_frame(), 1514);
    for length in [0, 1, MIN_FRAME - 1, MAX_FRAME + 1, 9000] {
        assert_eq!(
            nic.send(&vec![0u8; length]),
            Err(NicError::BadLength),
            "{length}"
        );
    }
    send(&nic, &[0xab; MIN_FRAME]);
    send(&nic, &[0xcd; MAX_FRAME]);
    let mut buffer = [0u8; MAX_FRAME];
    assert_eq!(other.try_receive(&mut buffer), Ok(Some(MIN_FRAME)));
    assert_eq!(other.try_receive(&mut buffer), Ok(Some(MAX_FRAME)));
    assert_eq!(buffer, [0xcd; MAX_FRAME]);
}

#[test]
fn a_frame_longer_than_the_buffer_is_dropped_and_the_next_one_delivered() {
    let bus = TempBus::new("short-buffer");
    let (nic, other) = (bus.nic(1), bus.nic(2));
    send(&nic, &numbered_frame(1, 0, 500));
    send(&nic, &numbered_frame(1, 1, 100));
    let mut buffer = [0u8; 200];
    let length = other
        .try_receive(&mut buffer)
        .expect("open")
        .expect("a frame");
    assert_eq!(decode(&buffer[..length]), (1, 1));
    assert_eq!(other.statistics().oversized, 1);
}

#[test]
fn a_bus_file_with_a_corrupt_header_is_refused() {
    let bus = TempBus::new("corrupt-header");
    drop(bus.nic(1));
    scribble(&bus.path, 0, b"JUNK");
    let failure = BusNic::open(&bus.path, [2, 0, 0, 0, 0, 1], FaultSpec::default(), 1)
        .expect_err("a bad magic is refused");
    assert_eq!(failure.error, NicError::Unavailable);
    assert!(
        failure.reason.contains(&bus.path.display().to_string()),
        "{failure}"
    );
    std::fs::write(
        &bus.path,
        b"not a bus at all, but long enough for a header.",
    )
    .expect("written");
    let failure = BusNic::open(&bus.path, [2, 0, 0, 0, 0, 1], FaultSpec::default(), 1);
    assert_eq!(
        failure.map(drop).map_err(|failure| failure.error),
        Err(NicError::Unavailable)
    );
}

#[test]
fn garbage_records_are_skipped() {
    let bus = TempBus::new("garbage");
    let (writer, reader) = (bus.nic(1), bus.nic(2));
    for number in 1..=4 {
        send(&writer, &numbered_frame(1, number, 80));
    }
    scribble(&bus.path, slot_offset(2) + 16, &70_000u32.to_le_bytes());
    scribble(&bus.path, slot_offset(3), &[0x5a; SLOT_BYTES as usize]);
    assert_eq!(drain(&reader), [(1, 1), (1, 4)]);
    assert_eq!(reader.statistics().bad_records, 2);
    send(&writer, &numbered_frame(1, 5, 80));
    assert_eq!(drain(&reader), [(1, 5)]);
}

#[test]
fn garbage_all_over_the_ring_never_panics_and_the_bus_recovers() {
    let bus = TempBus::new("noise");
    let (writer, reader) = (bus.nic(1), bus.nic(2));
    let mut noise = vec![0u8; SLOT_BYTES as usize * 64];
    Xoshiro256PlusPlus::seed_from_u64(0x1234_5678_9abc_def0).fill_bytes(&mut noise);
    scribble(&bus.path, 32, &noise);
    let mut buffer = [0u8; MAX_FRAME];
    for _ in 0..100 {
        match reader.try_receive(&mut buffer) {
            Ok(Some(length)) => assert!((MIN_FRAME..=MAX_FRAME).contains(&length)),
            Ok(None) => break,
            Err(error) => panic!("garbage is not an error: {error}"),
        }
    }
    scribble(&bus.path, 32, &0u64.to_le_bytes());
    let fresh = bus.nic(3);
    send(&writer, &numbered_frame(1, 9, 64));
    assert_eq!(drain(&fresh), [(1, 9)]);
}

#[test]
fn two_kernels_reach_the_bus_through_their_hosts() {
    use hypercall::Hypercalls;
    use hypercall_posix::{Posix, PosixConfig};
    let bus = TempBus::new("hosts");
    let host = |mac: &str| {
        let spec = format!("{},mac={mac}", bus.spec());
        let nics = vec![
            spec.parse().expect("valid"),
            bus.spec().parse().expect("valid"),
        ];
        Posix::new(PosixConfig {
            nics,
            ..PosixConfig::default()
        })
    };
    let (left, right) = (host("02:00:00:00:00:0a"), host("02:00:00:00:00:0b"));
    let open = |posix: &Posix, unit| posix.virtual_nics().expect("offered").virtif_open(unit);
    let (left_nic, right_nic) = (
        open(&left, 0).expect("unit 0"),
        open(&right, 0).expect("unit 0"),
    );
    let spare = open(&left, 1).expect("unit 1");
    assert_eq!(open(&left, 2).err(), Some(NicError::NoDevice));
    assert_eq!(left_nic.mac_address(), [2, 0, 0, 0, 0, 0x0a]);
    assert_eq!(spare.mac_address()[0], 2);
    assert_ne!(
        spare.mac_address(),
        open(&right, 1).expect("unit 1").mac_address()
    );
    send(left_nic.as_ref(), &numbered_frame(0x0a, 1, 64));
    send(right_nic.as_ref(), &numbered_frame(0x0b, 2, 64));
    assert_eq!(drain(right_nic.as_ref()), [(0x0a, 1)]);
    assert_eq!(drain(left_nic.as_ref()), [(0x0b, 2)]);
    assert_eq!(drain(spare.as_ref()), [(0x0a, 1), (0x0b, 2)]);
}

#[test]
fn concurrent_writers_and_a_lapped_reader_never_see_torn_frames() {
    let bus = TempBus::new("race");
    let writers = [bus.nic(1), bus.nic(2), bus.nic(3)];
    let reader = bus.nic(9);
    const EACH: u64 = 6_000;
    let mut seen = Vec::new();
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            for (index, writer) in writers.iter().enumerate() {
                scope.spawn(move || {
                    for number in 0..EACH {
                        let length = 64 + (number as usize * 7) % 1400;
                        send(writer, &numbered_frame(index as u8 + 1, number, length));
                    }
                });
            }
            let mut buffer = [0u8; MAX_FRAME];
            let total = || {
                let statistics = reader.statistics();
                statistics.delivered + statistics.lapped + statistics.bad_records
            };
            while total() < 3 * EACH {
                if let Some(length) = reader.try_receive(&mut buffer).expect("open") {
                    seen.push(decode(&buffer[..length]));
                }
            }
        });
    });
    for sender in 1..=3 {
        let numbers: Vec<u64> = seen.iter().filter(|f| f.0 == sender).map(|f| f.1).collect();
        assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]), "in order");
    }
    let statistics = reader.statistics();
    assert_eq!(statistics.bad_records, 0);
    assert_eq!(statistics.delivered, seen.len() as u64);
}
