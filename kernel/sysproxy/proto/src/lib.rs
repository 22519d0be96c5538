//! The remote system-call protocol (sysproxy): one call table, its
//! frames and its handshake, for the kernel's server and its clients.
//!
//! The rump papers' sysproxy after the design card: a kernel serves its
//! system calls to clients over a byte stream (a Unix socket when hosted,
//! a virtio-console port on bare metal). Both sides use this crate, so
//! they agree by construction:
//!
//! | module | what |
//! | --- | --- |
//! | [`calls`] | the table: every call once, with number, arguments, result |
//! | [`types`] | the values calls carry |
//! | [`frame`] | length-prefixed frames, request and reply headers, the reader |
//! | [`handshake`] | version, magic and key before the first call |
//! | [`errno`] | the errno values of failed calls |
//!
//! The table ([`calls`]) is the one definition: from it come the
//! argument structs (`calls::call::*`), the kernel's [`calls::Handler`]
//! and [`calls::dispatch`], and the client's [`calls::Stubs`]. Encoding
//! is postcard over serde, never by hand. no_std with alloc.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod calls;
pub mod errno;
pub mod frame;
pub mod handshake;
mod table;
pub mod types;

#[cfg(test)]
mod tests;

pub use calls::{Handler, Request, Stubs, TABLE, decode, dispatch};
pub use errno::Errno;
pub use frame::{FrameReader, MAX_DATA, MAX_FRAME, Refusal, Status};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Whether a call may wait for the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Never waits: the server runs it at once.
    Quick,
    /// May wait (for data, a connection, a timeout): a worker runs it.
    Blocking,
}

#[allow(
    non_upper_case_globals,
    reason = "the table writes modes in lower case"
)]
impl Mode {
    /// The table's spelling of [`Mode::Quick`].
    pub const quick: Mode = Mode::Quick;
    /// The table's spelling of [`Mode::Blocking`].
    pub const blocking: Mode = Mode::Blocking;
}

/// One call of the table: what its arguments struct knows of itself.
pub trait Call: Serialize + DeserializeOwned {
    /// Its number.
    const NUMBER: u16;
    /// Its name (the method's).
    const NAME: &'static str;
    /// Whether it may wait.
    const MODE: Mode;
    /// What it returns.
    type Output: Serialize + DeserializeOwned;
}

/// One call as [`TABLE`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Its number.
    pub number: u16,
    /// Its name.
    pub name: &'static str,
    /// Whether it may wait.
    pub mode: Mode,
}

/// The mode of call `number`, or `None` when there is no such call.
pub fn mode_of(number: u16) -> Option<Mode> {
    TABLE
        .iter()
        .find(|entry| entry.number == number)
        .map(|entry| entry.mode)
}
