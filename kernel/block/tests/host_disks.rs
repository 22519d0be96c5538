//! The block layer over host files: what the file holds is what volumes
//! read, writes reach the file at sync (and at shutdown), many requests
//! are in flight at once, and the cache's bound holds.

mod common;

use std::sync::Arc;

use base::Context;
use base::sync::{Condvar, Mutex};
use block::{Block, BlockError, Completion, Operation, Request, Volume};
use common::{Image, account_bytes, assert_same, boot, random_bytes};

const MIB: usize = 1024 * 1024;

fn block_of(context: &Context<'_>) -> Arc<Block> {
    Block::of(context).expect("the block layer is linked")
}

#[test]
fn a_volume_reads_the_file_and_sync_writes_every_block_back() {
    let image = Image::random("volume-sync", 4 * MIB, 1);
    let mut expected = image.bytes();
    let test = boot("", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    assert_eq!((volume.block_count(), volume.block_size()), (1024, 4096));
    let mut block = vec![0; 4096];
    for number in 0..1024 {
        volume.read(&context, number, &mut block).expect("read");
        let at = number as usize * 4096;
        assert_same(&block, &expected[at..at + 4096], &format!("block {number}"));
    }
    for number in (0..1024).step_by(3) {
        let data = random_bytes(4096, 100 + number);
        volume.write(&context, number, &data).expect("write");
        let at = number as usize * 4096;
        expected[at..at + 4096].copy_from_slice(&data);
    }
    volume.sync(&context).expect("sync");
    assert_same(&image.bytes(), &expected, "the file holds every write");
    let stats = block_of(&context).cache_stats(&context);
    assert!(
        stats.read_ahead > 0,
        "sequential reads read ahead: {stats:?}"
    );
    // Read-ahead tops its window up a whole request at a time: 4 MiB in
    // 256 KiB requests, and no more requests than that.
    let largest = (block::MAX_RUN_BYTES / 4096) as u64;
    let reads = volume.disk().stats().reads;
    assert!(reads <= 1024 / largest + 2, "{reads} reads of 4 MiB");
    assert_eq!((stats.dirty_bytes, stats.syncs), (0, 1));
    assert!(volume.disk().stats().flushes >= 1, "the sync flushed");
    assert!(volume.disk().stats().peak_in_flight > 1);
}

#[test]
fn consecutive_blocks_go_as_one_request_and_forget_drops_the_cache() {
    let image = Image::random("runs", 4 * MIB, 4);
    let mut expected = image.bytes();
    let test = boot("", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    for number in 0..256u64 {
        let data = random_bytes(4096, 500 + number);
        volume.write(&context, number, &data).expect("write");
        let at = number as usize * 4096;
        expected[at..at + 4096].copy_from_slice(&data);
    }
    volume.sync(&context).expect("sync");
    assert_same(&image.bytes(), &expected, "the file holds every write");
    let per_run = (block::MAX_RUN_BYTES / 4096) as u64;
    let writes = volume.disk().stats().writes;
    assert!(writes <= 256 / per_run + 1, "{writes} write requests");
    volume.forget(&context).expect("forget");
    assert_eq!(block_of(&context).cache_stats(&context).buffers, 0);
    let reads_before = volume.disk().stats().reads;
    let mut block = vec![0; 4096];
    for number in 0..1024u64 {
        volume.read(&context, number, &mut block).expect("read");
        let at = number as usize * 4096;
        assert_same(&block, &expected[at..at + 4096], &format!("block {number}"));
    }
    let reads = volume.disk().stats().reads - reads_before;
    assert!(reads <= 1024 / 8, "{reads} read requests for 1024 blocks");
}

#[test]
fn parts_of_blocks_are_read_and_written_in_place() {
    let image = Image::random("parts", MIB, 5);
    let mut expected = image.bytes();
    let test = boot("", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    // Not cached yet: the rest of the block is read in first.
    volume
        .write_part(&context, 9, 256, &[7; 128])
        .expect("part");
    expected[9 * 4096 + 256..9 * 4096 + 384].fill(7);
    let mut part = vec![0; 300];
    volume.read_part(&context, 9, 200, &mut part).expect("part");
    assert_same(&part, &expected[9 * 4096 + 200..9 * 4096 + 500], "the part");
    volume.sync(&context).expect("sync");
    assert_same(&image.bytes(), &expected, "the block on disk");
    let outside = volume.read_part(&context, 9, 4000, &mut part);
    assert_eq!(outside, Err(BlockError::Invalid));
    let past = volume.write_part(&context, 256, 0, &[1]);
    assert_eq!(past, Err(BlockError::OutOfRange));
}

#[test]
fn reads_of_cached_blocks_between_sequential_ones_keep_the_read_ahead() {
    let image = Image::random("interleaved", 4 * MIB, 3);
    let expected = image.bytes();
    let test = boot("", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    let mut block = vec![0; 4096];
    // As a file system reads a file: its inode's block (cached after the
    // first read) before each data block.
    for number in 100..400u64 {
        volume.read(&context, 3, &mut block).expect("read");
        volume.read(&context, number, &mut block).expect("read");
        let at = number as usize * 4096;
        assert_same(&block, &expected[at..at + 4096], &format!("block {number}"));
    }
    let stats = block_of(&context).cache_stats(&context);
    assert!(
        stats.misses <= 300 / 4 && stats.read_ahead >= 250,
        "most data blocks were read ahead: {stats:?}"
    );
}

#[test]
fn the_bound_holds_when_the_disk_is_larger_than_the_cache() {
    let image = Image::random("bound", 8 * MIB, 2);
    let test = boot("bcache=256K", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    let mut expected = Vec::with_capacity(8 * MIB);
    for number in 0..2048u64 {
        let data = random_bytes(4096, 1000 + number);
        volume.write(&context, number, &data).expect("write");
        expected.extend_from_slice(&data);
    }
    let mut block = vec![0; 4096];
    for number in (0..2048u64).rev() {
        volume.read(&context, number, &mut block).expect("read");
        let at = number as usize * 4096;
        assert_same(&block, &expected[at..at + 4096], &format!("block {number}"));
    }
    let stats = block_of(&context).cache_stats(&context);
    assert_eq!(stats.limit, 256 * 1024);
    assert!(stats.peak_bytes <= stats.limit, "{stats:?}");
    assert!(
        stats.writebacks >= 2048 - 64 && stats.evictions > 0,
        "{stats:?}"
    );
    let charged = account_bytes(&test.kernel, "bcache");
    assert!(charged <= stats.limit + stats.buffers * block::cache::BUFFER_OVERHEAD);
    volume.sync(&context).expect("sync");
    assert_same(&image.bytes(), &expected, "the file");
}

#[test]
fn shutdown_writes_back_what_was_never_synced() {
    let image = Image::with("shutdown", &[0; 64 * 1024]);
    let data = random_bytes(1024, 3);
    {
        let test = boot("", &[image.spec("")]);
        let context = test.kernel.enter().expect("enter");
        let volume = Volume::open(&context, "vblk0", 1024).expect("vblk0");
        volume.write(&context, 9, &data).expect("write");
    }
    assert_same(&image.bytes()[9 * 1024..10 * 1024], &data, "block 9");
}

/// Sectors read so far, by number, and a condvar announcing each.
type Answers = Arc<(Mutex<Vec<Option<Vec<u8>>>>, Condvar)>;

/// Submits `count` one-sector reads at once and waits for them all.
fn read_all_at_once(context: &Context<'_>, disk: &Arc<block::Disk>, count: u64) -> Vec<Vec<u8>> {
    let answers: Answers = Arc::new((Mutex::new(vec![None; count as usize]), Condvar::new()));
    for sector in 0..count {
        let answers = answers.clone();
        let completion = Completion::new(move |context, mut buffers, result| {
            assert_eq!((result, buffers.len()), (Ok(()), 1));
            answers.0.lock(context)[sector as usize] = buffers.pop();
            answers.1.notify_all(context);
        });
        let request = Request {
            operation: Operation::Read,
            sector,
            buffers: vec![vec![0; 512]],
            completion,
        };
        disk.submit(context, request).expect("a valid request");
    }
    let deadline = context.now_ns() + 20_000_000_000;
    let mut done = answers.0.lock(context);
    while done.iter().any(Option::is_none) {
        let (next, _) = answers.1.wait_until(done, deadline);
        done = next;
        assert!(context.now_ns() < deadline, "every read completes");
    }
    done.iter_mut()
        .map(|answer| answer.take().expect("all in"))
        .collect()
}

#[test]
fn hundreds_of_requests_in_flight_complete_in_any_order() {
    let image = Image::random("flight", 300 * 512, 4);
    let expected = image.bytes();
    let test = boot("", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let disk = block_of(&context).disk(&context, "vblk0").expect("vblk0");
    let sectors = read_all_at_once(&context, &disk, 300);
    for (number, sector) in sectors.iter().enumerate() {
        assert_same(
            sector,
            &expected[number * 512..number * 512 + 512],
            "a sector",
        );
    }
    let stats = disk.stats();
    assert_eq!(
        stats.peak_in_flight,
        hypercall_posix::block::QUEUE_DEPTH as u64
    );
    assert!(stats.queued >= 300 - 64, "{stats:?}");
}

#[test]
fn read_only_disks_and_malformed_requests_are_refused() {
    let image = Image::random("readonly", 64 * 1024, 5);
    let test = boot("", &[image.spec(",ro")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 2048).expect("vblk0");
    assert!(volume.is_read_only());
    let block = vec![0; 2048];
    assert_eq!(volume.write(&context, 0, &block), Err(BlockError::ReadOnly));
    assert_eq!(volume.sync(&context), Ok(()), "nothing to write, no flush");
    let mut small = vec![0; 1024];
    assert_eq!(
        volume.read(&context, 0, &mut small),
        Err(BlockError::Invalid)
    );
    let mut block = vec![0; 2048];
    assert_eq!(
        volume.read(&context, 32, &mut block),
        Err(BlockError::OutOfRange)
    );
    for size in [0, 256, 3000, 128 * 1024] {
        let opened = Volume::open(&context, "vblk0", size).map(|_| ());
        assert_eq!(opened, Err(BlockError::Invalid), "block size {size}");
    }
    let missing = Volume::open(&context, "vblk1", 4096).map(|_| ());
    assert_eq!(missing, Err(BlockError::NoDevice));
    let disk = volume.disk().clone();
    let write = disk.transfer(&context, Operation::Write, 0, vec![0; 512]);
    assert_eq!(write, Err(BlockError::ReadOnly));
    let ragged = disk.transfer(&context, Operation::Read, 0, vec![0; 100]);
    assert_eq!(ragged, Err(BlockError::Invalid));
    let past = disk.transfer(&context, Operation::Read, 127, vec![0; 1024]);
    assert_eq!(past, Err(BlockError::OutOfRange));
}

#[test]
fn a_new_block_size_sees_what_the_old_one_wrote() {
    let image = Image::with("resize", &[0; 64 * 1024]);
    let test = boot("", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let small = Volume::open(&context, "vblk0", 1024).expect("vblk0");
    small.write(&context, 5, &[7; 1024]).expect("write");
    let large = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    let mut block = vec![0; 4096];
    large.read(&context, 1, &mut block).expect("read");
    assert_same(&block[1024..2048], &[7; 1024], "what was written");
    assert_same(&block[..1024], &[0; 1024], "what was not");
}

#[test]
fn empty_and_missing_files_are_not_attached_and_the_rest_are_named_in_order() {
    let empty = Image::with("empty", &[]);
    let good = Image::with("good", &[1; 4096]);
    let missing = "/nonexistent/anykernel-disk".to_owned();
    let test = boot("", &[empty.spec(""), missing, good.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let disks = block_of(&context).disks(&context);
    let names: Vec<&str> = disks.iter().map(|disk| disk.name()).collect();
    assert_eq!(names, ["vblk0"]);
    assert_eq!(disks[0].geometry().sectors, 8);
    let log = test.console.text();
    assert!(log.contains("no usable disk"), "{log}");
    assert!(log.contains("vblk0: 8 sectors of 512 bytes"), "{log}");
}
