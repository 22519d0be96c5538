//! The lookup's state machine on a simulated clock: the schedule of
//! retries and failover, failures, TC to TCP, and answers it must ignore.

use core::net::{IpAddr, Ipv4Addr};
use std::vec::Vec;

use super::{Reply, TO_QUESTION};
use crate::message::{Header, rcode};
use crate::response::{Failure, Resolution};
use crate::{
    Family, Lookup, LookupConfig, LookupError, MINIMUM_BUFFER, Name, Outcome, Transmit, Transport,
};

const SECOND: u64 = 1_000_000_000;
const START: u64 = 1_000 * SECOND;
const FIRST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 3));
const SECOND_SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 4));

/// A lookup, its clock and the queries it sent.
struct Run {
    lookup: Lookup,
    now: u64,
    sent: Vec<(Transmit, Vec<u8>, u64)>,
}

impl Run {
    fn new(families: &[Family], servers: &[IpAddr]) -> Run {
        let name = Name::from_text("www.example.org").unwrap();
        let lookup = Lookup::new(
            name,
            families,
            servers.iter().copied(),
            LookupConfig::default(),
            7,
        );
        let mut run = Run {
            lookup,
            now: START,
            sent: Vec::new(),
        };
        run.drain();
        run
    }

    /// Takes every query due now.
    fn drain(&mut self) {
        let mut buffer = [0u8; MINIMUM_BUFFER];
        while let Some(transmit) = self.lookup.poll_transmit(self.now, &mut buffer) {
            let query = buffer[..transmit.length].to_vec();
            self.sent.push((transmit, query, self.now));
            assert!(self.sent.len() < 100, "a lookup that never ends");
        }
    }

    /// The last query sent for `family`.
    fn last(&self, family: Family) -> (Transmit, Vec<u8>) {
        let (transmit, query, _) = self
            .sent
            .iter()
            .rev()
            .find(|(t, _, _)| t.family == family)
            .expect("a query for the family");
        (*transmit, query.clone())
    }

    /// Moves the clock to the next deadline and runs the timer there.
    fn timer(&mut self) {
        let deadline = self.lookup.next_deadline().expect("something waits");
        assert!(deadline > self.now, "deadline in the past");
        self.now = deadline;
        self.lookup.on_timer(self.now);
        self.drain();
        let next = self.lookup.next_deadline();
        assert!(
            next.is_none_or(|next| next > self.now),
            "after the timer: {next:?}"
        );
    }

    /// Hands `message` to the lookup as if it came on `transmit`'s socket.
    fn answer(&mut self, transmit: &Transmit, message: &[u8]) -> bool {
        let taken = self.lookup.receive(
            transmit.question,
            transmit.server,
            transmit.transport,
            message,
        );
        self.drain();
        taken
    }

    fn answered_with(&self, family: Family) -> Resolution {
        match self.lookup.outcome(family) {
            Some(Outcome::Answered(answer)) => answer.resolution,
            other => panic!("{family:?} not answered: {other:?}"),
        }
    }
}

fn a_reply(query: &[u8], last: u8) -> Vec<u8> {
    Reply::to(query)
        .a(&TO_QUESTION, 60, [192, 0, 2, last])
        .build()
}

fn id(query: &[u8]) -> u16 {
    Header::parse(query).unwrap().id
}

#[test]
fn both_questions_go_out_at_once_and_their_answers_finish_the_lookup() {
    let mut run = Run::new(&[Family::V4, Family::V6], &[FIRST]);
    assert_eq!(run.sent.len(), 2);
    let (four, four_query) = run.last(Family::V4);
    let (six, six_query) = run.last(Family::V6);
    assert_eq!((four.server, four.transport), (FIRST, Transport::Udp));
    assert_ne!(four.question, six.question);
    assert!(run.answer(&four, &a_reply(&four_query, 1)));
    assert!(!run.lookup.is_finished());
    assert!(run.answer(
        &six,
        &Reply::to(&six_query).soa(&TO_QUESTION, 60, 60).build()
    ));
    assert!(run.lookup.is_finished());
    assert!(matches!(
        run.answered_with(Family::V4),
        Resolution::Addresses(_)
    ));
    assert_eq!(run.answered_with(Family::V6), Resolution::NoAddresses);
    assert_eq!(run.lookup.next_deadline(), None);
}

/// 1 s, 2 s, 4 s per server, servers in turn, a fresh id each time; then
/// the question has timed out.
#[test]
fn silence_walks_the_servers_in_turn_with_doubling_waits_then_times_out() {
    let mut run = Run::new(&[Family::V4], &[FIRST, SECOND_SERVER]);
    while !run.lookup.is_finished() {
        run.timer();
    }
    let schedule: Vec<(IpAddr, u64)> = run
        .sent
        .iter()
        .map(|(t, _, at)| (t.server, (at - START) / SECOND))
        .collect();
    let expected = [
        (FIRST, 0),
        (SECOND_SERVER, 1),
        (FIRST, 2),
        (SECOND_SERVER, 4),
        (FIRST, 6),
        (SECOND_SERVER, 10),
    ];
    assert_eq!(schedule, expected);
    assert_eq!(run.now - START, 14 * SECOND);
    let ids: std::collections::BTreeSet<u16> = run.sent.iter().map(|(_, q, _)| id(q)).collect();
    assert!(ids.len() >= 5, "fresh ids: {ids:?}");
    assert_eq!(
        run.lookup.outcome(Family::V4),
        Some(Outcome::Failed(LookupError::TimedOut))
    );
    assert_eq!(run.lookup.stats().timeouts, 6);
}

#[test]
fn a_server_failure_or_a_refusal_fails_over_at_once() {
    let mut run = Run::new(&[Family::V4], &[FIRST, SECOND_SERVER]);
    let (transmit, query) = run.last(Family::V4);
    let failure = Reply::to(&query).rcode(rcode::SERVER_FAILURE).build();
    assert!(run.answer(&transmit, &failure));
    let (next, query) = run.last(Family::V4);
    assert_eq!((next.server, run.now), (SECOND_SERVER, START));
    run.lookup.transport_failed(next.question);
    run.drain();
    let (third, query_three) = run.last(Family::V4);
    assert_eq!(third.server, FIRST, "round 1");
    assert_ne!(id(&query), id(&query_three));
    assert!(run.answer(&third, &a_reply(&query_three, 9)));
    assert!(matches!(
        run.answered_with(Family::V4),
        Resolution::Addresses(_)
    ));
}

#[test]
fn when_every_server_fails_the_last_failure_is_the_outcome() {
    let mut run = Run::new(&[Family::V6], &[FIRST]);
    for _ in 0..3 {
        let (transmit, query) = run.last(Family::V6);
        assert!(run.answer(&transmit, &Reply::to(&query).rcode(rcode::REFUSED).build()));
    }
    assert_eq!(
        run.lookup.outcome(Family::V6),
        Some(Outcome::Failed(LookupError::ServerFailure(
            Failure::Refused
        )))
    );
}

#[test]
fn a_truncated_answer_is_asked_again_over_tcp_of_the_same_server() {
    let mut run = Run::new(&[Family::V4], &[FIRST, SECOND_SERVER]);
    let (udp, query) = run.last(Family::V4);
    assert!(run.answer(&udp, &Reply::to(&query).truncated().build()));
    let (tcp, tcp_query) = run.last(Family::V4);
    assert_eq!((tcp.server, tcp.transport), (FIRST, Transport::Tcp));
    assert_ne!(id(&query), id(&tcp_query));
    assert_eq!(run.lookup.next_deadline(), Some(run.now + 5 * SECOND));
    // The late UDP answer to the first query is not the TCP answer.
    assert!(!run.answer(&udp, &a_reply(&query, 1)));
    assert!(run.answer(&tcp, &a_reply(&tcp_query, 2)));
    assert_eq!(run.lookup.stats().truncated, 1);
    assert_eq!(
        (run.lookup.stats().sent_udp, run.lookup.stats().sent_tcp),
        (1, 1)
    );
}

#[test]
fn truncated_again_over_tcp_moves_to_the_next_server_over_udp() {
    let mut run = Run::new(&[Family::V4], &[FIRST, SECOND_SERVER]);
    let (udp, query) = run.last(Family::V4);
    run.answer(&udp, &Reply::to(&query).truncated().build());
    let (tcp, query) = run.last(Family::V4);
    run.answer(&tcp, &Reply::to(&query).truncated().build());
    let (next, _) = run.last(Family::V4);
    assert_eq!(
        (next.server, next.transport),
        (SECOND_SERVER, Transport::Udp)
    );
}

/// RFC 5452: an answer with another id, to another question, from another
/// server or over another transport is ignored, and the real one that
/// follows is taken.
#[test]
fn spoofed_answers_are_ignored_and_the_real_one_still_taken() {
    let mut run = Run::new(&[Family::V4], &[FIRST, SECOND_SERVER]);
    let (transmit, query) = run.last(Family::V4);
    let wrong_id = Reply::to(&query)
        .id(id(&query) ^ 0x0101)
        .a(&TO_QUESTION, 60, [6, 6, 6, 6]);
    assert!(!run.answer(&transmit, &wrong_id.build()));
    let mut other_question = a_reply(&query, 66);
    other_question[14] ^= 0x01; // "www" becomes "wvw"
    assert!(!run.answer(&transmit, &other_question));
    let stranger = Transmit {
        server: SECOND_SERVER,
        ..transmit
    };
    assert!(!run.answer(&stranger, &a_reply(&query, 66)));
    let over_tcp = Transmit {
        transport: Transport::Tcp,
        ..transmit
    };
    assert!(!run.answer(&over_tcp, &a_reply(&query, 66)));
    assert!(!run.answer(&transmit, b"\x00garbage"));
    assert_eq!(run.sent.len(), 1, "nothing ignored costs a step");
    assert!(run.answer(&transmit, &a_reply(&query, 1)));
    let Resolution::Addresses(list) = run.answered_with(Family::V4) else {
        panic!("addresses");
    };
    assert_eq!(list.as_slice(), [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
    let stats = run.lookup.stats();
    assert_eq!((stats.rejected, stats.unexpected), (3, 2));
    assert!(!run.answer(&transmit, &a_reply(&query, 1)), "done");
}

#[test]
fn without_servers_the_lookup_is_over_before_it_starts() {
    let run = Run::new(&[Family::V4, Family::V6, Family::V4], &[]);
    assert!(run.sent.is_empty());
    assert!(run.lookup.is_finished());
    for family in [Family::V4, Family::V6] {
        assert_eq!(
            run.lookup.outcome(family),
            Some(Outcome::Failed(LookupError::NoServers))
        );
    }
    assert_eq!(run.lookup.next_deadline(), None);
}

#[test]
fn a_buffer_too_small_ends_the_question_instead_of_hanging() {
    let name = Name::from_text("www.example.org").unwrap();
    let mut lookup = Lookup::new(name, &[Family::V4], [FIRST], LookupConfig::default(), 1);
    let mut tiny = [0u8; 16];
    assert!(lookup.poll_transmit(START, &mut tiny).is_none());
    assert!(lookup.is_finished());
    assert_eq!(
        lookup.outcome(Family::V4),
        Some(Outcome::Failed(LookupError::BufferTooSmall))
    );
}

#[test]
fn when_no_server_can_be_reached_the_last_step_says_so() {
    let mut run = Run::new(&[Family::V4], &[FIRST, SECOND_SERVER]);
    for _ in 0..6 {
        let (transmit, _) = run.last(Family::V4);
        run.lookup.transport_failed(transmit.question);
        run.drain();
    }
    assert_eq!(run.sent.len(), 6, "every step tried");
    assert_eq!(
        run.lookup.outcome(Family::V4),
        Some(Outcome::Failed(LookupError::Unreachable))
    );
    assert_eq!(run.now, START, "no step waited");
}
