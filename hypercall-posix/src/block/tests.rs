//! The file disk through the interface: many requests in flight, refusals,
//! injected failures, and closing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hypercall::{BlockCompletion, BlockDevice, BlockError, BlockOperation};
use hypercall::{BlockRequest, Hypercalls};

use super::*;
use crate::test_support::run_with_deadline;
use crate::{Posix, PosixConfig};

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn with_length(name: &str, length: u64) -> Self {
        let path = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let file = std::fs::File::create(&path).expect("create the disk file");
        file.set_len(length).expect("size the disk file");
        Self(path)
    }

    fn spec(&self, options: &str) -> DiskSpec {
        format!("{}{options}", self.0.display())
            .parse()
            .expect("a valid spec")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A request of one segment (none if `buffer` is empty).
fn request(tag: u64, operation: BlockOperation, offset: u64, buffer: Vec<u8>) -> BlockRequest {
    let buffers = match buffer.is_empty() {
        true => Vec::new(),
        false => vec![buffer],
    };
    vectored(tag, operation, offset, buffers)
}

fn vectored(
    tag: u64,
    operation: BlockOperation,
    offset: u64,
    buffers: Vec<Vec<u8>>,
) -> BlockRequest {
    BlockRequest {
        tag,
        operation,
        offset,
        buffers,
    }
}

/// The sector's pattern: its number in every byte pair, then `seed`.
fn pattern(sector: u64, seed: u8) -> Vec<u8> {
    (0..BLOCK_SIZE as usize)
        .map(|at| match at % 3 {
            0 => sector as u8,
            1 => (sector >> 8) as u8,
            _ => seed,
        })
        .collect()
}

/// Waits for and takes `count` completions, by tag.
fn collect(disk: &dyn BlockDevice, count: usize) -> BTreeMap<u64, BlockCompletion> {
    let mut completions = BTreeMap::new();
    while completions.len() < count {
        disk.wait().expect("open disks wait");
        while let Some(completion) = disk.take_completion() {
            completions.insert(completion.tag, completion);
        }
    }
    completions
}

fn host_with(spec: DiskSpec) -> std::sync::Arc<Posix> {
    Posix::new(PosixConfig {
        disks: vec![spec],
        ..PosixConfig::default()
    })
}

#[test]
fn sixty_four_writes_in_flight_then_reads_see_them() {
    let file = TempFile::with_length("anykernel-disk-flight", 64 * 512 + 100);
    let host = host_with(file.spec(""));
    let devices = host.block_devices().expect("offered");
    let name = devices.block_names().pop().expect("one disk");
    let disk = devices.block_open(&name).expect("opens");
    let geometry = disk.geometry();
    assert_eq!((geometry.size, geometry.block_size), (64 * 512, 512));
    run_with_deadline(|| {
        for sector in 0..64 {
            let write = request(
                sector,
                BlockOperation::Write,
                sector * 512,
                pattern(sector, 7),
            );
            disk.submit(write).expect("room for 64");
        }
        let refused = disk.submit(request(99, BlockOperation::Flush, 0, Vec::new()));
        assert_eq!(refused.map_err(|(error, _)| error), Err(BlockError::Busy));
        let written = collect(&*disk, 64);
        assert!(written.values().all(|done| done.result.is_ok()));
        disk.submit(request(64, BlockOperation::Flush, 0, Vec::new()))
            .expect("a flush");
        assert_eq!(collect(&*disk, 1)[&64].result, Ok(()));
        for sector in 0..64 {
            let read = request(sector, BlockOperation::Read, sector * 512, vec![0; 512]);
            disk.submit(read).expect("room for 64");
        }
        for (sector, done) in collect(&*disk, 64) {
            assert_eq!(
                (done.result, done.buffers),
                (Ok(()), vec![pattern(sector, 7)])
            );
        }
    });
    let bytes = std::fs::read(&file.0).expect("the file");
    assert_eq!(&bytes[512 * 5..512 * 6], &pattern(5, 7)[..]);
}

#[test]
fn malformed_and_read_only_requests_come_back_unstarted() {
    let file = TempFile::with_length("anykernel-disk-refuse", 8 * 512);
    let disk = FileDisk::open(&file.spec(",ro")).expect("opens");
    let cases = [
        (BlockOperation::Read, 0, 0, BlockError::Invalid),
        (BlockOperation::Read, 100, 512, BlockError::Invalid),
        (BlockOperation::Read, 0, 100, BlockError::Invalid),
        (BlockOperation::Read, 7 * 512, 1024, BlockError::Invalid),
        (
            BlockOperation::Read,
            u64::MAX - 511,
            512,
            BlockError::Invalid,
        ),
        (BlockOperation::Write, 0, 512, BlockError::ReadOnly),
        (BlockOperation::Flush, 0, 0, BlockError::ReadOnly),
    ];
    for (operation, offset, length, expected) in cases {
        let sent = request(1, operation, offset, vec![3; length]);
        let (error, back) = disk.submit(sent).expect_err("refused");
        assert_eq!((error, back.length()), (expected, length));
    }
    let writable = FileDisk::open(&file.spec("")).expect("opens");
    let flush_with_data = request(1, BlockOperation::Flush, 0, vec![0; 512]);
    let refused = writable.submit(flush_with_data).map_err(|(error, _)| error);
    assert_eq!(refused, Err(BlockError::Invalid));
}

#[test]
fn injected_bad_sectors_fail_with_eio_and_others_do_not() {
    let file = TempFile::with_length("anykernel-disk-fail", 16 * 512);
    let disk = FileDisk::open(&file.spec(",fail=4-5")).expect("opens");
    run_with_deadline(|| {
        let ranges = [(0, 4), (3, 2), (5, 1), (6, 10)];
        for (tag, (sector, count)) in ranges.into_iter().enumerate() {
            let read = request(
                tag as u64,
                BlockOperation::Read,
                sector * 512,
                vec![0; count * 512],
            );
            disk.submit(read).expect("valid");
        }
        let results: Vec<_> = collect(&disk, 4).into_values().map(|c| c.result).collect();
        let io = Err(BlockError::Io);
        assert_eq!(results, [Ok(()), io, io, Ok(())]);
    });
}

#[test]
fn closing_lets_requests_in_flight_finish_then_says_closed() {
    let file = TempFile::with_length("anykernel-disk-close", 4 * 512);
    let disk = FileDisk::open(&file.spec("")).expect("opens");
    run_with_deadline(|| {
        disk.submit(request(1, BlockOperation::Read, 0, vec![0; 2048]))
            .expect("valid");
        disk.close();
        let late = disk.submit(request(2, BlockOperation::Read, 0, vec![0; 512]));
        assert_eq!(late.map_err(|(error, _)| error), Err(BlockError::Closed));
        assert_eq!(collect(&disk, 1)[&1].result, Ok(()));
        assert_eq!(disk.wait(), Err(BlockError::Closed));
        assert_eq!(disk.wait(), Err(BlockError::Closed));
    });
}

#[test]
fn unknown_names_and_missing_files_are_errors() {
    let missing: DiskSpec = "/nonexistent/anykernel-disk".parse().expect("valid");
    let host = host_with(missing);
    let devices = host.block_devices().expect("offered");
    assert_eq!(
        devices.block_open("other").err(),
        Some(BlockError::NoDevice)
    );
    assert_eq!(
        devices.block_open("/nonexistent/anykernel-disk").err(),
        Some(BlockError::Unavailable)
    );
}

#[test]
fn segments_of_odd_lengths_move_as_one_transfer() {
    let file = TempFile::with_length("anykernel-disk-segments", 16 * 512);
    let disk = FileDisk::open(&file.spec("")).expect("opens");
    assert_eq!(disk.max_segments(), MAX_SEGMENTS);
    run_with_deadline(|| {
        let written = vec![pattern(2, 1), [pattern(3, 1), pattern(4, 1)].concat()];
        disk.submit(vectored(1, BlockOperation::Write, 2 * 512, written.clone()))
            .expect("valid");
        let done = collect(&disk, 1).remove(&1).expect("completed");
        assert_eq!((done.result, done.buffers), (Ok(()), written.clone()));
        let segments = vec![vec![0; 1024], vec![0; 512], vec![0; 512]];
        disk.submit(vectored(2, BlockOperation::Read, 512, segments))
            .expect("valid");
        let done = collect(&disk, 1).remove(&2).expect("completed");
        let lengths: Vec<usize> = done.buffers.iter().map(Vec::len).collect();
        assert_eq!((done.result, lengths), (Ok(()), vec![1024, 512, 512]));
        assert_eq!(done.buffers.concat()[512..], written.concat()[..]);
    });
}

#[test]
fn malformed_segments_come_back_unstarted_and_unchanged() {
    let file = TempFile::with_length("anykernel-disk-bad-segments", 8 * 512);
    let disk = FileDisk::open(&file.spec("")).expect("opens");
    let too_many = vec![vec![0; 512]; MAX_SEGMENTS + 1];
    let cases = [
        // Sectors 6..9 of 8: past the end.
        vec![vec![1; 512], vec![2; 1024]],
        vec![vec![1; 512], vec![2; 100]],
        vec![vec![1; 512], Vec::new()],
        too_many,
    ];
    for (tag, buffers) in cases.into_iter().enumerate() {
        let offset = if tag == 0 { 6 * 512 } else { 0 };
        let sent = vectored(tag as u64, BlockOperation::Write, offset, buffers.clone());
        let (error, back) = disk.submit(sent).expect_err("refused");
        assert_eq!((error, back.buffers), (BlockError::Invalid, buffers));
    }
    assert_eq!(std::fs::read(&file.0).expect("the file"), vec![0; 8 * 512]);
}

#[test]
fn a_bad_sector_in_any_segment_fails_the_request() {
    let file = TempFile::with_length("anykernel-disk-segment-fail", 16 * 512);
    let disk = FileDisk::open(&file.spec(",fail=5-5")).expect("opens");
    run_with_deadline(|| {
        let segments = || vec![vec![0; 512], vec![0; 1024], vec![0; 512]];
        disk.submit(vectored(1, BlockOperation::Read, 2 * 512, segments()))
            .expect("valid");
        disk.submit(vectored(2, BlockOperation::Read, 6 * 512, segments()))
            .expect("valid");
        let results: Vec<_> = collect(&disk, 2).into_values().map(|c| c.result).collect();
        assert_eq!(results, [Err(BlockError::Io), Ok(())]);
    });
}
