//! Classic pcap output (tcpdump's format 2.4), for bus dumps.
//!
//! A file is a 24-byte global header (magic 0xa1b2c3d4 in the writer's
//! byte order, which is little-endian here, version 2.4, zone 0, snapshot
//! length, LINKTYPE_ETHERNET) then one 16-byte record header (seconds,
//! microseconds, captured and original length) before every frame.

use std::io::{self, Write};

/// Microsecond-resolution pcap magic.
pub const MAGIC: u32 = 0xa1b2_c3d4;
/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// The snapshot length written: no frame is longer.
pub const SNAPSHOT_LENGTH: u32 = 65_535;
/// Bytes of the global header.
pub const FILE_HEADER_BYTES: usize = 24;
/// Bytes of a record header.
pub const RECORD_HEADER_BYTES: usize = 16;

/// Writes a pcap stream to `output`.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    output: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header and returns the writer.
    ///
    /// # Errors
    /// The error of `output`.
    pub fn new(mut output: W) -> io::Result<Self> {
        let mut header = Vec::with_capacity(FILE_HEADER_BYTES);
        header.extend_from_slice(&MAGIC.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&SNAPSHOT_LENGTH.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        output.write_all(&header)?;
        Ok(Self { output })
    }

    /// Appends one frame stamped `timestamp_ns` (ns since 1970; seconds
    /// past 2106 wrap, as the format's 32 bits do). Frames longer than the
    /// snapshot length are cut to it, keeping the original length.
    ///
    /// # Errors
    /// The error of the output.
    pub fn write_frame(&mut self, timestamp_ns: u64, frame: &[u8]) -> io::Result<()> {
        let seconds = (timestamp_ns / 1_000_000_000) as u32;
        let microseconds = (timestamp_ns % 1_000_000_000 / 1_000) as u32;
        let original = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let captured = original.min(SNAPSHOT_LENGTH);
        let mut record = Vec::with_capacity(RECORD_HEADER_BYTES + frame.len());
        for field in [seconds, microseconds, captured, original] {
            record.extend_from_slice(&field.to_le_bytes());
        }
        record.extend_from_slice(frame.get(..captured as usize).unwrap_or(frame));
        self.output.write_all(&record)
    }

    /// Flushes the output.
    ///
    /// # Errors
    /// The error of the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.output.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
    }

    #[test]
    fn header_and_records_have_the_documented_layout() {
        let mut writer = PcapWriter::new(Vec::new()).expect("in memory");
        writer
            .write_frame(1_700_000_000_123_456_789, &[0xab; 60])
            .expect("in memory");
        writer.write_frame(5, &[1; 14]).expect("in memory");
        let bytes = writer.output;
        assert_eq!(bytes.len(), 24 + 16 + 60 + 16 + 14);
        assert_eq!(word(&bytes, 0), MAGIC);
        assert_eq!(bytes[4..8], [2, 0, 4, 0]);
        assert_eq!((word(&bytes, 16), word(&bytes, 20)), (65_535, 1));
        let record = &bytes[24..];
        assert_eq!((word(record, 0), word(record, 4)), (1_700_000_000, 123_456));
        assert_eq!((word(record, 8), word(record, 12)), (60, 60));
        assert!(record[16..76].iter().all(|&byte| byte == 0xab));
        assert_eq!((word(&record[76..], 0), word(&record[76..], 8)), (0, 14));
    }
}
