//! Requests of several segments through the real driver: one chain per
//! request (indirect descriptors) when the device offers SEG_MAX and
//! indirect descriptors, a buffer joined by the block layer when not.

use super::*;

/// Blocks of 1 KiB written, synced, forgotten and read back in order,
/// the sectors of block `failing` (if any) failing on the way back;
/// the most buffers one request lent the device.
fn sequential(setup: Setup, failing: Option<u64>) -> usize {
    let harness = Harness::new(setup);
    let context = harness.context();
    let volume = Volume::open(&context, "vblk0", 1024).expect("vblk0");
    for block in 0..64 {
        volume
            .write(&context, block, &pattern(block))
            .expect("write");
    }
    volume.sync(&context).expect("sync");
    volume.forget(&context).expect("forgotten");
    if let Some(block) = failing {
        harness.device.lock().device.failing = block * 2..block * 2 + 2;
    }
    let mut bytes = vec![0; 1024];
    for block in 0..64 {
        let result = volume.read(&context, block, &mut bytes);
        if Some(block) == failing {
            assert_eq!(result, Err(BlockError::Io), "block {block}");
            continue;
        }
        assert_eq!(result, Ok(()), "block {block}");
        assert!(bytes == pattern(block), "block {block}");
    }
    harness.device.lock().device.longest_chain
}

fn offering(indirect: bool, seg_max: Option<u32>) -> Setup {
    Setup {
        indirect,
        seg_max,
        ..Setup::default()
    }
}

#[test]
fn runs_go_as_one_chain_of_many_segments() {
    let longest = sequential(offering(true, Some(126)), None);
    assert!(longest > 3, "a header, segments and a status: {longest}");
}

#[test]
fn a_failing_sector_fails_only_its_block_of_a_run() {
    let longest = sequential(offering(true, Some(126)), Some(10));
    assert!(longest > 3, "{longest}");
}

#[test]
fn one_segment_without_seg_max_and_indirect_descriptors() {
    for (indirect, seg_max) in [(false, None), (true, None), (false, Some(126))] {
        let longest = sequential(offering(indirect, seg_max), None);
        assert_eq!(longest, 3, "indirect {indirect}, SEG_MAX {seg_max:?}");
    }
}

#[test]
fn a_device_taking_few_segments_gets_longer_runs_joined() {
    let longest = sequential(offering(true, Some(2)), Some(20));
    assert!(longest <= 4, "at most two segments: {longest}");
}
