//! Multicast Listener Discovery (RFC 3810): the queries a host answers
//! and the MLDv2 reports it sends.
//!
//! A host reports each group it listens to (switches that snoop MLD
//! forward a group's frames only to ports that reported it). Reports go
//! to ff02::16 with hop limit 1 behind a hop-by-hop header carrying the
//! Router Alert option ([`ROUTER_ALERT`]). Queries of both versions
//! parse (an MLDv1 query is 24 bytes, an MLDv2 one at least 28), so a
//! host answers whichever querier the link has; its answer is always an
//! MLDv2 report.

use core::net::Ipv6Addr;

use crate::error::{WireError, be16};
use crate::icmpv6::kind;

/// The hop-by-hop header in front of every report: next header ICMPv6,
/// Router Alert (value 0: MLD), two bytes of padding.
pub const ROUTER_ALERT: [u8; 8] = [58, 0, 5, 2, 0, 0, 1, 0];
/// Bytes of one multicast address record without sources.
pub const RECORD_LEN: usize = 20;

/// Record types (RFC 3810 5.2.12).
pub mod record {
    /// Current state, listening to all sources (answers to queries).
    pub const MODE_IS_EXCLUDE: u8 = 2;
    /// Stopped listening (include no source).
    pub const CHANGE_TO_INCLUDE: u8 = 3;
    /// Started listening (exclude no source).
    pub const CHANGE_TO_EXCLUDE: u8 = 4;
}

/// A Multicast Listener Query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MldQuery {
    /// The group asked about; unspecified for a general query.
    pub group: Ipv6Addr,
    /// How long the answer may wait, milliseconds.
    pub max_response_ms: u32,
}

impl MldQuery {
    /// Parses a query (an ICMPv6 message of type 130, checksum verified).
    ///
    /// # Errors
    /// [`WireError::Unsupported`] for other types, [`WireError::Truncated`]
    /// for fewer than 24 bytes, [`WireError::BadLength`] for lengths
    /// between the two versions'.
    pub fn parse(message: &[u8]) -> Result<Self, WireError> {
        if message.first() != Some(&kind::MLD_QUERY) {
            return Err(WireError::Unsupported);
        }
        if message.len() < 24 {
            return Err(WireError::Truncated);
        }
        let code = be16(message, 4);
        let max_response_ms = match message.len() {
            24 => u32::from(code),
            25..28 => return Err(WireError::BadLength),
            _ => decode_response_code(code),
        };
        let mut group = [0u8; 16];
        group.copy_from_slice(&message[8..24]);
        Ok(Self {
            group: Ipv6Addr::from(group),
            max_response_ms,
        })
    }
}

/// MLDv2's Maximum Response Code (RFC 3810 5.1.3): milliseconds below
/// 32768, a floating-point value from there.
fn decode_response_code(code: u16) -> u32 {
    if code < 0x8000 {
        return u32::from(code);
    }
    let mantissa = u32::from(code & 0x0fff);
    let exponent = u32::from((code >> 12) & 0x7);
    (mantissa | 0x1000) << (exponent + 3)
}

/// The length of a report with `records` records.
pub fn report_len(records: usize) -> usize {
    8 + RECORD_LEN * records
}

/// Writes an MLDv2 report of `records` (type and group each, no
/// sources) from the start of `out` and returns its length; the
/// checksum is the caller's ([`crate::icmpv6::seal`]).
///
/// # Panics
/// If `out` is shorter than [`report_len`] of the records or there are
/// more than 65,535 of them (the caller sized and bounded them).
pub fn write_report(out: &mut [u8], records: &[(u8, Ipv6Addr)]) -> usize {
    let count = u16::try_from(records.len()).expect("the caller bounds the records");
    out[..6].copy_from_slice(&[kind::MLD_V2_REPORT, 0, 0, 0, 0, 0]);
    out[6..8].copy_from_slice(&count.to_be_bytes());
    for (index, (record_type, group)) in records.iter().enumerate() {
        let at = 8 + RECORD_LEN * index;
        out[at..at + 4].copy_from_slice(&[*record_type, 0, 0, 0]);
        out[at + 4..at + RECORD_LEN].copy_from_slice(&group.octets());
    }
    report_len(records.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    #[test]
    fn reports_hold_their_records() {
        let records = [
            (record::CHANGE_TO_EXCLUDE, group("ff02::1:ff00:1")),
            (record::MODE_IS_EXCLUDE, group("ff02::1:ff00:2")),
        ];
        let mut out = [0u8; 48];
        assert_eq!(write_report(&mut out, &records), 48);
        assert_eq!(out[0], kind::MLD_V2_REPORT);
        assert_eq!(be16(&out, 6), 2);
        assert_eq!(out[8], record::CHANGE_TO_EXCLUDE);
        assert_eq!(&out[12..28], &group("ff02::1:ff00:1").octets());
        assert_eq!(&out[32..48], &group("ff02::1:ff00:2").octets());
    }

    #[test]
    fn queries_of_both_versions() {
        let mut v1 = [0u8; 24];
        v1[0] = kind::MLD_QUERY;
        v1[4..6].copy_from_slice(&10_000u16.to_be_bytes());
        let query = MldQuery::parse(&v1).unwrap();
        assert_eq!(query.max_response_ms, 10_000);
        assert!(query.group.is_unspecified());
        let mut v2 = [0u8; 28];
        v2[0] = kind::MLD_QUERY;
        v2[4..6].copy_from_slice(&0x8001u16.to_be_bytes());
        v2[8..24].copy_from_slice(&group("ff02::1:ff00:1").octets());
        let query = MldQuery::parse(&v2).unwrap();
        assert_eq!(query.max_response_ms, (1 | 0x1000) << 3);
        assert_eq!(query.group, group("ff02::1:ff00:1"));
        assert_eq!(decode_response_code(0xffff), 0x1fff << 10);
        assert_eq!(MldQuery::parse(&v2[..26]), Err(WireError::BadLength));
        assert_eq!(MldQuery::parse(&v2[..23]), Err(WireError::Truncated));
        v2[0] = kind::MLD_V2_REPORT;
        assert_eq!(MldQuery::parse(&v2), Err(WireError::Unsupported));
    }
}
