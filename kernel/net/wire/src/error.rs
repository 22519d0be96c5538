//! Why bytes from the wire do not form the header they claim to be.

use core::fmt;

/// A malformed header. Each variant names what was wrong, for counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than the header (or its stated length) needs.
    Truncated,
    /// A version, hardware type or length field with an unsupported value.
    Unsupported,
    /// A length field that contradicts the bytes present.
    BadLength,
    /// The checksum does not verify.
    BadChecksum,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "truncated header",
            Self::Unsupported => "unsupported header field",
            Self::BadLength => "inconsistent length field",
            Self::BadChecksum => "bad checksum",
        })
    }
}

impl core::error::Error for WireError {}

/// Reads a big-endian u16 at `at`; the caller checked the length.
pub(crate) fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// Reads four bytes at `at` as an address; the caller checked the length.
pub(crate) fn address(bytes: &[u8], at: usize) -> core::net::Ipv4Addr {
    core::net::Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3])
}
