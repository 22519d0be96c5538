//! Random hypercall: cryptographic-quality random bytes from the host.
//!
//! Sources are RDSEED/RDRAND on bare metal and getrandom(2) when hosted.
//! A clock is never a random source.

use core::fmt;

/// Why no random bytes could be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomError {
    /// The host has no entropy source at all.
    Unavailable,
    /// The source exists but failed repeatedly (e.g. RDRAND returning
    /// carry clear every time).
    SourceFailed,
}

impl fmt::Display for RandomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unavailable => "no entropy source on this host",
            Self::SourceFailed => "the entropy source failed",
        })
    }
}

impl core::error::Error for RandomError {}

/// Random hypercalls.
pub trait Random {
    /// Fills `buffer` with random bytes fit for keys and sequence numbers.
    /// *May block* until the host's source is ready.
    ///
    /// # Errors
    /// See [`RandomError`]; `buffer` is left in an unspecified state.
    fn random_fill(&self, buffer: &mut [u8]) -> Result<(), RandomError>;
}
