//! Framing: any split of the input gives the same replies; buffers stay
//! bounded; pipelining and back-pressure.

use std::string::String;
use std::vec::Vec;
use std::{format, vec};

use super::{NOW, Random, feed, small_store, store};
use crate::session::framing::{LINE_LIMIT, MULTI_GET_LINE_LIMIT};
use crate::{Session, Status, Store};

/// A random conversation: valid commands, near misses and noise. (Not
/// `stats`: its `bytes_read` depends on how much has arrived.)
fn script(random: &mut Random) -> Vec<u8> {
    let mut script = Vec::new();
    for _ in 0..random.below(40) {
        let key = format!("k{}", random.below(6));
        let line = match random.below(12) {
            0 => format!("get {key} k1 k2\r\n"),
            1 => format!("gets {key}\r\n"),
            2 | 3 => {
                let length = random.below(40);
                let value = "v".repeat(length);
                let command = random.pick(&["set", "add", "append", "prepend", "replace"]);
                format!(
                    "{command} {key} {} 0 {length}\r\n{value}\r\n",
                    random.below(9)
                )
            }
            4 => format!("set {key} 0 0 50\r\n{}\r\n", "x".repeat(50)),
            5 => format!("incr {key} {}\r\ndecr {key} 3\r\n", random.below(1000)),
            6 => format!("delete {key}\r\ntouch {key} 5\r\n"),
            7 => format!("set {key} 0 0 2\r\nabc\r\n"),
            8 => String::from("version\r\nverbosity 1\r\n"),
            9 => format!("cas {key} 0 0 1 {}\r\nz\n", random.below(20)),
            10 => format!("set {key} 0 0 3 noreply\r\nabc\r\nbogus line\r\n"),
            _ => {
                let length = random.below(12);
                String::from_utf8_lossy(&random.bytes(length)).into_owned()
            }
        };
        script.extend_from_slice(line.as_bytes());
    }
    script
}

/// The replies and final statistics of feeding `input` in `pieces`.
fn outcome(input: &[u8], pieces: &[usize]) -> (Vec<u8>, Store) {
    let mut store = small_store(8 << 10, 40);
    let mut session = Session::new();
    let mut replies = Vec::new();
    let mut rest = input;
    for &length in pieces.iter().chain(core::iter::once(&usize::MAX)) {
        let (now, later) = rest.split_at(length.min(rest.len()));
        replies.extend(feed(&mut session, &mut store, now, NOW));
        rest = later;
    }
    (replies, store)
}

#[test]
fn every_split_gives_the_same_replies() {
    let mut random = Random::new(0x6b76);
    for _ in 0..300 {
        let input = script(&mut random);
        let (whole, whole_store) = outcome(&input, &[]);
        let mut splits = vec![1; input.len()];
        for _ in 0..3 {
            let (replies, store) = outcome(&input, &splits);
            assert_eq!(
                String::from_utf8_lossy(&replies),
                String::from_utf8_lossy(&whole)
            );
            assert_eq!(store.counters(), whole_store.counters());
            store.check_invariants();
            splits = (0..input.len()).map(|_| 1 + random.below(64)).collect();
        }
    }
}

#[test]
fn pipelined_requests_in_one_read() {
    let mut store = store();
    let requests = "set k 0 0 1\r\n1\r\nincr k 1\r\n".repeat(500);
    let replies = super::talk(&mut store, &requests);
    assert_eq!(replies.matches("STORED\r\n").count(), 500);
    assert_eq!(replies.matches("2\r\n").count(), 500);
}

#[test]
fn a_value_may_arrive_in_pieces_and_a_bare_newline_ends_a_line() {
    let mut store = store();
    let mut session = Session::new();
    assert!(feed(&mut session, &mut store, b"set k 0 0 10\n01234", NOW).is_empty());
    assert!(feed(&mut session, &mut store, b"56789\r", NOW).is_empty());
    assert_eq!(
        feed(&mut session, &mut store, b"\nget k\n", NOW),
        b"STORED\r\nVALUE k 0 10\r\n0123456789\r\nEND\r\n"
    );
}

#[test]
fn a_line_too_long_closes_with_or_without_its_end() {
    for tail in ["", "\r\n"] {
        let mut store = store();
        let mut session = Session::new();
        let line = format!("set {}{tail}", "k".repeat(LINE_LIMIT));
        let replies = feed(&mut session, &mut store, line.as_bytes(), NOW);
        assert_eq!(replies, b"CLIENT_ERROR line too long\r\n");
        assert_eq!(session.status(), Status::Close);
        assert_eq!(
            session.input(b"version\r\n", &mut store, NOW),
            Status::Close
        );
        assert_eq!(session.buffered_input(), 0);
    }
}

#[test]
fn a_get_line_may_be_long() {
    let mut store = store();
    let keys = vec!["key"; 4000].join(" ");
    let replies = super::talk(&mut store, &format!("get {keys}\r\nversion\r\n"));
    assert_eq!(replies, "END\r\nVERSION 1.6.0-anykernel\r\n");
    let keys = "k ".repeat(MULTI_GET_LINE_LIMIT / 2);
    let replies = super::talk(&mut store, &format!("get {keys}\r\n"));
    assert_eq!(replies, "CLIENT_ERROR line too long\r\n");
}

#[test]
fn a_refused_value_is_dropped_as_it_arrives() {
    let mut store = small_store(1 << 20, 1000);
    let mut session = Session::new();
    let replies = feed(&mut session, &mut store, b"set k 0 0 100000\r\n", NOW);
    assert_eq!(replies, b"SERVER_ERROR object too large for cache\r\n");
    for _ in 0..100 {
        feed(&mut session, &mut store, &[b'x'; 1000], NOW);
        assert_eq!(session.buffered_input(), 0);
    }
    let replies = feed(&mut session, &mut store, b"\r\nversion\r\n", NOW);
    assert_eq!(replies, b"VERSION 1.6.0-anykernel\r\n");
}

#[test]
fn replies_that_pile_up_pause_the_session() {
    let mut store = store();
    let mut session = Session::new();
    let value = vec![b'v'; 100_000];
    let mut request = format!("set big 0 0 {}\r\n", value.len()).into_bytes();
    request.extend_from_slice(&value);
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(&b"get big\r\n".repeat(20));
    session.input(&request, &mut store, NOW);
    assert!(!session.wants_input(), "stalled with requests left");
    assert!(session.pending_output() < 400_000);
    let mut total = session.take_output().len();
    while !session.wants_input() {
        session.input(&[], &mut store, NOW);
        total += session.take_output().len();
    }
    assert_eq!(
        total,
        "STORED\r\n".len() + 20 * (100_000 + "VALUE big 0 100000\r\n\r\nEND\r\n".len())
    );
}

#[test]
fn output_may_be_drained_a_byte_at_a_time() {
    let mut store = store();
    let mut session = Session::new();
    session.input(b"set k 0 0 600\r\n", &mut store, NOW);
    session.input(&[b'a'; 600], &mut store, NOW);
    session.input(b"\r\nget k k\r\n", &mut store, NOW);
    let mut sent = Vec::new();
    while let Some(&byte) = session.output().first() {
        sent.push(byte);
        session.consume_output(1);
    }
    assert_eq!(sent.len(), 8 + 2 * (15 + 600 + 2) + 5);
    assert_eq!(session.pending_output(), 0);
}

#[test]
fn a_client_that_vanishes_mid_value_changes_nothing() {
    let mut store = store();
    super::talk(&mut store, "set k 0 0 3\r\nold\r\n");
    let mut session = Session::new();
    feed(&mut session, &mut store, b"set k 0 0 10\r\n01234", NOW);
    drop(session);
    assert_eq!(
        super::talk(&mut store, "get k\r\n"),
        "VALUE k 0 3\r\nold\r\nEND\r\n"
    );
    store.check_invariants();
}
