//! Fuzz targets for the DNS resolver: the response parser and names, and
//! the lookup driven by a server (or an attacker) whose answers the fuzzer
//! writes.
//!
//! Properties: parsing never panics or allocates, whatever the bytes; a
//! name read from a message fits 255 bytes and ends inside it; an answer
//! with another id or question is never taken; addresses are of the asked
//! family, at most eight, with a TTL. The lookup never panics or
//! allocates, sends no more queries than its schedule allows, is never
//! left with a deadline in the past after its timer ran, and always ends
//! when time runs on.

use std::net::{IpAddr, Ipv4Addr};

use bolero::{TypeGenerator, check};
use dns::message::{HEADER_LEN, Question, write_query};
use dns::{
    Error, Family, Lookup, LookupConfig, MAX_ADDRESSES, MINIMUM_BUFFER, Name, Resolution, Response,
    Transmit, Transport, parse_response,
};
use fuzz::{CountingAllocator, measure};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const ID: u16 = 0x1234;
const SECOND_NS: u64 = 1_000_000_000;

fn name() -> Name {
    Name::from_text("www.example.org").expect("a valid name")
}

/// Parses `message` for both families; checks what comes out.
fn parse_both(message: &[u8], id: u16) -> [Result<Response, Error>; 2] {
    [Family::V4, Family::V6].map(|family| {
        let (result, usage) = measure(|| parse_response(message, id, &name(), family));
        assert_eq!(usage.allocations, 0, "the parser allocated");
        if let Ok(Response::Answer(answer)) = result
            && let Resolution::Addresses(list) = answer.resolution
        {
            let addresses = list.as_slice();
            assert!(!addresses.is_empty() && addresses.len() <= MAX_ADDRESSES);
            assert!(
                addresses
                    .iter()
                    .all(|a| a.is_ipv4() == (family == Family::V4))
            );
            assert!(answer.ttl.is_some(), "a positive answer has a TTL");
        }
        result
    })
}

#[test]
fn any_bytes_are_parsed_or_rejected_without_panicking_or_allocating() {
    check!().for_each(|bytes: &[u8]| {
        let _ = parse_both(bytes, ID);
        for offset in 0..bytes.len().min(32) {
            let (read, usage) = measure(|| Name::read(bytes, offset));
            assert_eq!(usage.allocations, 0);
            if let Ok((name, end)) = read {
                assert!(name.wire().len() <= dns::MAX_NAME);
                assert!(end <= bytes.len() && end > offset);
            }
        }
    });
}

/// A record the fuzzer writes: mostly about the question's name (a
/// pointer to it), of a type the parser knows, with data of about the
/// right size, so that answers get past the checks.
#[derive(Debug, TypeGenerator)]
struct RecordSpec {
    /// Below 160: a pointer to the question; below 220: `name` as labels;
    /// else the two bytes of `pointer`.
    owner: u8,
    name: Vec<u8>,
    pointer: [u8; 2],
    /// Below 64: A; 128: AAAA; 192: CNAME to a pointer; 224: SOA; else `other`.
    kind: u8,
    other: u16,
    ttl: u32,
    data: Vec<u8>,
}

/// A response to our query for `www.example.org`, as the fuzzer wants it.
#[derive(Debug, TypeGenerator)]
struct Forged {
    family_v6: bool,
    /// Below 160: a plain answer's flags (QR, RD, RA, NOERROR); below 200:
    /// those with rcode `flags % 16`; else `flags` ored after QR and RA.
    flags_knob: u8,
    flags: u16,
    records: Vec<RecordSpec>,
    /// Records claimed per section, added to the real count.
    extra_counts: [u8; 3],
    /// Non-zero: xored into the id.
    id_flip: u16,
    /// Change the question's type.
    question_flip: bool,
    tail: Vec<u8>,
}

impl RecordSpec {
    fn write(&self, out: &mut Vec<u8>) {
        match self.owner {
            0..160 => out.extend_from_slice(&[0xc0, HEADER_LEN as u8]),
            160..220 => {
                for label in self.name.chunks(20).take(4) {
                    out.push(label.len() as u8);
                    out.extend_from_slice(label);
                }
                out.push(0);
            }
            _ => out.extend_from_slice(&self.pointer),
        }
        let (kind, data) = match self.kind {
            0..64 => (1, self.sized(4)),
            64..128 => (28, self.sized(16)),
            128..192 => (5, vec![0xc0, HEADER_LEN as u8]),
            192..224 => (6, self.soa()),
            _ => (self.other, self.data.clone()),
        };
        out.extend_from_slice(&u16::to_be_bytes(kind));
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&self.ttl.to_be_bytes());
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(&data);
    }

    /// `data` made `length` bytes long, most of the time.
    fn sized(&self, length: usize) -> Vec<u8> {
        let mut data = self.data.clone();
        if !self.ttl.is_multiple_of(16) {
            data.resize(length, 7);
        }
        data
    }

    fn soa(&self) -> Vec<u8> {
        let mut data = vec![0, 0];
        data.extend_from_slice(&[0; 16]);
        data.extend_from_slice(&self.ttl.to_be_bytes());
        data
    }
}

impl Forged {
    fn family(&self) -> Family {
        if self.family_v6 {
            Family::V6
        } else {
            Family::V4
        }
    }

    fn message(&self) -> Vec<u8> {
        let mut query = [0u8; MINIMUM_BUFFER];
        let length = write_query(&mut query, ID, &name(), self.family(), false).expect("fits");
        let mut message = query[..length].to_vec();
        let flags = match self.flags_knob {
            0..160 => 0x8180,
            160..200 => 0x8180 | (self.flags % 16),
            _ => 0x8080 | self.flags,
        };
        message[2..4].copy_from_slice(&flags.to_be_bytes());
        let records = self.records.iter().take(24);
        let count = records.len() as u16;
        for record in records {
            record.write(&mut message);
        }
        let counts = [count, 0, 0];
        for (section, extra) in self.extra_counts.iter().enumerate() {
            let at = 6 + 2 * section;
            let claimed = counts[section].saturating_add(u16::from(*extra % 4));
            message[at..at + 2].copy_from_slice(&claimed.to_be_bytes());
        }
        message.extend_from_slice(&self.tail[..self.tail.len().min(64)]);
        message[0..2].copy_from_slice(&(ID ^ self.id_flip).to_be_bytes());
        if self.question_flip {
            message[length - 3] ^= 0x80;
        }
        message
    }
}

#[test]
fn forged_answers_are_taken_only_for_our_id_and_question() {
    check!().with_type::<Forged>().for_each(|forged| {
        let message = forged.message();
        let [v4, v6] = parse_both(&message, ID);
        let result = if forged.family_v6 { v6 } else { v4 };
        if forged.id_flip != 0 || forged.question_flip {
            assert!(result.is_err(), "taken: {result:?}");
        }
        let other = if forged.family_v6 { v4 } else { v6 };
        assert!(other.is_err(), "an answer for the other family: {other:?}");
        if let Ok((question, _)) = Question::read(&message, HEADER_LEN) {
            assert_eq!(question.name, name());
        }
    });
}

/// One thing that happens to a lookup.
#[derive(Debug, TypeGenerator)]
struct Step {
    /// Below 120: an answer built from `forged` for the last query; below
    /// 160: `bytes` as they are; below 210: the timer; below 240: time
    /// passes; else the transport of the last query fails.
    action: u8,
    forged: Forged,
    bytes: Vec<u8>,
    milliseconds: u16,
}

/// A lookup, its clock, and the last query of each question.
struct Run {
    lookup: Lookup,
    now: u64,
    last: Vec<(Transmit, Vec<u8>)>,
    sent: usize,
    allocations: usize,
}

impl Run {
    fn call<R>(&mut self, call: impl FnOnce(&mut Lookup, u64) -> R) -> R {
        let now = self.now;
        let (result, usage) = measure(|| call(&mut self.lookup, now));
        self.allocations += usage.allocations;
        result
    }

    fn drain(&mut self) {
        let mut buffer = [0u8; MINIMUM_BUFFER];
        while let Some(transmit) = self.call(|lookup, now| lookup.poll_transmit(now, &mut buffer)) {
            self.sent += 1;
            // Two servers, three rounds, a TCP retry each: 12 per question.
            assert!(self.sent <= 24, "more queries than the schedule allows");
            let query = buffer[..transmit.length].to_vec();
            self.last.retain(|(t, _)| t.question != transmit.question);
            self.last.push((transmit, query));
        }
    }

    fn step(&mut self, step: &Step) {
        let pick = usize::from(step.milliseconds) % self.last.len().max(1);
        let last = self.last.get(pick).cloned();
        match (step.action, last) {
            (0..120, Some((transmit, query))) => {
                let message = answer_to(&query, &step.forged);
                let (question, server, transport) =
                    (transmit.question, transmit.server, transmit.transport);
                self.call(|lookup, _| lookup.receive(question, server, transport, &message));
            }
            (120..160, Some((transmit, _))) => {
                let (question, server) = (transmit.question, transmit.server);
                self.call(|lookup, _| {
                    lookup.receive(question, server, Transport::Udp, &step.bytes)
                });
            }
            (160..210, _) => self.timer(),
            (210..240, _) => self.now += u64::from(step.milliseconds) * 1_000_000,
            (_, Some((transmit, _))) => {
                self.call(|lookup, _| lookup.transport_failed(transmit.question))
            }
            _ => {}
        }
        self.drain();
    }

    fn timer(&mut self) {
        let Some(deadline) = self.call(|lookup, _| lookup.next_deadline()) else {
            return;
        };
        self.now = self.now.max(deadline);
        self.call(|lookup, now| lookup.on_timer(now));
        self.drain();
        let next = self.call(|lookup, _| lookup.next_deadline());
        assert!(
            next.is_none_or(|next| next > self.now),
            "a deadline in the past"
        );
    }
}

/// The fuzzer's answer carrying the query's id and question (and then
/// its flips of them).
fn answer_to(query: &[u8], forged: &Forged) -> Vec<u8> {
    let mut message = forged.message();
    let Ok((_, question_end)) = Question::read(query, HEADER_LEN) else {
        return message;
    };
    let id = u16::from_be_bytes([query[0], query[1]]) ^ forged.id_flip;
    message[0..2].copy_from_slice(&id.to_be_bytes());
    message[HEADER_LEN..question_end].copy_from_slice(&query[HEADER_LEN..question_end]);
    if forged.question_flip {
        message[question_end - 3] ^= 0x80;
    }
    message
}

#[test]
fn the_lookup_survives_any_server_and_any_timing_and_always_ends() {
    check!()
        .with_type::<(u64, Vec<Step>)>()
        .for_each(|(seed, steps)| {
            let servers = [
                IpAddr::V4(Ipv4Addr::new(10, 0, 2, 3)),
                IpAddr::V4(Ipv4Addr::new(10, 0, 2, 4)),
            ];
            let families = [Family::V4, Family::V6];
            let lookup = Lookup::new(name(), &families, servers, LookupConfig::default(), *seed);
            let mut run = Run {
                lookup,
                now: 1_000 * SECOND_NS,
                last: Vec::new(),
                sent: 0,
                allocations: 0,
            };
            run.drain();
            for step in steps.iter().take(64) {
                run.step(step);
            }
            for _ in 0..32 {
                run.timer();
            }
            assert!(
                run.lookup.is_finished(),
                "still running after every deadline"
            );
            assert_eq!(run.allocations, 0, "the lookup allocated");
        });
}
