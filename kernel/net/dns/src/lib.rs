//! The DNS stub resolver of the net faction (sans-IO, RFC 1035, RFC 3596).
//!
//! Pure state and functions: nothing here reads a clock, opens a socket or
//! draws randomness of its own. Time comes in as `now_ns` (monotonic
//! nanoseconds), messages as byte slices, the seed of the query ids from
//! the caller (the random hypercall). The kernel glue
//!
//! 1. asks the [`Cache`] first, per name and address family;
//! 2. makes a [`Lookup`] for the families it misses, with the servers of a
//!    [`ServerList`] (boot parameters, DHCP option 6, later RDNSS);
//! 3. sends every [`Transmit`] that [`Lookup::poll_transmit`] writes: over
//!    UDP from a fresh socket (a fresh random port: RFC 5452) to port 53 of
//!    the server, or over TCP with the two-byte length prefix of RFC 1035
//!    §4.2.2 when an answer came back truncated;
//! 4. feeds every answer from that server to [`Lookup::receive`], calls
//!    [`Lookup::on_timer`] at [`Lookup::next_deadline`], and reports a
//!    transport that failed (ICMP refused, a TCP reset) with
//!    [`Lookup::transport_failed`];
//! 5. when [`Lookup::is_finished`], stores the answers in the cache and
//!    orders the addresses with [`order_addresses`] (RFC 6724).
//!
//! Answers are untrusted: nothing here panics on any bytes. An answer must
//! echo our id and question exactly (RFC 5452 §9.1) or it is counted and
//! ignored, and the lookup keeps waiting for the real one.
//!
//! Left out: DNSSEC, search domains, `ndots`, 0x20 case randomisation,
//! reverse lookups, and queries for anything but A and AAAA.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod addresses;
mod cache;
mod lookup;
pub mod message;
mod name;
mod response;
mod servers;

#[cfg(test)]
mod tests;

pub use addresses::{AddressList, MAX_ADDRESSES, order_addresses};
pub use cache::{Cache, CacheStats, DEFAULT_CAPACITY, NEGATIVE_TTL_CAP, POSITIVE_TTL_CAP};
pub use lookup::{
    Lookup, LookupConfig, LookupError, LookupStats, MAX_LOOKUP_SERVERS, MINIMUM_BUFFER, Outcome,
    QuestionIndex, Transmit, Transport,
};
pub use name::{MAX_LABEL, MAX_NAME, Name, NameError};
pub use response::{Answer, Failure, MAX_CNAME_HOPS, Resolution, Response, parse_response};
pub use servers::{MAX_SERVERS_PER_SOURCE, ServerList, ServerSource};

use core::fmt;

/// The address family a question asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4: type A (1).
    V4,
    /// IPv6: type AAAA (28, RFC 3596).
    V6,
}

impl Family {
    /// The record type that carries addresses of this family.
    pub fn record_type(self) -> u16 {
        match self {
            Family::V4 => message::record_type::A,
            Family::V6 => message::record_type::AAAA,
        }
    }
}

/// Why a message was rejected: malformed, or not the answer we wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The output buffer cannot hold the query.
    BufferTooSmall,
    /// The message ends inside its header, a name or a record.
    Truncated,
    /// A compression pointer that does not point strictly backwards, or
    /// too many of them (a loop).
    BadPointer,
    /// A label type other than a plain label or a pointer (RFC 6891 §5).
    BadLabel,
    /// A name longer than 255 bytes in wire form.
    NameTooLong,
    /// An A or AAAA record whose data is not 4 or 16 bytes, or an SOA
    /// whose data does not hold its fields.
    BadRecord,
    /// QR is 0: a query, not a response.
    NotResponse,
    /// The id is not the one we sent.
    WrongId,
    /// The opcode is not QUERY.
    WrongOpcode,
    /// The question is not exactly the one we asked.
    WrongQuestion,
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::BufferTooSmall => "buffer too small for the DNS query",
            Error::Truncated => "DNS message ends early",
            Error::BadPointer => "DNS compression pointer loops or points forward",
            Error::BadLabel => "DNS label of an unknown type",
            Error::NameTooLong => "DNS name longer than 255 bytes",
            Error::BadRecord => "DNS record data of the wrong length",
            Error::NotResponse => "DNS message is not a response",
            Error::WrongId => "DNS response with another id",
            Error::WrongOpcode => "DNS response with another opcode",
            Error::WrongQuestion => "DNS response to another question",
        };
        formatter.write_str(text)
    }
}

impl core::error::Error for Error {}
