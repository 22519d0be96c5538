//! The checks every response passes before anything in it is believed.

use crate::message::{
    CLASS_IN, FLAG_RESPONSE, HEADER_LEN, Header, OPCODE_MASK, Question, Record, record_type,
};
use crate::{Error, Family, Name};

/// Checks the header and the echoed question; returns where the answer
/// section starts.
pub(super) fn check_header_and_question(
    message: &[u8],
    header: &Header,
    id: u16,
    name: &Name,
    family: Family,
) -> Result<usize, Error> {
    if header.flags & FLAG_RESPONSE == 0 {
        return Err(Error::NotResponse);
    }
    if header.id != id {
        return Err(Error::WrongId);
    }
    if header.flags & OPCODE_MASK != 0 {
        return Err(Error::WrongOpcode);
    }
    if header.questions != 1 {
        return Err(Error::WrongQuestion);
    }
    let (question, after) = Question::read(message, HEADER_LEN)?;
    let ours = question.name == *name
        && question.record_type == family.record_type()
        && question.class == CLASS_IN;
    if ours {
        Ok(after)
    } else {
        Err(Error::WrongQuestion)
    }
}

/// Reads every record of the three sections, checking the data of those
/// whose format we know; returns where the authority section starts.
pub(super) fn check_records(message: &[u8], start: usize, header: &Header) -> Result<usize, Error> {
    let mut offset = start;
    let mut authority_start = None;
    for index in 0..header.records() {
        if index == usize::from(header.answers) {
            authority_start = Some(offset);
        }
        let (record, next) = Record::read(message, offset)?;
        check_data(message, &record)?;
        offset = next;
    }
    Ok(authority_start.unwrap_or(offset))
}

/// Checks the data of A, AAAA, CNAME and SOA records of class IN.
fn check_data(message: &[u8], record: &Record) -> Result<(), Error> {
    if record.class != CLASS_IN {
        return Ok(());
    }
    let length = record.data.len();
    let good = match record.record_type {
        record_type::A => length == 4,
        record_type::AAAA => length == 16,
        record_type::CNAME => name_fills(message, record.data.start, record.data.end),
        record_type::SOA => soa_minimum(message, record).is_some(),
        _ => true,
    };
    if good { Ok(()) } else { Err(Error::BadRecord) }
}

/// Whether a name starting at `start` ends exactly at `end`.
fn name_fills(message: &[u8], start: usize, end: usize) -> bool {
    Name::read(message, start).is_ok_and(|(_, after)| after == end)
}

/// The MINIMUM field of an SOA record (after two names and four other
/// 32-bit fields), if its data holds exactly that.
pub(super) fn soa_minimum(message: &[u8], record: &Record) -> Option<u32> {
    let (_, after_primary) = Name::read(message, record.data.start).ok()?;
    let (_, after_mailbox) = Name::read(message, after_primary).ok()?;
    if after_mailbox + 20 != record.data.end {
        return None;
    }
    let minimum = message.get(record.data.end - 4..record.data.end)?;
    Some(u32::from_be_bytes(minimum.try_into().ok()?))
}
