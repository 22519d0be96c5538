//! The kernel command line, copied out of the loader's memory at boot.
//!
//! The copy lives in a fixed buffer of [`COMMAND_LINE_CAPACITY`] bytes
//! inside [`BootInfo`](super::BootInfo), so it survives the loader's
//! structures being reused as heap. A longer line is cut at a character
//! boundary; bytes that are not UTF-8 end the line. Either case is
//! recorded as a [`CommandLineProblem`] for the boot code to report.

use core::fmt;

/// How many bytes of command line are kept.
pub const COMMAND_LINE_CAPACITY: usize = 1024;

/// Why the command line differs from what the loader passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandLineProblem {
    /// The loader's line was `length` bytes (at least, when it had no
    /// terminator within the scanned range) and was cut.
    Truncated {
        /// The loader's length in bytes.
        length: usize,
    },
    /// The line holds bytes that are not UTF-8 at offset `at`; the copy
    /// stops there.
    NotUtf8 {
        /// Offset of the first bad byte.
        at: usize,
    },
    /// The loader's pointer does not point at readable memory.
    Unreadable {
        /// The physical address the loader gave.
        address: u64,
    },
}

impl fmt::Display for CommandLineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { length } => write!(
                f,
                "command line of {length} bytes is longer than {COMMAND_LINE_CAPACITY}: \
                 truncated (parameters past the cut are ignored)"
            ),
            Self::NotUtf8 { at } => {
                write!(
                    f,
                    "command line is not UTF-8 at byte {at}: ignored from there"
                )
            }
            Self::Unreadable { address } => {
                write!(
                    f,
                    "command line at {address:#x} is not readable: using an empty one"
                )
            }
        }
    }
}

/// The command line: at most [`COMMAND_LINE_CAPACITY`] bytes of UTF-8.
#[derive(Clone, Copy)]
pub struct CommandLine {
    bytes: [u8; COMMAND_LINE_CAPACITY],
    length: usize,
    problem: Option<CommandLineProblem>,
}

impl CommandLine {
    /// The empty command line (the loader passed none).
    pub const fn empty() -> Self {
        Self {
            bytes: [0; COMMAND_LINE_CAPACITY],
            length: 0,
            problem: None,
        }
    }

    /// An empty command line recording that the loader's was unreadable.
    pub const fn unreadable(address: u64) -> Self {
        Self {
            problem: Some(CommandLineProblem::Unreadable { address }),
            ..Self::empty()
        }
    }

    /// Copies the loader's bytes up to the first NUL (or all of `raw` when it
    /// holds none: the caller's scan stopped, and the length reported in a
    /// [`CommandLineProblem::Truncated`] is then a lower bound).
    pub fn from_loader(raw: &[u8]) -> Self {
        let raw = raw.split(|&byte| byte == 0).next().unwrap_or_default();
        let candidate = &raw[..raw.len().min(COMMAND_LINE_CAPACITY)];
        let cut = raw.len() > COMMAND_LINE_CAPACITY;
        let (length, mut problem) = match core::str::from_utf8(candidate) {
            Ok(_) => (candidate.len(), None),
            // A character split by the cut is not an encoding error.
            Err(error) if cut && error.error_len().is_none() => (error.valid_up_to(), None),
            Err(error) => (
                error.valid_up_to(),
                Some(CommandLineProblem::NotUtf8 {
                    at: error.valid_up_to(),
                }),
            ),
        };
        if cut && problem.is_none() {
            problem = Some(CommandLineProblem::Truncated { length: raw.len() });
        }
        let mut line = Self {
            problem,
            ..Self::empty()
        };
        line.bytes[..length].copy_from_slice(&candidate[..length]);
        line.length = length;
        line
    }

    /// The command line.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.length]).expect("from_loader keeps only UTF-8")
    }

    /// What differs from the loader's line, if anything.
    pub const fn problem(&self) -> Option<CommandLineProblem> {
        self.problem
    }
}

impl Default for CommandLine {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandLine")
            .field("text", &self.as_str())
            .field("problem", &self.problem)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec;

    #[test]
    fn copies_up_to_the_terminator() {
        let line = CommandLine::from_loader(b"test=threads log=debug\0garbage");
        assert_eq!(line.as_str(), "test=threads log=debug");
        assert_eq!(line.problem(), None);
        assert_eq!(CommandLine::from_loader(b"").as_str(), "");
    }

    #[test]
    fn a_long_line_is_truncated_and_reported() {
        let mut raw = vec![b'a'; COMMAND_LINE_CAPACITY + 10];
        raw.push(0);
        let line = CommandLine::from_loader(&raw);
        assert_eq!(line.as_str().len(), COMMAND_LINE_CAPACITY);
        let expected = CommandLineProblem::Truncated {
            length: COMMAND_LINE_CAPACITY + 10,
        };
        assert_eq!(line.problem(), Some(expected));
    }

    #[test]
    fn truncation_never_splits_a_character() {
        let mut raw = vec![b'a'; COMMAND_LINE_CAPACITY - 1];
        raw.extend_from_slice("é and more".as_bytes());
        let line = CommandLine::from_loader(&raw);
        assert_eq!(line.as_str().len(), COMMAND_LINE_CAPACITY - 1);
        assert!(matches!(
            line.problem(),
            Some(CommandLineProblem::Truncated { .. })
        ));
    }

    #[test]
    fn bytes_that_are_not_utf8_end_the_line() {
        let line = CommandLine::from_loader(b"ip=10.0.2.15 \xff\xfe gw=1\0");
        assert_eq!(line.as_str(), "ip=10.0.2.15 ");
        assert_eq!(line.problem(), Some(CommandLineProblem::NotUtf8 { at: 13 }));
        let line = CommandLine::from_loader(b"ends in half a char \xc3");
        assert_eq!(line.problem(), Some(CommandLineProblem::NotUtf8 { at: 20 }));
    }

    #[test]
    fn unreadable_is_empty_and_reported() {
        let line = CommandLine::unreadable(0xdead_0000);
        assert_eq!(line.as_str(), "");
        assert!(line.problem().unwrap().to_string().contains("0xdead0000"));
    }
}
