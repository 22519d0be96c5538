//! The shared reassembler with simulated time: completion, overlap and
//! duplicates, every bound, timeouts, reclaim and its memory charges.

use base::memory::ReclaimLevel;

use super::*;
use crate::tests::link::pool;

const SECOND: u64 = 1_000_000_000;
const LIMITS: Limits = Limits {
    timeout_ns: 60 * SECOND,
    max_payload: 65_535,
};

type Test = Reassembler<u32, char>;

fn reassembler(pool: &PacketPool) -> (Test, Budget) {
    let budget = Budget::new(pool.memory().account("reassembly-test"));
    (Test::with_limits(budget.clone(), LIMITS), budget)
}

fn payload(pool: &PacketPool, byte: u8, length: usize) -> PacketBuffer {
    let mut buffer = pool.allocate().unwrap();
    buffer.append(length).unwrap().fill(byte);
    buffer
}

fn piece(key: u32, offset: usize, more: bool, header: char) -> Piece<u32, char> {
    Piece {
        key,
        offset,
        more,
        header,
    }
}

#[test]
fn fragments_in_any_order_make_the_datagram_with_the_first_header() {
    let pool = pool();
    let (mut fragments, budget) = reassembler(&pool);
    let last = fragments.add(0, piece(1, 16, false, 'c'), payload(&pool, 3, 5), &pool);
    assert!(last.is_none());
    let first = fragments.add(0, piece(1, 0, true, 'a'), payload(&pool, 1, 8), &pool);
    assert!(first.is_none());
    assert!(budget.bytes() > 0, "records are charged");
    let (header, whole) = fragments
        .add(0, piece(1, 8, true, 'b'), payload(&pool, 2, 8), &pool)
        .expect("complete");
    assert_eq!(header, 'a');
    let mut expected = std::vec![1u8; 8];
    expected.extend([2u8; 8]);
    expected.extend([3u8; 5]);
    assert_eq!(whole.data(), &expected[..]);
    assert_eq!((fragments.held(), fragments.datagrams()), (0, 0));
    assert_eq!(budget.bytes(), 0, "every charge came back");
    assert_eq!(fragments.stats.reassembled, 1);
}

#[test]
fn duplicates_drop_alone_and_overlaps_drop_the_datagram() {
    let pool = pool();
    let (mut fragments, _) = reassembler(&pool);
    fragments.add(0, piece(1, 0, true, 'a'), payload(&pool, 1, 16), &pool);
    fragments.add(0, piece(1, 0, true, 'a'), payload(&pool, 1, 16), &pool);
    assert_eq!(fragments.held(), 1, "an exact duplicate is dropped alone");
    fragments.add(0, piece(1, 8, true, 'x'), payload(&pool, 9, 16), &pool);
    assert_eq!(fragments.datagrams(), 0, "an overlap discards the datagram");
    assert_eq!(fragments.stats.dropped, 1);
    fragments.add(0, piece(2, 0, true, 'a'), payload(&pool, 1, 16), &pool);
    fragments.add(0, piece(2, 32, false, 'a'), payload(&pool, 1, 8), &pool);
    fragments.add(0, piece(2, 48, false, 'a'), payload(&pool, 1, 8), &pool);
    assert_eq!(fragments.datagrams(), 0, "a second last fragment conflicts");
}

#[test]
fn bad_sizes_are_refused_before_anything_is_held() {
    let pool = pool();
    let (mut fragments, budget) = reassembler(&pool);
    fragments.add(0, piece(1, 0, true, 'a'), payload(&pool, 1, 12), &pool);
    fragments.add(
        0,
        piece(1, 65_528, false, 'a'),
        payload(&pool, 1, 16),
        &pool,
    );
    assert_eq!(fragments.held(), 0);
    assert_eq!(fragments.stats.dropped, 2);
    assert_eq!(budget.bytes(), 0);
}

#[test]
fn the_datagram_bound_evicts_the_oldest() {
    let pool = pool();
    let (mut fragments, _) = reassembler(&pool);
    for key in 0..MAX_DATAGRAMS as u32 + 4 {
        fragments.add(
            u64::from(key),
            piece(key, 0, true, 'a'),
            payload(&pool, 1, 8),
            &pool,
        );
        assert!(fragments.datagrams() <= MAX_DATAGRAMS);
    }
    assert_eq!(fragments.datagrams(), MAX_DATAGRAMS);
    assert_eq!(fragments.stats.dropped, 4);
    // The newest is still there: completing it works.
    let done = fragments.add(0, piece(19, 8, false, 'a'), payload(&pool, 2, 8), &pool);
    assert!(done.is_some(), "the newest datagram survived the flood");
}

#[test]
fn the_fragment_bound_holds_against_a_flood() {
    let pool = pool();
    let (mut fragments, _) = reassembler(&pool);
    for index in 0..MAX_FRAGMENTS * 2 {
        let key = (index % 3) as u32;
        let offset = (index / 3) * 16;
        fragments.add(
            0,
            piece(key, offset, true, 'a'),
            payload(&pool, 1, 8),
            &pool,
        );
        assert!(fragments.held() <= MAX_FRAGMENTS, "at {index}");
    }
    assert!(fragments.stats.dropped > 0, "the oldest made room");
}

#[test]
fn timeouts_and_reclaim_give_everything_back() {
    let pool = pool();
    let (mut fragments, budget) = reassembler(&pool);
    fragments.add(0, piece(1, 0, true, 'a'), payload(&pool, 1, 8), &pool);
    fragments.add(
        SECOND / 2,
        piece(2, 0, true, 'a'),
        payload(&pool, 1, 8),
        &pool,
    );
    assert_eq!(fragments.next_deadline(), Some(LIMITS.timeout_ns));
    fragments.on_timer(LIMITS.timeout_ns - 1);
    assert_eq!(fragments.datagrams(), 2);
    fragments.on_timer(LIMITS.timeout_ns);
    assert_eq!(fragments.datagrams(), 1);
    assert!(
        fragments.shrink(SECOND, ReclaimLevel::Idle) == 0,
        "too young"
    );
    assert!(fragments.shrink(SECOND, ReclaimLevel::Urgent) > 0);
    assert_eq!((fragments.datagrams(), fragments.held()), (0, 0));
    assert_eq!(budget.bytes(), 0);
    fragments.add(0, piece(3, 0, true, 'a'), payload(&pool, 1, 8), &pool);
    drop(fragments);
    assert_eq!(budget.bytes(), 0, "dropping the reassembler releases it");
}
