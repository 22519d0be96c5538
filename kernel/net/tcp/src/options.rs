//! TCP options (RFC 9293 3.2, RFC 7323, RFC 2018): a defensive parser and a
//! writer.
//!
//! The parser walks kind/length pairs and stops at the first length that is
//! below 2 or runs past the end, so a garbage length byte costs the rest of
//! the options, never a panic. A known option with the wrong length is
//! skipped. The writer lays options out on 32-bit boundaries with NOPs, in
//! the order Linux uses, so every segment's options length is a multiple
//! of 4.

use crate::sequence::Sequence;

const END: u8 = 0;
const NOOP: u8 = 1;
const MAXIMUM_SEGMENT_SIZE: u8 = 2;
const WINDOW_SCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const SACK: u8 = 5;
const TIMESTAMP: u8 = 8;

/// The most SACK blocks one segment can carry.
pub const MAXIMUM_SACK_BLOCKS: usize = 4;

/// The largest window shift RFC 7323 allows.
pub const MAXIMUM_WINDOW_SCALE: u8 = 14;

/// One SACK block: `[start, end)` of data the receiver holds.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct SackBlock {
    /// First sequence number held.
    pub start: Sequence,
    /// One past the last sequence number held.
    pub end: Sequence,
}

/// The options of one segment.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct Options {
    /// Maximum segment size (SYN only).
    pub maximum_segment_size: Option<u16>,
    /// Window shift (SYN only), clamped to [`MAXIMUM_WINDOW_SCALE`].
    pub window_scale: Option<u8>,
    /// SACK may be used (SYN only).
    pub sack_permitted: bool,
    /// `(TSval, TSecr)`.
    pub timestamp: Option<(u32, u32)>,
    /// SACK blocks, the first `sack_count` are valid.
    pub sack_blocks: [SackBlock; MAXIMUM_SACK_BLOCKS],
    /// How many of `sack_blocks` are valid.
    pub sack_count: usize,
}

impl Options {
    /// Parses the options area of a header; never fails.
    pub fn parse(mut bytes: &[u8]) -> Self {
        let mut options = Self::default();
        while let Some((&kind, rest)) = bytes.split_first() {
            match kind {
                END => break,
                NOOP => bytes = rest,
                _ => {
                    let Some(&length) = rest.first() else { break };
                    let length = usize::from(length);
                    let Some(body) = bytes.get(2..length) else {
                        break;
                    };
                    options.take(kind, body);
                    bytes = bytes.get(length..).unwrap_or_default();
                }
            }
        }
        options
    }

    fn take(&mut self, kind: u8, body: &[u8]) {
        match (kind, body.len()) {
            (MAXIMUM_SEGMENT_SIZE, 2) => {
                self.maximum_segment_size = Some(u16::from_be_bytes([body[0], body[1]]));
            }
            (WINDOW_SCALE, 1) => self.window_scale = Some(body[0].min(MAXIMUM_WINDOW_SCALE)),
            (SACK_PERMITTED, 0) => self.sack_permitted = true,
            (TIMESTAMP, 8) => {
                let value = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let echo = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                self.timestamp = Some((value, echo));
            }
            (SACK, length) if length % 8 == 0 => self.take_sack(body),
            _ => {}
        }
    }

    fn take_sack(&mut self, body: &[u8]) {
        // A repeated SACK option replaces the earlier one.
        self.sack_count = 0;
        for (slot, block) in self.sack_blocks.iter_mut().zip(body.chunks_exact(8)) {
            let start = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
            let end = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
            *slot = SackBlock {
                start: Sequence(start),
                end: Sequence(end),
            };
            self.sack_count += 1;
        }
    }

    /// The SACK blocks present.
    pub fn sack(&self) -> &[SackBlock] {
        self.sack_blocks.get(..self.sack_count).unwrap_or_default()
    }

    /// The number of bytes [`Options::write`] produces.
    pub fn written_length(&self) -> usize {
        let mut length = 0;
        if self.maximum_segment_size.is_some() {
            length += 4;
        }
        if self.sack_permitted || self.timestamp.is_some() {
            length += if self.timestamp.is_some() { 12 } else { 4 };
        }
        if self.window_scale.is_some() {
            length += 4;
        }
        if self.sack_count > 0 {
            length += 4 + 8 * self.sack_count;
        }
        length
    }

    /// Writes the options into `out`, which holds [`Options::written_length`]
    /// bytes or more; returns the length written.
    pub fn write(&self, out: &mut [u8]) -> usize {
        let mut writer = Writer { out, at: 0 };
        if let Some(size) = self.maximum_segment_size {
            writer.put(&[MAXIMUM_SEGMENT_SIZE, 4]);
            writer.put(&size.to_be_bytes());
        }
        match (self.sack_permitted, self.timestamp) {
            (true, Some(stamp)) => writer.timestamp(&[SACK_PERMITTED, 2], stamp),
            (false, Some(stamp)) => writer.timestamp(&[NOOP, NOOP], stamp),
            (true, None) => writer.put(&[NOOP, NOOP, SACK_PERMITTED, 2]),
            (false, None) => {}
        }
        if let Some(shift) = self.window_scale {
            writer.put(&[NOOP, WINDOW_SCALE, 3, shift]);
        }
        if self.sack_count > 0 {
            writer.put(&[NOOP, NOOP, SACK, (2 + 8 * self.sack_count) as u8]);
            for block in self.sack() {
                writer.put(&block.start.0.to_be_bytes());
                writer.put(&block.end.0.to_be_bytes());
            }
        }
        writer.at
    }
}

struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        self.out[self.at..end].copy_from_slice(bytes);
        self.at = end;
    }

    fn timestamp(&mut self, prefix: &[u8; 2], (value, echo): (u32, u32)) {
        self.put(prefix);
        self.put(&[TIMESTAMP, 10]);
        self.put(&value.to_be_bytes());
        self.put(&echo.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_options_round_trip() {
        let options = Options {
            maximum_segment_size: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamp: Some((11, 22)),
            ..Options::default()
        };
        let mut buffer = [0u8; 40];
        let length = options.write(&mut buffer);
        assert_eq!(length, 20);
        assert_eq!(length, options.written_length());
        assert_eq!(Options::parse(&buffer[..length]), options);
    }

    #[test]
    fn sack_blocks_round_trip() {
        let mut options = Options {
            timestamp: Some((1, 2)),
            ..Options::default()
        };
        options.sack_blocks[0] = SackBlock {
            start: Sequence(100),
            end: Sequence(200),
        };
        options.sack_blocks[1] = SackBlock {
            start: Sequence(300),
            end: Sequence(400),
        };
        options.sack_count = 2;
        let mut buffer = [0u8; 40];
        let length = options.write(&mut buffer);
        assert_eq!(length % 4, 0);
        let parsed = Options::parse(&buffer[..length]);
        assert_eq!(parsed.sack(), options.sack());
        assert_eq!(parsed.timestamp, Some((1, 2)));
    }

    #[test]
    fn garbage_lengths_stop_the_walk_without_panicking() {
        // MSS, then a window scale whose length byte is 0, then junk.
        let bytes = [2, 4, 5, 180, 3, 0, 8, 10, 1, 2];
        let parsed = Options::parse(&bytes);
        assert_eq!(parsed.maximum_segment_size, Some(1460));
        assert_eq!(parsed.window_scale, None);
        assert_eq!(Options::parse(&[8, 200, 1, 2]).timestamp, None);
        assert_eq!(Options::parse(&[2]), Options::default());
        assert_eq!(Options::parse(&[2, 3, 0]).maximum_segment_size, None);
    }

    #[test]
    fn wrong_lengths_for_known_kinds_are_skipped() {
        // MSS with length 3, then a valid SACK-permitted, then a scale of 30.
        let bytes = [2, 3, 9, 4, 2, 3, 3, 30, 0];
        let parsed = Options::parse(&bytes);
        assert_eq!(parsed.maximum_segment_size, None);
        assert!(parsed.sack_permitted);
        assert_eq!(parsed.window_scale, Some(MAXIMUM_WINDOW_SCALE));
    }

    #[test]
    fn every_short_input_parses() {
        for first in 0..=255u8 {
            for second in 0..=12u8 {
                let bytes = [first, second, 1, 2, 3, 4, 5, 6, 7, 8, 9];
                for end in 0..bytes.len() {
                    let _ = Options::parse(&bytes[..end]);
                }
            }
        }
    }
}
