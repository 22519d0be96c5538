//! Domain names: from text, to and from the wire, with compression.
//!
//! A [`Name`] is kept in wire form (length-prefixed labels ending with the
//! root's zero byte), ASCII letters folded to lower case, so that equality
//! is the case-insensitive comparison of RFC 1035 §2.3.3 (and RFC 4343) and
//! a name can key a cache. It is `Copy` and never allocates.
//!
//! Reading a name from a message follows compression pointers (RFC 1035
//! §4.1.4) under two rules that make every read end: a pointer must point
//! strictly before the start of the labels it was found in (so the chain
//! of starting offsets falls and cannot loop), and the name read must stay
//! within 255 bytes.

use core::fmt;

use crate::Error;

/// The longest name in wire form, the root's zero byte included.
pub const MAX_NAME: usize = 255;
/// The longest label.
pub const MAX_LABEL: usize = 63;
/// The two top bits of a length byte that mark a compression pointer.
const POINTER: u8 = 0xc0;

/// Why a text name cannot be asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// No labels (`""` or `"."`).
    Empty,
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A label longer than 63 bytes.
    LabelTooLong,
    /// Longer than 255 bytes in wire form.
    TooLong,
    /// A byte other than a letter, digit, `-` or `_`.
    BadCharacter,
}

impl fmt::Display for NameError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            NameError::Empty => "empty name",
            NameError::EmptyLabel => "empty label in name",
            NameError::LabelTooLong => "label longer than 63 bytes",
            NameError::TooLong => "name longer than 255 bytes",
            NameError::BadCharacter => "name holds a character hosts cannot have",
        };
        formatter.write_str(text)
    }
}

impl core::error::Error for NameError {}

/// A domain name in wire form, lower case.
///
/// Invariant: `bytes[..length]` is a sequence of labels of 1 to 63 bytes,
/// each after its length byte, ending with one zero byte; `length <= 255`.
#[derive(Clone, Copy)]
pub struct Name {
    bytes: [u8; MAX_NAME],
    length: u8,
}

impl Name {
    /// The root name (one zero byte), the start of every name built here.
    const ROOT: Name = Name {
        bytes: [0; MAX_NAME],
        length: 1,
    };

    /// The name of a host, from dotted text (`www.example.org`, a final dot
    /// allowed). Labels hold letters, digits, `-` and `_` (RFC 952 and RFC
    /// 1123 §2.1, plus the underscore of service names).
    ///
    /// # Errors
    /// [`NameError`].
    pub fn from_text(text: &str) -> Result<Name, NameError> {
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Err(NameError::Empty);
        }
        let mut name = Name::ROOT;
        for label in text.split('.') {
            let allowed = |byte: &u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_');
            if !label.bytes().all(|byte| allowed(&byte)) {
                return Err(NameError::BadCharacter);
            }
            name.push_label(label.as_bytes())
                .map_err(|error| match error {
                    Error::NameTooLong => NameError::TooLong,
                    _ if label.is_empty() => NameError::EmptyLabel,
                    _ => NameError::LabelTooLong,
                })?;
        }
        Ok(name)
    }

    /// Reads the name at `offset` of `message`; returns it and the offset
    /// just after it where it starts (after the first pointer, if any).
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadPointer`], [`Error::BadLabel`],
    /// [`Error::NameTooLong`].
    pub fn read(message: &[u8], offset: usize) -> Result<(Name, usize), Error> {
        let mut name = Name::ROOT;
        let mut position = offset;
        let mut segment_start = offset;
        let mut end = None;
        loop {
            let length = *message.get(position).ok_or(Error::Truncated)?;
            match length & POINTER {
                0 if length == 0 => return Ok((name, end.unwrap_or(position + 1))),
                0 => {
                    let label_end = position + 1 + usize::from(length);
                    let label = message.get(position + 1..label_end);
                    name.push_label(label.ok_or(Error::Truncated)?)?;
                    position = label_end;
                }
                POINTER => {
                    let low = *message.get(position + 1).ok_or(Error::Truncated)?;
                    let target = usize::from(length & !POINTER) << 8 | usize::from(low);
                    if target >= segment_start {
                        return Err(Error::BadPointer);
                    }
                    end.get_or_insert(position + 2);
                    segment_start = target;
                    position = target;
                }
                _ => return Err(Error::BadLabel),
            }
        }
    }

    /// Appends one label before the root, folded to lower case.
    fn push_label(&mut self, label: &[u8]) -> Result<(), Error> {
        if label.is_empty() || label.len() > MAX_LABEL {
            return Err(Error::BadLabel);
        }
        let start = usize::from(self.length) - 1;
        let new_length = start + 1 + label.len() + 1;
        if new_length > MAX_NAME {
            return Err(Error::NameTooLong);
        }
        self.bytes[start] = label.len() as u8;
        let text = &mut self.bytes[start + 1..start + 1 + label.len()];
        text.copy_from_slice(label);
        text.make_ascii_lowercase();
        self.bytes[new_length - 1] = 0;
        self.length = new_length as u8;
        Ok(())
    }

    /// The wire form, uncompressed.
    pub fn wire(&self) -> &[u8] {
        &self.bytes[..usize::from(self.length)]
    }

    /// The labels, first to last (the root's empty label left out).
    pub fn labels(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = self.wire();
        core::iter::from_fn(move || {
            let (&length, tail) = rest.split_first()?;
            let label = tail.get(..usize::from(length)).filter(|_| length > 0)?;
            rest = &tail[usize::from(length)..];
            Some(label)
        })
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.wire() == other.wire()
    }
}

impl Eq for Name {}

impl core::hash::Hash for Name {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.wire().hash(state);
    }
}

impl fmt::Display for Name {
    /// Dotted text; bytes outside printable ASCII, dots and backslashes in
    /// a label are written `\DDD` (RFC 1035 §5.1).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, label) in self.labels().enumerate() {
            if index > 0 {
                formatter.write_str(".")?;
            }
            for &byte in label {
                if byte.is_ascii_graphic() && byte != b'.' && byte != b'\\' {
                    write!(formatter, "{}", byte as char)?;
                } else {
                    write!(formatter, "\\{byte:03}")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Name({self})")
    }
}
