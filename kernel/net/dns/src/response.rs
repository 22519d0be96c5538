//! Reading a response: is it the answer to our question, and what it says.
//!
//! [`parse_response`] checks, in this order, and rejects with an
//! [`Error`] (the caller ignores the message and keeps waiting):
//!
//! 1. the header: QR set, our id, opcode QUERY, exactly one question;
//! 2. the question: our name (case-insensitively), type and class IN
//!    (RFC 5452 §9.1: an answer that does not match is not an answer);
//! 3. every record of all three sections: names (compression included),
//!    lengths, and the data of A, AAAA, CNAME and SOA records.
//!
//! Then, for a message that passed: TC set is [`Response::Truncated`]
//! (ask again over TCP); an rcode other than NOERROR and NXDOMAIN is a
//! [`Response::Failure`] (ask the next server); otherwise the answer
//! section is followed from the question's name through at most
//! [`MAX_CNAME_HOPS`] CNAMEs to the addresses of the last name. Records
//! about other names are ignored. The TTL of an answer is the smallest of
//! the records used; of a negative answer, the smaller of the SOA's TTL
//! and its MINIMUM field (RFC 2308 §5), and none without an SOA (such an
//! answer is not cached).

mod checks;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::message::{CLASS_IN, FLAG_TRUNCATED, Header, Record, rcode, record_type};
use crate::{AddressList, Error, Family, Name};
use checks::{check_header_and_question, check_records, soa_minimum};

/// CNAMEs followed from the question's name at most; a longer chain (or a
/// loop) is a [`Failure::CnameChainTooLong`].
pub const MAX_CNAME_HOPS: usize = 8;

/// What a response that passed every check says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// An answer, positive or negative.
    Answer(Answer),
    /// TC was set: the answer did not fit; ask again over TCP.
    Truncated,
    /// The server could not or would not answer: ask the next one.
    Failure(Failure),
}

/// An answer and how long it may be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// What the answer says.
    pub resolution: Resolution,
    /// Seconds it may be cached; `None`: not at all (a negative answer
    /// without an SOA, RFC 2308 §5).
    pub ttl: Option<u32>,
}

/// What a name resolves to in one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// At least one address.
    Addresses(AddressList),
    /// The name exists but has no address of this family (NODATA).
    NoAddresses,
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
}

/// Why a server did not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// FORMERR: it could not read our query.
    FormatError,
    /// SERVFAIL.
    ServerFailure,
    /// NOTIMP.
    NotImplemented,
    /// REFUSED.
    Refused,
    /// Another response code.
    OtherCode(u8),
    /// More than [`MAX_CNAME_HOPS`] CNAMEs, or a loop of them.
    CnameChainTooLong,
}

/// Reads `message` as the answer to query `id` for `name`'s addresses of
/// `family` (see the module documentation for what is checked).
///
/// # Errors
/// [`Error`]: the message is malformed or not the answer to this query.
pub fn parse_response(
    message: &[u8],
    id: u16,
    name: &Name,
    family: Family,
) -> Result<Response, Error> {
    let header = Header::parse(message)?;
    let answers_start = check_header_and_question(message, &header, id, name, family)?;
    let authority_start = check_records(message, answers_start, &header)?;
    if header.flags & FLAG_TRUNCATED != 0 {
        return Ok(Response::Truncated);
    }
    let code = header.rcode();
    if let Some(failure) = failure_of(code) {
        return Ok(Response::Failure(failure));
    }
    let answers = Records::new(message, answers_start, header.answers);
    let authorities = Records::new(message, authority_start, header.authorities);
    if code == rcode::NAME_ERROR {
        let ttl = negative_ttl(message, authorities);
        return Ok(answer(Resolution::NoSuchName, ttl));
    }
    let Some((target, chain_ttl)) = follow_cnames(message, answers, *name) else {
        return Ok(Response::Failure(Failure::CnameChainTooLong));
    };
    let (addresses, ttl) = collect_addresses(message, answers, &target, family);
    if addresses.is_empty() {
        return Ok(answer(
            Resolution::NoAddresses,
            negative_ttl(message, authorities),
        ));
    }
    let ttl = ttl.min(chain_ttl);
    Ok(answer(Resolution::Addresses(addresses), Some(ttl)))
}

/// The failure an rcode reports; `None` for NOERROR and NXDOMAIN.
fn failure_of(code: u8) -> Option<Failure> {
    match code {
        rcode::NO_ERROR | rcode::NAME_ERROR => None,
        rcode::FORMAT_ERROR => Some(Failure::FormatError),
        rcode::SERVER_FAILURE => Some(Failure::ServerFailure),
        rcode::NOT_IMPLEMENTED => Some(Failure::NotImplemented),
        rcode::REFUSED => Some(Failure::Refused),
        other => Some(Failure::OtherCode(other)),
    }
}

fn answer(resolution: Resolution, ttl: Option<u32>) -> Response {
    Response::Answer(Answer { resolution, ttl })
}

/// Follows CNAMEs from `name`; returns the last name and the smallest TTL
/// on the way (`u32::MAX` with none), or `None` for a chain too long.
fn follow_cnames(message: &[u8], answers: Records<'_>, name: Name) -> Option<(Name, u32)> {
    let mut target = name;
    let mut ttl = u32::MAX;
    for _ in 0..=MAX_CNAME_HOPS {
        let alias = answers.filter_map(Result::ok).find(|r| {
            r.name == target && r.record_type == record_type::CNAME && r.class == CLASS_IN
        });
        let Some(alias) = alias else {
            return Some((target, ttl));
        };
        // check_records read this name already.
        target = Name::read(message, alias.data.start).ok()?.0;
        ttl = ttl.min(alias.ttl);
    }
    None
}

/// The addresses of `family` owned by `name`, and their smallest TTL.
fn collect_addresses(
    message: &[u8],
    answers: Records<'_>,
    name: &Name,
    family: Family,
) -> (AddressList, u32) {
    let mut addresses = AddressList::default();
    let mut ttl = u32::MAX;
    let ours = answers.filter_map(Result::ok).filter(|r| {
        r.name == *name && r.record_type == family.record_type() && r.class == CLASS_IN
    });
    for record in ours {
        let data = &message[record.data.clone()];
        let address = match (family, data.len()) {
            (Family::V4, 4) => IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
            (Family::V6, 16) => {
                let bytes: [u8; 16] = data.try_into().unwrap_or_default();
                IpAddr::V6(Ipv6Addr::from(bytes))
            }
            _ => continue,
        };
        addresses.push(address);
        ttl = ttl.min(record.ttl);
    }
    (addresses, ttl)
}

/// The negative-caching TTL from the first SOA of the authority section.
fn negative_ttl(message: &[u8], authorities: Records<'_>) -> Option<u32> {
    authorities
        .filter_map(Result::ok)
        .filter(|r| r.record_type == record_type::SOA && r.class == CLASS_IN)
        .find_map(|soa| Some(soa_minimum(message, &soa)?.min(soa.ttl)))
}

/// The records of one section, read one by one.
#[derive(Clone, Copy)]
struct Records<'a> {
    message: &'a [u8],
    offset: usize,
    remaining: u16,
}

impl<'a> Records<'a> {
    fn new(message: &'a [u8], offset: usize, count: u16) -> Self {
        Self {
            message,
            offset,
            remaining: count,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.remaining = self.remaining.checked_sub(1)?;
        match Record::read(self.message, self.offset) {
            Ok((record, next)) => {
                self.offset = next;
                Some(Ok(record))
            }
            Err(error) => {
                self.remaining = 0;
                Some(Err(error))
            }
        }
    }
}
