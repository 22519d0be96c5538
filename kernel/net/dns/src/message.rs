//! The DNS message codec: header, question, resource records (RFC 1035 §4).
//!
//! ```text
//!  0..2 id   2..4 flags: QR(15) opcode(11..15) AA TC RD RA Z AD CD rcode(0..4)
//!  4..6 QDCOUNT  6..8 ANCOUNT  8..10 NSCOUNT  10..12 ARCOUNT
//! 12.. question: name, type (2), class (2)
//!      records:  name, type (2), class (2), ttl (4), rdlength (2), rdata
//! ```
//!
//! Queries are written uncompressed, with RD set and, when asked, an EDNS0
//! OPT record (RFC 6891) offering a larger UDP payload. Records are read
//! with every length checked against the message; a reader never looks
//! past the bytes it was given.

use core::ops::Range;

use crate::name::Name;
use crate::{Error, Family};

/// The fixed header's length.
pub const HEADER_LEN: usize = 12;
/// Class IN.
pub const CLASS_IN: u16 = 1;
/// QR: set in responses.
pub const FLAG_RESPONSE: u16 = 0x8000;
/// The opcode field (QUERY is 0).
pub const OPCODE_MASK: u16 = 0x7800;
/// TC: the answer did not fit.
pub const FLAG_TRUNCATED: u16 = 0x0200;
/// RD: please recurse.
pub const FLAG_RECURSION_DESIRED: u16 = 0x0100;
/// The response code field.
pub const RCODE_MASK: u16 = 0x000f;
/// The UDP payload EDNS0 queries offer: the size DNS Flag Day 2020 chose
/// so that answers are not fragmented on common paths.
pub const EDNS_PAYLOAD: u16 = 1232;
/// The bytes of the OPT record a query carries.
const OPT_RECORD_LEN: usize = 11;

/// Record types (RFC 1035 §3.2.2, RFC 3596, RFC 6891).
pub mod record_type {
    /// An IPv4 address.
    pub const A: u16 = 1;
    /// The canonical name of an alias.
    pub const CNAME: u16 = 5;
    /// The start of a zone of authority (negative caching, RFC 2308).
    pub const SOA: u16 = 6;
    /// An IPv6 address.
    pub const AAAA: u16 = 28;
    /// The EDNS0 pseudo-record.
    pub const OPT: u16 = 41;
}

/// Response codes (RFC 1035 §4.1.1).
pub mod rcode {
    /// No error.
    pub const NO_ERROR: u8 = 0;
    /// The server could not interpret the query.
    pub const FORMAT_ERROR: u8 = 1;
    /// The server failed.
    pub const SERVER_FAILURE: u8 = 2;
    /// The name does not exist (NXDOMAIN).
    pub const NAME_ERROR: u8 = 3;
    /// The server does not do this kind of query.
    pub const NOT_IMPLEMENTED: u8 = 4;
    /// The server will not answer us.
    pub const REFUSED: u8 = 5;
}

/// The fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The query id the response must echo.
    pub id: u16,
    /// QR, opcode, AA, TC, RD, RA, Z, rcode.
    pub flags: u16,
    /// Entries in the question section.
    pub questions: u16,
    /// Records in the answer section.
    pub answers: u16,
    /// Records in the authority section.
    pub authorities: u16,
    /// Records in the additional section.
    pub additionals: u16,
}

impl Header {
    /// The header at the start of `message`.
    ///
    /// # Errors
    /// [`Error::Truncated`].
    pub fn parse(message: &[u8]) -> Result<Header, Error> {
        let bytes = message.get(..HEADER_LEN).ok_or(Error::Truncated)?;
        let word = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
        Ok(Header {
            id: word(0),
            flags: word(2),
            questions: word(4),
            answers: word(6),
            authorities: word(8),
            additionals: word(10),
        })
    }

    /// The response code.
    pub fn rcode(&self) -> u8 {
        (self.flags & RCODE_MASK) as u8
    }

    /// Records in all three record sections.
    pub fn records(&self) -> usize {
        usize::from(self.answers) + usize::from(self.authorities) + usize::from(self.additionals)
    }
}

/// Writes a recursive query for `name`'s addresses of `family` with `id`
/// into `buffer`; returns its length. With `edns`, an OPT record offers
/// [`EDNS_PAYLOAD`] bytes of UDP payload.
///
/// # Errors
/// [`Error::BufferTooSmall`].
pub fn write_query(
    buffer: &mut [u8],
    id: u16,
    name: &Name,
    family: Family,
    edns: bool,
) -> Result<usize, Error> {
    let wire = name.wire();
    let question_end = HEADER_LEN + wire.len() + 4;
    let length = question_end + if edns { OPT_RECORD_LEN } else { 0 };
    let out = buffer.get_mut(..length).ok_or(Error::BufferTooSmall)?;
    out[..HEADER_LEN].fill(0);
    out[0..2].copy_from_slice(&id.to_be_bytes());
    out[2..4].copy_from_slice(&FLAG_RECURSION_DESIRED.to_be_bytes());
    out[4..6].copy_from_slice(&1u16.to_be_bytes());
    out[10..12].copy_from_slice(&u16::from(edns).to_be_bytes());
    out[HEADER_LEN..HEADER_LEN + wire.len()].copy_from_slice(wire);
    let fixed = &mut out[HEADER_LEN + wire.len()..question_end];
    fixed[..2].copy_from_slice(&family.record_type().to_be_bytes());
    fixed[2..].copy_from_slice(&CLASS_IN.to_be_bytes());
    if edns {
        write_opt(&mut out[question_end..]);
    }
    Ok(length)
}

/// The OPT pseudo-record: root name, type 41, the payload size as class,
/// extended rcode, version 0 and no flags as TTL, no options.
fn write_opt(out: &mut [u8]) {
    out.fill(0);
    out[1..3].copy_from_slice(&record_type::OPT.to_be_bytes());
    out[3..5].copy_from_slice(&EDNS_PAYLOAD.to_be_bytes());
}

/// A question: name, type and class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question {
    /// The name asked about.
    pub name: Name,
    /// The record type asked for.
    pub record_type: u16,
    /// The class (IN).
    pub class: u16,
}

impl Question {
    /// The question at `offset`; returns it and the offset after it.
    ///
    /// # Errors
    /// As [`Name::read`].
    pub fn read(message: &[u8], offset: usize) -> Result<(Question, usize), Error> {
        let (name, after_name) = Name::read(message, offset)?;
        let fixed = message
            .get(after_name..after_name + 4)
            .ok_or(Error::Truncated)?;
        let question = Question {
            name,
            record_type: u16::from_be_bytes([fixed[0], fixed[1]]),
            class: u16::from_be_bytes([fixed[2], fixed[3]]),
        };
        Ok((question, after_name + 4))
    }
}

/// A resource record; its data stays in the message, at `data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub name: Name,
    /// The record type.
    pub record_type: u16,
    /// The class (the payload size for OPT).
    pub class: u16,
    /// Seconds it may be cached; 0 when the top bit is set (RFC 2181 §8).
    pub ttl: u32,
    /// Where its data lies in the message.
    pub data: Range<usize>,
}

impl Record {
    /// The record at `offset`; returns it and the offset after it.
    ///
    /// # Errors
    /// As [`Name::read`], and [`Error::Truncated`] when its data runs past
    /// the message.
    pub fn read(message: &[u8], offset: usize) -> Result<(Record, usize), Error> {
        let (name, after_name) = Name::read(message, offset)?;
        let fixed = message
            .get(after_name..after_name + 10)
            .ok_or(Error::Truncated)?;
        let word = |at: usize| u16::from_be_bytes([fixed[at], fixed[at + 1]]);
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let start = after_name + 10;
        let end = start + usize::from(word(8));
        if end > message.len() {
            return Err(Error::Truncated);
        }
        let record = Record {
            name,
            record_type: word(0),
            class: word(2),
            ttl: if ttl > i32::MAX as u32 { 0 } else { ttl },
            data: start..end,
        };
        Ok((record, end))
    }
}
