//! Fault injection on a bus NIC, measured over 10,000 frames.

use hypercall::VirtualNic;
use hypercall_posix::nic::{FaultSpec, MAX_FRAME};

use crate::common::{TempBus, drain, numbered_frame, run_with_deadline, send};

const FRAMES: u64 = 10_000;
/// Frames sent between two drains: well inside the ring, so none is lapped.
const BURST: u64 = 1_000;

/// Whether `count` is within 5 standard deviations of `probability` of
/// `trials` (the seed is fixed, so this is deterministic; the tolerance
/// only says how far an unlucky seed could be).
fn near(count: u64, probability: f64, trials: u64) -> bool {
    let expected = probability * trials as f64;
    let deviation = (trials as f64 * probability * (1.0 - probability)).sqrt();
    (count as f64 - expected).abs() <= 5.0 * deviation
}

#[test]
fn fault_statistics_match_the_configured_probabilities() {
    let bus = TempBus::new("faults");
    let spec = "bus:x,loss=0.1,duplicate=0.05,reorder=0.1,corrupt=0.01,seed=7";
    let faults = spec
        .parse::<hypercall_posix::nic::NicSpec>()
        .expect("valid")
        .faults;
    let (writer, reader) = (bus.nic(1), bus.nic_with_faults(2, faults));
    let mut received = Vec::new();
    let mut buffer = [0u8; MAX_FRAME];
    for burst in 0..FRAMES / BURST {
        for number in burst * BURST..(burst + 1) * BURST {
            send(&writer, &numbered_frame(1, number, 200));
        }
        while let Some(length) = reader.try_receive(&mut buffer).expect("open") {
            received.push(buffer[..length].to_vec());
        }
    }
    let counters = reader.statistics().faults;
    assert_eq!(counters.admitted, FRAMES);
    assert!(near(counters.dropped, 0.1, FRAMES), "{counters:?}");
    let kept = FRAMES - counters.dropped;
    assert!(near(counters.duplicated, 0.05, kept), "{counters:?}");
    assert!(near(counters.reordered, 0.1, kept), "{counters:?}");
    assert!(near(counters.corrupted, 0.01, kept), "{counters:?}");
    let expected = kept + counters.duplicated;
    run_with_deadline(|| {
        while (received.len() as u64) < expected {
            let length = reader
                .receive(&mut buffer)
                .expect("held frames come out in time");
            received.push(buffer[..length].to_vec());
        }
    });
    assert_eq!(received.len() as u64, expected);
    assert_eq!(drain(&reader), []);
    let damaged = corrupted_copies(&received);
    let corrupted = counters.corrupted;
    assert!(
        corrupted <= damaged && damaged <= 2 * corrupted,
        "{damaged} of {corrupted}"
    );
    let inversions = received
        .windows(2)
        .filter(|pair| number_of(&pair[0]) > number_of(&pair[1]));
    assert!(inversions.count() > 0, "reordering reorders");
}

/// The number field of a frame (a flipped bit may land in it too).
fn number_of(frame: &[u8]) -> u64 {
    u64::from_le_bytes(frame[14..22].try_into().expect("8 bytes"))
}

/// Frames that differ from what was sent (a duplicate of a corrupted
/// frame counts twice).
fn corrupted_copies(frames: &[Vec<u8>]) -> u64 {
    frames
        .iter()
        .filter(|frame| frame[..] != numbered_frame(1, number_of(frame), 200)[..])
        .count() as u64
}

#[test]
fn each_side_of_a_link_has_its_own_faults() {
    let bus = TempBus::new("one-sided");
    let lossy = FaultSpec {
        loss: 1.0,
        ..FaultSpec::default()
    };
    let (clean, deaf) = (bus.nic(1), bus.nic_with_faults(2, lossy));
    send(&clean, &numbered_frame(1, 1, 64));
    send(&deaf, &numbered_frame(2, 2, 64));
    assert_eq!(drain(&deaf), []);
    assert_eq!(drain(&clean), [(2, 2)]);
    assert_eq!(deaf.statistics().faults.dropped, 1);
}
