//! The virtio-net header: a packet's offloads at a device boundary.
//!
//! The virtio-net header (virtio 1.1 §5.1.6): a packet's offloads where
//! the stack meets a device that takes them, read from the device's
//! frames and written for ours. Linux's tap speaks it too (`IFF_VNET_HDR`,
//! the 10-byte legacy layout), so both the virtio-net driver and the
//! hosted virtual NICs use it.
//!
//! Little-endian fields: `flags`, `gso_type`, `hdr_len`, `gso_size`,
//! `csum_start`, `csum_offset` and, on modern devices or with merged
//! buffers, `num_buffers`. What the device writes is untrusted:
//! [`Header::check_received`] refuses a header that points outside its
//! frame or asks for segmentation without a size.

use crate::buffer::PacketBuffer;

/// `flags`: the checksum is partial, from `csum_start`, into `csum_offset`.
pub const NEEDS_CSUM: u8 = 1;
/// `flags`: the device checked the checksum.
pub const DATA_VALID: u8 = 2;
/// `gso_type`: no segmentation.
pub const GSO_NONE: u8 = 0;
/// `gso_type`: TCP over IPv4.
pub const GSO_TCPV4: u8 = 1;
/// `gso_type`: TCP over IPv6.
pub const GSO_TCPV6: u8 = 4;
/// `gso_type`: the ECN bit, beside a type.
pub const GSO_ECN: u8 = 0x80;

/// Bytes of the legacy header (no `num_buffers`), as Linux's tap uses.
pub const LEGACY_LENGTH: usize = 10;
/// Bytes of the modern header (and of the legacy one with merged buffers).
pub const LENGTH: usize = 12;

/// The fields of one header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header {
    /// [`NEEDS_CSUM`], [`DATA_VALID`].
    pub flags: u8,
    /// [`GSO_NONE`], [`GSO_TCPV4`], [`GSO_TCPV6`], with [`GSO_ECN`].
    pub gso_type: u8,
    /// Bytes of headers before the payload of a segmented frame.
    pub header_length: u16,
    /// Payload bytes per segment of a segmented frame.
    pub segment_size: u16,
    /// Where the partial checksum's sum starts.
    pub checksum_start: u16,
    /// Where its field is, from there.
    pub checksum_offset: u16,
    /// Buffers the frame spans (merged buffers only; 1 otherwise).
    pub buffers: u16,
}

/// Why a received header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A partial checksum whose field lies outside the frame.
    ChecksumOutside,
    /// Segmentation asked for with a segment size of 0.
    NoSegmentSize,
}

fn field(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(pair) => u16::from_le_bytes([pair[0], pair[1]]),
        None => 0,
    }
}

impl Header {
    /// Reads a header from the first 10 or 12 `bytes` (`num_buffers` is 1
    /// when the header has no such field).
    pub fn read(bytes: &[u8]) -> Self {
        Self {
            flags: bytes.first().copied().unwrap_or(0),
            gso_type: bytes.get(1).copied().unwrap_or(0),
            header_length: field(bytes, 2),
            segment_size: field(bytes, 4),
            checksum_start: field(bytes, 6),
            checksum_offset: field(bytes, 8),
            buffers: if bytes.len() >= 12 {
                field(bytes, 10)
            } else {
                1
            },
        }
    }

    /// Writes the header into `out` (10 or 12 bytes); `num_buffers` is 0,
    /// as the driver must leave it.
    pub fn write(&self, out: &mut [u8]) {
        let mut bytes = [0u8; 12];
        bytes[0] = self.flags;
        bytes[1] = self.gso_type;
        bytes[2..4].copy_from_slice(&self.header_length.to_le_bytes());
        bytes[4..6].copy_from_slice(&self.segment_size.to_le_bytes());
        bytes[6..8].copy_from_slice(&self.checksum_start.to_le_bytes());
        bytes[8..10].copy_from_slice(&self.checksum_offset.to_le_bytes());
        let length = out.len().min(12);
        out[..length].copy_from_slice(&bytes[..length]);
    }

    /// The header for one of our frames: its offload marks as the device
    /// reads them (partial checksum, segmentation of TCP over IPv4 or
    /// IPv6, as the IP header after the Ethernet one says).
    pub fn for_frame(frame: &PacketBuffer) -> Self {
        let mut header = Self::default();
        if let Some((start, offset)) = frame.partial_checksum() {
            header.flags = NEEDS_CSUM;
            header.checksum_start = u16::try_from(start).unwrap_or(u16::MAX);
            header.checksum_offset = u16::try_from(offset).unwrap_or(u16::MAX);
        }
        let size = frame.segment_size();
        if size > 0 {
            let tcp = usize::from(header.checksum_start);
            let offset_byte = frame.data().get(tcp + 12).copied().unwrap_or(0x50);
            let headers = tcp + usize::from(offset_byte >> 4) * 4;
            let version = crate::offload::ip_version(frame, wire::ethernet::HEADER_LEN);
            header.gso_type = if version == 6 { GSO_TCPV6 } else { GSO_TCPV4 };
            header.segment_size = size;
            header.header_length = u16::try_from(headers).unwrap_or(u16::MAX);
        }
        header
    }

    /// Checks a received header against its frame of `length` bytes.
    ///
    /// # Errors
    /// [`Malformed`] saying what points where it must not.
    pub fn check_received(&self, length: usize) -> Result<(), Malformed> {
        if self.flags & NEEDS_CSUM != 0 {
            let field = usize::from(self.checksum_start) + usize::from(self.checksum_offset);
            if field + 2 > length {
                return Err(Malformed::ChecksumOutside);
            }
        }
        if self.gso_type & !GSO_ECN != GSO_NONE && self.segment_size == 0 {
            return Err(Malformed::NoSegmentSize);
        }
        Ok(())
    }

    /// Whether the stack may skip the transport checksum: the device
    /// checked it, or it is partial (from a host that never computed it,
    /// as Linux takes `NEEDS_CSUM` on receive).
    pub fn vouches(&self) -> bool {
        self.flags & (NEEDS_CSUM | DATA_VALID) != 0
    }

    /// Checks a received header against `frame` (the header stripped) and
    /// marks the frame as the header says: checked, partial (where), and
    /// coalesced (the segment size), for a forwarder (`offload.rs`).
    ///
    /// # Errors
    /// As [`Header::check_received`]; the frame is then to be dropped.
    pub fn apply_received(&self, frame: &mut PacketBuffer) -> Result<(), Malformed> {
        self.check_received(frame.len())?;
        frame.set_checksum_valid(self.vouches());
        if self.flags & NEEDS_CSUM != 0 {
            frame.set_received_partial(self.checksum_start.into(), self.checksum_offset);
        }
        if self.gso_type & !GSO_ECN != GSO_NONE {
            frame.set_segment_size(self.segment_size);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_little_endian() {
        let header = Header {
            flags: NEEDS_CSUM,
            gso_type: GSO_TCPV4,
            header_length: 66,
            segment_size: 1448,
            checksum_start: 34,
            checksum_offset: 16,
            buffers: 0,
        };
        let mut bytes = [0xffu8; 12];
        header.write(&mut bytes);
        assert_eq!(bytes[4..6], 1448u16.to_le_bytes());
        assert_eq!(Header::read(&bytes), header);
        let legacy = Header::read(&bytes[..10]);
        assert_eq!(legacy.buffers, 1, "no num_buffers field: one buffer");
    }

    #[test]
    fn headers_pointing_outside_their_frame_are_refused() {
        let partial = |start, offset| Header {
            flags: NEEDS_CSUM,
            checksum_start: start,
            checksum_offset: offset,
            ..Header::default()
        };
        assert_eq!(partial(34, 16).check_received(54), Ok(()));
        assert_eq!(
            partial(34, 16).check_received(51),
            Err(Malformed::ChecksumOutside)
        );
        assert_eq!(
            partial(u16::MAX, u16::MAX).check_received(60_000),
            Err(Malformed::ChecksumOutside)
        );
        let sizeless = Header {
            gso_type: GSO_TCPV4 | GSO_ECN,
            ..Header::default()
        };
        assert_eq!(sizeless.check_received(9000), Err(Malformed::NoSegmentSize));
        assert!(partial(0, 0).vouches());
        assert!(!Header::default().vouches());
    }

    #[test]
    fn a_burst_says_its_family_in_the_gso_type() {
        let pool = crate::tests::link::pool();
        for (version, ip_length, gso_type) in [(4u8, 20usize, GSO_TCPV4), (6, 40, GSO_TCPV6)] {
            let mut frame = pool.allocate().expect("a buffer");
            let bytes = frame.reset(14 + ip_length + 20 + 100).expect("fits");
            bytes[14] = version << 4;
            bytes[14 + ip_length + 12] = 0x50;
            frame.set_received_partial(14 + ip_length, 16);
            frame.set_segment_size(50);
            let header = Header::for_frame(&frame);
            assert_eq!(header.gso_type, gso_type, "IPv{version}");
            assert_eq!(usize::from(header.header_length), 14 + ip_length + 20);
        }
    }
}
