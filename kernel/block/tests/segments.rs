//! Requests of several segments: they reach a device whole (joined for a
//! driver taking fewer), come back in their own segments, are refused
//! unchanged when they do not fit the disk, and a run read or written by
//! the cache in one request fails only the blocks whose sectors fail.

mod common;

use std::sync::Arc;

use base::Context;
use base::sync::{Condvar, Mutex};
use block::{Block, BlockError, Completion, Disk, Operation, Request, Segments, Volume};
use common::fake::FakeDisk;
use common::{assert_same, boot, random_bytes};

/// A request's answer, once it came.
type Answer = Arc<(Mutex<Option<(Segments, Result<(), BlockError>)>>, Condvar)>;

/// Submits `buffers` as one request and waits for its answer.
fn run(
    context: &Context<'_>,
    disk: &Arc<Disk>,
    operation: Operation,
    sector: u64,
    buffers: Segments,
) -> (Segments, Result<(), BlockError>) {
    let answer: Answer = Arc::new((Mutex::new(None), Condvar::new()));
    let filled = answer.clone();
    let completion = Completion::new(move |context, buffers, result| {
        *filled.0.lock(context) = Some((buffers, result));
        filled.1.notify_all(context);
    });
    let request = Request {
        operation,
        sector,
        buffers,
        completion,
    };
    disk.submit(context, request).expect("a valid request");
    let deadline = context.now_ns() + 20_000_000_000;
    let mut done = answer.0.lock(context);
    loop {
        if let Some(answer) = done.take() {
            return answer;
        }
        assert!(context.now_ns() < deadline, "the request completes");
        done = answer.1.wait_until(done, deadline).0;
    }
}

/// Segments of 512, 1536 and 512 bytes, zeroed.
fn odd_segments() -> Segments {
    vec![vec![0; 512], vec![0; 1536], vec![0; 512]]
}

/// `fake` filled with random bytes and attached; the disk.
fn attached(context: &Context<'_>, fake: &Arc<FakeDisk>) -> Arc<Disk> {
    let mut state = fake.state.lock(context);
    state.bytes = random_bytes(state.bytes.len(), 3);
    drop(state);
    let block = Block::of(context).expect("linked");
    block
        .attach(context, "fake".into(), fake.clone())
        .expect("attached")
}

/// Reads and writes odd segments at sector 3 of a device taking
/// `max_segments`; returns how many segments the device saw each time.
fn odd_segments_round_trip(max_segments: usize) -> Vec<usize> {
    let test = boot("", &[]);
    let context = test.kernel.enter().expect("enter");
    let fake = FakeDisk::with_segments(64, 4, max_segments);
    let device = fake.start(&test.kernel);
    let disk = attached(&context, &fake);
    let before = fake.state.lock(&context).bytes.clone();
    let (read, result) = run(&context, &disk, Operation::Read, 3, odd_segments());
    assert_eq!(result, Ok(()));
    let lengths: Vec<usize> = read.iter().map(Vec::len).collect();
    assert_eq!(lengths, [512, 1536, 512], "the submitter's own segments");
    assert_same(&read.concat(), &before[3 * 512..8 * 512], "read");
    let written = vec![vec![1; 1024], vec![2; 512], vec![3; 1536]];
    let (back, result) = run(&context, &disk, Operation::Write, 10, written.clone());
    assert_eq!((result, back), (Ok(()), written.clone()));
    let state = fake.state.lock(&context);
    assert_same(&state.bytes[10 * 512..16 * 512], &written.concat(), "write");
    assert_same(&state.bytes[..10 * 512], &before[..10 * 512], "before it");
    let segments = state.segments.clone();
    drop(state);
    fake.stop(&context, device);
    segments
}

#[test]
fn segments_of_odd_sizes_reach_the_device_whole_and_come_back() {
    assert_eq!(odd_segments_round_trip(256), [3, 3]);
}

#[test]
fn a_driver_taking_one_segment_gets_them_joined_and_the_read_split_back() {
    assert_eq!(odd_segments_round_trip(1), [1, 1]);
}

#[test]
fn requests_that_do_not_fit_are_refused_with_their_segments_unchanged() {
    let test = boot("", &[]);
    let context = test.kernel.enter().expect("enter");
    let fake = FakeDisk::new(64, 4);
    let device = fake.start(&test.kernel);
    let disk = attached(&context, &fake);
    let before = fake.state.lock(&context).bytes.clone();
    let cases = [
        // Sectors 62..66 of 64: past the end.
        (Operation::Write, 62, odd_segments(), BlockError::OutOfRange),
        (Operation::Read, 62, odd_segments(), BlockError::OutOfRange),
        (
            Operation::Read,
            u64::MAX,
            odd_segments(),
            BlockError::OutOfRange,
        ),
        (
            Operation::Read,
            0,
            vec![vec![0; 512], vec![0; 100]],
            BlockError::Invalid,
        ),
        (
            Operation::Write,
            0,
            vec![vec![7; 512], Vec::new()],
            BlockError::Invalid,
        ),
        (Operation::Read, 0, Vec::new(), BlockError::Invalid),
        (Operation::Flush, 0, vec![vec![0; 512]], BlockError::Invalid),
    ];
    for (operation, sector, buffers, error) in cases {
        let request = Request {
            operation,
            sector,
            buffers: buffers.clone(),
            completion: Completion::new(|_, _, _| panic!("a refused request never completes")),
        };
        let refused = disk.submit(&context, request).expect_err("refused");
        assert_eq!(refused.error, error, "{operation:?} at {sector}");
        assert_eq!(refused.request.buffers, buffers, "nothing lost");
    }
    assert_same(&fake.state.lock(&context).bytes, &before, "the disk");
    assert_eq!(fake.state.lock(&context).segments, [0_usize; 0]);
    fake.stop(&context, device);
}

#[test]
fn a_failing_sector_in_a_run_fails_only_its_own_block() {
    let test = boot("", &[]);
    let context = test.kernel.enter().expect("enter");
    let fake = FakeDisk::new(256, 4);
    let device = fake.start(&test.kernel);
    let disk = attached(&context, &fake);
    let before = fake.state.lock(&context).bytes.clone();
    let block = Block::of(&context).expect("linked");
    let volume = Volume::on(&context, block, disk, 1024).expect("a volume");
    fake.state.lock(&context).failing = 10..11; // block 5
    let mut bytes = vec![0; 1024];
    for number in 0..12 {
        let result = volume.read(&context, number, &mut bytes);
        if number == 5 {
            assert_eq!(result, Err(BlockError::Io), "block 5");
            continue;
        }
        assert_eq!(result, Ok(()), "block {number}");
        let at = number as usize * 1024;
        assert_same(&bytes, &before[at..at + 1024], "a block read ahead");
    }
    let segments = fake.state.lock(&context).segments.clone();
    assert!(
        segments.iter().any(|&n| n > 1),
        "runs went whole: {segments:?}"
    );
    for number in 0..8 {
        volume
            .write(&context, number, &[number as u8 + 1; 1024])
            .expect("cached");
    }
    assert_eq!(volume.sync(&context), Err(BlockError::Io));
    let stats = Block::of(&context).expect("linked").cache_stats(&context);
    assert_eq!(stats.dirty_bytes, 1024, "only block 5 stays dirty");
    fake.state.lock(&context).failing = 0..0;
    volume.sync(&context).expect("repaired");
    let state = fake.state.lock(&context);
    for number in 0..8 {
        let at = number * 1024;
        let expected = [number as u8 + 1; 1024];
        assert_same(&state.bytes[at..at + 1024], &expected, "written back");
    }
    drop(state);
    fake.stop(&context, device);
}
