//! Tests of the parser, the cache and the lookup, and their harness.
//!
//! [`Reply`] writes the responses a server (or an attacker) would send,
//! byte by byte, compression pointers included, so that every test says
//! exactly what is on the wire.

mod cache;
mod lookup;
mod names;
mod parse;

use std::vec::Vec;

use crate::message::{self, HEADER_LEN, record_type};

/// A pointer to the question's name, which starts right after the header.
pub const TO_QUESTION: [u8; 2] = [0xc0, HEADER_LEN as u8];

/// A response under construction.
pub struct Reply {
    bytes: Vec<u8>,
    /// Records per section: answer, authority, additional.
    counts: [u16; 3],
}

/// The sections records go to.
#[derive(Clone, Copy)]
pub enum Section {
    Answer = 0,
    Authority = 1,
    Additional = 2,
}

impl Reply {
    /// The answer to `query` (a message from [`message::write_query`]):
    /// its id and question, QR and RA set, NOERROR, no records yet.
    pub fn to(query: &[u8]) -> Reply {
        let question_end = question_end(query);
        let mut bytes = query[..question_end].to_vec();
        bytes[2] |= 0x80; // QR
        bytes[3] |= 0x80; // RA
        bytes[6..12].fill(0);
        Reply {
            bytes,
            counts: [0; 3],
        }
    }

    /// Sets the response code.
    pub fn rcode(mut self, code: u8) -> Reply {
        self.bytes[3] = (self.bytes[3] & 0xf0) | code;
        self
    }

    /// Sets TC.
    pub fn truncated(mut self) -> Reply {
        self.bytes[2] |= 0x02;
        self
    }

    /// Replaces the id.
    pub fn id(mut self, id: u16) -> Reply {
        self.bytes[0..2].copy_from_slice(&id.to_be_bytes());
        self
    }

    /// Appends a record whose owner is `owner` (wire bytes, pointers
    /// allowed) with raw `data`.
    pub fn record(
        mut self,
        section: Section,
        owner: &[u8],
        kind: u16,
        ttl: u32,
        data: &[u8],
    ) -> Reply {
        self.bytes.extend_from_slice(owner);
        self.bytes.extend_from_slice(&kind.to_be_bytes());
        self.bytes
            .extend_from_slice(&message::CLASS_IN.to_be_bytes());
        self.bytes.extend_from_slice(&ttl.to_be_bytes());
        self.bytes
            .extend_from_slice(&(data.len() as u16).to_be_bytes());
        self.bytes.extend_from_slice(data);
        self.counts[section as usize] += 1;
        self.write_counts();
        self
    }

    /// An A record in the answer section.
    pub fn a(self, owner: &[u8], ttl: u32, address: [u8; 4]) -> Reply {
        self.record(Section::Answer, owner, record_type::A, ttl, &address)
    }

    /// An AAAA record in the answer section.
    pub fn aaaa(self, owner: &[u8], ttl: u32, address: [u8; 16]) -> Reply {
        self.record(Section::Answer, owner, record_type::AAAA, ttl, &address)
    }

    /// A CNAME in the answer section from `owner` to `target`.
    pub fn cname(self, owner: &[u8], ttl: u32, target: &[u8]) -> Reply {
        self.record(Section::Answer, owner, record_type::CNAME, ttl, target)
    }

    /// An SOA in the authority section with `minimum` as its last field.
    pub fn soa(self, owner: &[u8], ttl: u32, minimum: u32) -> Reply {
        let mut data = wire("ns.example");
        data.extend_from_slice(&wire("hostmaster.example"));
        for field in [2026_u32, 7200, 3600, 1_209_600, minimum] {
            data.extend_from_slice(&field.to_be_bytes());
        }
        self.record(Section::Authority, owner, record_type::SOA, ttl, &data)
    }

    /// Where the next byte goes (for pointers to a later name).
    pub fn offset(&self) -> usize {
        self.bytes.len()
    }

    /// The message.
    pub fn build(self) -> Vec<u8> {
        self.bytes
    }

    fn write_counts(&mut self) {
        for (index, count) in self.counts.iter().enumerate() {
            let at = 6 + 2 * index;
            self.bytes[at..at + 2].copy_from_slice(&count.to_be_bytes());
        }
    }
}

/// The offset just after the question of `query`.
fn question_end(query: &[u8]) -> usize {
    let (_, after) = message::Question::read(query, HEADER_LEN).expect("a query we wrote");
    after
}

/// `text` as an uncompressed wire name.
pub fn wire(text: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for label in text.split('.').filter(|label| !label.is_empty()) {
        bytes.push(label.len() as u8);
        bytes.extend_from_slice(label.as_bytes());
    }
    bytes.push(0);
    bytes
}
