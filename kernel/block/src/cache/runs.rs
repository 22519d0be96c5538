//! Runs: consecutive blocks of one disk sent to it as one request.
//!
//! Every request costs the device (and a virtual machine's host) about
//! the same whatever its size, so reads (a miss with its read-ahead) and
//! write-backs group their blocks into runs of consecutive blocks of one
//! disk and block size, up to [`MAX_RUN_BYTES`], and send each run as one
//! request with one segment per block: a write run lends its buffers
//! themselves (they come back untouched when it ends), a read run the
//! buffers its blocks will be kept in. Nothing is copied, unless the
//! driver takes fewer segments (`segments.rs` joins them then).

use alloc::vec::Vec;

use super::table::Key;

/// The most bytes one request of a run carries (Linux's default
/// `max_sectors_kb` for virtio-blk is larger; QEMU takes any size).
pub const MAX_RUN_BYTES: usize = 256 * 1024;

/// `items` sorted by key and cut into runs of consecutive blocks of one
/// disk and block size, none over [`MAX_RUN_BYTES`] (a single block may
/// be, alone).
pub(super) fn runs<T>(mut items: Vec<(Key, T)>) -> Vec<Vec<(Key, T)>> {
    items.sort_unstable_by_key(|(key, _)| *key);
    let mut runs: Vec<Vec<(Key, T)>> = Vec::new();
    for (key, item) in items {
        match runs.last_mut() {
            Some(run) if continues(run, &key) => run.push((key, item)),
            _ => runs.push(alloc::vec![(key, item)]),
        }
    }
    runs
}

/// Whether `key` extends `run` and still fits.
fn continues<T>(run: &[(Key, T)], key: &Key) -> bool {
    let Some((last, _)) = run.last() else {
        return false;
    };
    let same = last.disk == key.disk && last.block_size == key.block_size;
    let next = last.block.checked_add(1) == Some(key.block);
    same && next && (run.len() + 1) * key.size() <= MAX_RUN_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(disk: u32, block_size: u32, block: u64) -> Key {
        Key {
            disk,
            block_size,
            block,
        }
    }

    fn blocks(runs: &[Vec<(Key, ())>]) -> Vec<Vec<u64>> {
        let run = |run: &Vec<(Key, ())>| run.iter().map(|(key, _)| key.block).collect();
        runs.iter().map(run).collect()
    }

    #[test]
    fn consecutive_blocks_of_one_disk_and_size_make_a_run() {
        let items = [7, 3, 4, 5, 9, 8].map(|block| (key(0, 4096, block), ()));
        let runs = runs(items.to_vec());
        assert_eq!(blocks(&runs), [alloc::vec![3, 4, 5], alloc::vec![7, 8, 9]]);
        let mixed = alloc::vec![
            (key(0, 4096, 1), ()),
            (key(1, 4096, 2), ()),
            (key(0, 1024, 2), ()),
            (key(0, 4096, 2), ()),
        ];
        assert_eq!(runs_of(mixed), 3);
    }

    fn runs_of(items: Vec<(Key, ())>) -> usize {
        runs(items).len()
    }

    #[test]
    fn runs_stop_at_the_largest_request() {
        let per_run = (MAX_RUN_BYTES / 4096) as u64;
        let items = (0..per_run * 2 + 1).map(|block| (key(0, 4096, block), ()));
        let runs = runs(items.collect());
        let lengths: Vec<usize> = runs.iter().map(Vec::len).collect();
        assert_eq!(lengths, [per_run as usize, per_run as usize, 1]);
        let huge = alloc::vec![(key(0, 1 << 20, 0), ())];
        assert_eq!(runs_of(huge), 1);
    }
}
