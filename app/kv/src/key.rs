//! Keys as memcached's text protocol allows them: checked once, then typed.

use core::fmt;

/// The longest key memcached accepts (`KEY_MAX_LENGTH`).
pub const KEY_LENGTH_LIMIT: usize = 250;

/// A key known to be 1 to 250 bytes with no space, NUL, CR or LF.
///
/// Invariant: only [`Key::new`] builds one from unchecked bytes; the
/// crate builds others only from bytes that were a `Key` before.
/// The text protocol separates tokens with spaces and ends lines with
/// `\r\n`, so such bytes could never round-trip through `get`. Other
/// control bytes are allowed as memcached 1.6 allows them (its tokenizer
/// splits on spaces alone): Debian's memaslap sends keys that begin with
/// bytes 0x10-0x1f. Bytes of 0x80 and above are allowed (UTF-8 keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key<'a>(pub(crate) &'a [u8]);

/// Why bytes are not a [`Key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No bytes at all.
    Empty,
    /// More than [`KEY_LENGTH_LIMIT`] bytes.
    TooLong,
    /// A space, NUL, CR or LF.
    ForbiddenByte,
}

impl<'a> Key<'a> {
    /// Checks `bytes` against memcached's rules for keys.
    pub fn new(bytes: &'a [u8]) -> Result<Key<'a>, KeyError> {
        if bytes.is_empty() {
            Err(KeyError::Empty)
        } else if bytes.len() > KEY_LENGTH_LIMIT {
            Err(KeyError::TooLong)
        } else if bytes.iter().any(|byte| b" \0\r\n".contains(byte)) {
            Err(KeyError::ForbiddenByte)
        } else {
            Ok(Key(bytes))
        }
    }

    /// The key's bytes.
    pub fn as_bytes(self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            KeyError::Empty => "empty key",
            KeyError::TooLong => "key longer than 250 bytes",
            KeyError::ForbiddenByte => "key holds a space, NUL, CR or LF",
        })
    }
}

impl core::error::Error for KeyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_printable_control_and_high_bytes_up_to_250() {
        assert!(Key::new(b"user:42").is_ok());
        // memaslap's keys, as memcached stores them.
        assert!(Key::new(b"\x10p\x10\x10\x10\x10\x10\x10v.GZOF").is_ok());
        assert!(Key::new(b"a\tb\x7f").is_ok());
        assert!(Key::new("clé".as_bytes()).is_ok());
        assert!(Key::new(&[b'k'; KEY_LENGTH_LIMIT]).is_ok());
    }

    #[test]
    fn rejects_empty_long_space_and_control() {
        assert_eq!(Key::new(b""), Err(KeyError::Empty));
        assert_eq!(Key::new(&[b'k'; 251]), Err(KeyError::TooLong));
        for bad in [&b"a b"[..], b"a\r", b"\0", b"a\nb"] {
            assert_eq!(Key::new(bad), Err(KeyError::ForbiddenByte));
        }
    }
}
