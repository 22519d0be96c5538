//! The TCP header (RFC 9293 3.1): a checked view for input, a writer for
//! output.
//!
//! [`Segment::parse`] checks the length and the data offset before it hands
//! out any field, so a segment is either a complete, consistent view or an
//! error; the options inside are parsed by [`crate::options`], which never
//! trusts a length byte. [`HeaderFields::write`] lays out a header into a
//! buffer the caller sized with [`HEADER_LENGTH`] plus the options length.

use crate::options::Options;
use crate::sequence::Sequence;

/// The length of a header without options.
pub const HEADER_LENGTH: usize = 20;

/// The control bits of a segment.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct Flags(pub u8);

impl Flags {
    /// No more data from the sender.
    pub const FIN: Self = Self(0x01);
    /// Synchronise sequence numbers.
    pub const SYN: Self = Self(0x02);
    /// Reset the connection.
    pub const RST: Self = Self(0x04);
    /// Push function.
    pub const PSH: Self = Self(0x08);
    /// The acknowledgment field is significant.
    pub const ACK: Self = Self(0x10);
    /// The urgent pointer is significant. RFC 6093: this engine delivers
    /// urgent data in-band, as SO_OOBINLINE does, ignores the pointer
    /// (so no byte is lost or duplicated for it) and never sends URG.
    pub const URG: Self = Self(0x20);
    /// ECN-Echo (RFC 3168): congestion was experienced; in a SYN, ECN
    /// setup.
    pub const ECE: Self = Self(0x40);
    /// Congestion Window Reduced (RFC 3168).
    pub const CWR: Self = Self(0x80);

    /// Every bit of `other` is set in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with the bits of `other` added.
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// Why a segment was rejected before any protocol processing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseError {
    /// Shorter than the fixed header.
    Truncated,
    /// The data offset is below 5 words or past the end of the segment.
    BadDataOffset,
}

/// One received segment, checked and split into header fields and payload.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Sender's port.
    pub source_port: u16,
    /// Receiver's port.
    pub destination_port: u16,
    /// First sequence number of the segment (of the SYN when set).
    pub sequence: Sequence,
    /// Next sequence number the sender expects (valid with ACK).
    pub acknowledgment: Sequence,
    /// Control bits.
    pub flags: Flags,
    /// The raw window field (unscaled).
    pub window: u16,
    /// The options, parsed defensively.
    pub options: Options,
    /// The data after the header.
    pub payload: &'a [u8],
}

impl<'a> Segment<'a> {
    /// Checks and splits `bytes`; the checksum is verified by the caller.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let fixed = bytes.get(..HEADER_LENGTH).ok_or(ParseError::Truncated)?;
        let header_length = usize::from(fixed[12] >> 4) * 4;
        if header_length < HEADER_LENGTH {
            return Err(ParseError::BadDataOffset);
        }
        let options = bytes
            .get(HEADER_LENGTH..header_length)
            .ok_or(ParseError::BadDataOffset)?;
        let payload = bytes
            .get(header_length..)
            .ok_or(ParseError::BadDataOffset)?;
        Ok(Self {
            source_port: u16::from_be_bytes([fixed[0], fixed[1]]),
            destination_port: u16::from_be_bytes([fixed[2], fixed[3]]),
            sequence: Sequence(u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]])),
            acknowledgment: Sequence(u32::from_be_bytes([
                fixed[8], fixed[9], fixed[10], fixed[11],
            ])),
            flags: Flags(fixed[13]),
            window: u16::from_be_bytes([fixed[14], fixed[15]]),
            options: Options::parse(options),
            payload,
        })
    }

    /// True when `flag` is set.
    pub const fn has(&self, flag: Flags) -> bool {
        self.flags.contains(flag)
    }

    /// The sequence space the segment occupies: payload plus SYN and FIN.
    pub fn sequence_length(&self) -> u32 {
        // A segment arrives in one IP packet, so its length fits in u32.
        let payload = self.payload.len() as u32;
        payload + u32::from(self.has(Flags::SYN)) + u32::from(self.has(Flags::FIN))
    }
}

/// The fixed fields of a header to write.
#[derive(Clone, Copy, Debug)]
pub struct HeaderFields {
    /// Our port.
    pub source_port: u16,
    /// The peer's port.
    pub destination_port: u16,
    /// Sequence number of the first byte (or the SYN).
    pub sequence: Sequence,
    /// Acknowledgment number (0 when ACK is not set).
    pub acknowledgment: Sequence,
    /// Control bits.
    pub flags: Flags,
    /// The window field, already scaled down.
    pub window: u16,
}

impl HeaderFields {
    /// Writes the fixed header with a data offset covering
    /// `options_length` bytes of options (a multiple of 4) and a zero
    /// checksum; `out` must hold at least [`HEADER_LENGTH`] bytes.
    pub fn write(&self, out: &mut [u8], options_length: usize) {
        let words = ((HEADER_LENGTH + options_length) / 4) as u8;
        out[0..2].copy_from_slice(&self.source_port.to_be_bytes());
        out[2..4].copy_from_slice(&self.destination_port.to_be_bytes());
        out[4..8].copy_from_slice(&self.sequence.0.to_be_bytes());
        out[8..12].copy_from_slice(&self.acknowledgment.0.to_be_bytes());
        out[12] = words << 4;
        out[13] = self.flags.0;
        out[14..16].copy_from_slice(&self.window.to_be_bytes());
        out[16..20].fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [u8; 24] {
        let mut bytes = [0u8; 24];
        HeaderFields {
            source_port: 1234,
            destination_port: 80,
            sequence: Sequence(0x0102_0304),
            acknowledgment: Sequence(0x0a0b_0c0d),
            flags: Flags::SYN.with(Flags::ACK),
            window: 0xfffe,
        }
        .write(&mut bytes, 0);
        bytes
    }

    #[test]
    fn write_then_parse_round_trips() {
        let mut bytes = sample();
        bytes[20..].copy_from_slice(b"data");
        let segment = Segment::parse(&bytes).expect("a well-formed header");
        assert_eq!(segment.source_port, 1234);
        assert_eq!(segment.destination_port, 80);
        assert_eq!(segment.sequence, Sequence(0x0102_0304));
        assert_eq!(segment.acknowledgment, Sequence(0x0a0b_0c0d));
        assert!(segment.has(Flags::SYN) && segment.has(Flags::ACK));
        assert!(!segment.has(Flags::FIN));
        assert_eq!(segment.window, 0xfffe);
        assert_eq!(segment.payload, b"data");
        assert_eq!(segment.sequence_length(), 5);
    }

    #[test]
    fn short_segments_and_bad_offsets_are_rejected() {
        let bytes = sample();
        assert_eq!(
            Segment::parse(&bytes[..19]).err(),
            Some(ParseError::Truncated)
        );
        let mut low = bytes;
        low[12] = 4 << 4;
        assert_eq!(Segment::parse(&low).err(), Some(ParseError::BadDataOffset));
        let mut high = bytes;
        high[12] = 7 << 4;
        assert_eq!(Segment::parse(&high).err(), Some(ParseError::BadDataOffset));
        let mut exact = bytes;
        exact[12] = 6 << 4;
        let segment = Segment::parse(&exact).expect("offset 6 fits in 24 bytes");
        assert!(segment.payload.is_empty());
    }
}
