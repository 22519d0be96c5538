//! Failing devices give EIO, never a panic, and lose nothing: a failed
//! write-back stays dirty and a later sync after the repair writes it;
//! a failed flush fails the sync; memory pressure takes clean buffers
//! back and has the syncer write the dirty ones.

mod common;

use std::sync::Arc;

use base::Context;
use block::{Block, BlockError, Volume};
use common::fake::FakeDisk;
use common::{Image, account_bytes, assert_same, boot};

/// Attaches `fake` as the next disk and opens it with 1 KiB blocks.
fn attach(context: &Context<'_>, fake: &Arc<FakeDisk>) -> Volume {
    let block = Block::of(context).expect("linked");
    let disk = block
        .attach(context, "fake".into(), fake.clone())
        .expect("attached");
    Volume::on(context, block, disk, 1024).expect("a volume")
}

#[test]
fn a_failing_device_gives_eio_and_a_failed_write_back_is_kept_until_it_succeeds() {
    let test = boot("", &[]);
    let kernel = test.kernel.clone();
    let context = kernel.enter().expect("enter");
    let fake = FakeDisk::new(256, 4);
    let device = fake.start(&kernel);
    let volume = attach(&context, &fake);
    fake.state.lock(&context).failing = 8..10; // block 4
    let mut block = vec![0; 1024];
    assert_eq!(volume.read(&context, 4, &mut block), Err(BlockError::Io));
    assert_eq!(
        volume.read(&context, 4, &mut block),
        Err(BlockError::Io),
        "not cached"
    );
    assert_eq!(volume.read(&context, 5, &mut block), Ok(()));
    volume.write(&context, 4, &[4; 1024]).expect("cached");
    volume.write(&context, 6, &[6; 1024]).expect("cached");
    assert_eq!(volume.sync(&context), Err(BlockError::Io));
    let stats = Block::of(&context).expect("linked").cache_stats(&context);
    assert_eq!(
        (stats.dirty_bytes, stats.write_errors),
        (1024, 1),
        "{stats:?}"
    );
    assert_eq!(
        fake.state.lock(&context).flushes,
        0,
        "no flush after a failed write"
    );
    fake.state.lock(&context).failing = 0..0;
    volume.sync(&context).expect("repaired");
    {
        let state = fake.state.lock(&context);
        assert_same(&state.bytes[4096..5120], &[4; 1024], "block 4");
        assert_same(&state.bytes[6144..7168], &[6; 1024], "block 6");
        assert_eq!(state.flushes, 1);
    }
    fake.stop(&context, device);
}

#[test]
fn a_failed_flush_fails_the_sync_after_the_writes_reached_the_device() {
    let test = boot("", &[]);
    let kernel = test.kernel.clone();
    let context = kernel.enter().expect("enter");
    let fake = FakeDisk::new(64, 2);
    let device = fake.start(&kernel);
    let volume = attach(&context, &fake);
    // Every other block: consecutive ones would go as one request.
    for number in 0..8 {
        volume
            .write(&context, number * 2, &[number as u8; 1024])
            .expect("cached");
    }
    fake.state.lock(&context).fail_flush = true;
    assert_eq!(volume.sync(&context), Err(BlockError::Io));
    {
        let state = fake.state.lock(&context);
        assert_eq!(state.writes.len(), 8, "every write went before the flush");
        assert!(state.peak_batch >= 2, "writes were in flight together");
    }
    fake.state.lock(&context).fail_flush = false;
    volume.sync(&context).expect("flushed");
    fake.stop(&context, device);
}

#[test]
fn host_sectors_that_fail_give_eio_through_the_whole_path() {
    let image = Image::with("failing", &[9; 64 * 1024]);
    let test = boot("", &[image.spec(",fail=16-17")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 1024).expect("vblk0");
    let mut block = vec![0; 1024];
    assert_eq!(volume.read(&context, 8, &mut block), Err(BlockError::Io));
    assert_eq!(volume.read(&context, 7, &mut block), Ok(()));
    assert_same(&block, &[9; 1024], "block 7");
    volume.write(&context, 8, &[1; 1024]).expect("cached");
    assert_eq!(volume.sync(&context), Err(BlockError::Io));
    let disk = volume.disk().stats();
    assert!(disk.errors >= 2, "{disk:?}");
}

#[test]
fn memory_pressure_takes_clean_buffers_back_and_leaves_dirty_ones() {
    let image = Image::random("pressure", 1024 * 1024, 6);
    let test = boot("", &[image.spec("")]);
    let context = test.kernel.enter().expect("enter");
    let volume = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    let mut block = vec![0; 4096];
    // Backwards: no read-ahead still in flight when the pass runs.
    for number in (0..64).rev() {
        volume.read(&context, number, &mut block).expect("read");
    }
    volume.write(&context, 100, &[1; 4096]).expect("cached");
    let charged = account_bytes(&test.kernel, "bcache");
    assert!(charged >= 65 * 4096, "{charged}");
    assert!(
        test.kernel.memory().wait_for_reclaim(&context),
        "a pass ran"
    );
    let block_layer = Block::of(&context).expect("linked");
    let stats = block_layer.cache_stats(&context);
    assert!(stats.reclaimed_bytes >= 64 * 4096, "{stats:?}");
    let left = account_bytes(&test.kernel, "bcache");
    assert!(left < charged / 4, "{left} of {charged} left");
    let deadline = context.now_ns() + 10_000_000_000;
    let written = |stats: block::CacheStats| stats.dirty_bytes == 0 && stats.writebacks == 1;
    while !written(block_layer.cache_stats(&context)) {
        assert!(
            context.now_ns() < deadline,
            "the syncer was woken to write back"
        );
        context.yield_now();
    }
    assert_same(
        &image.bytes()[100 * 4096..101 * 4096],
        &[1; 4096],
        "the file",
    );
    volume.read(&context, 100, &mut block).expect("still there");
    assert_same(&block, &[1; 4096], "block 100");
}
