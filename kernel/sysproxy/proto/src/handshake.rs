//! The handshake: the first frame each way, before any call.
//!
//! The client says [`Hello`]: the protocol's magic, the version it
//! speaks and, when the server wants one, the key. The server answers
//! [`Greeting::Welcome`] with its limits, or [`Greeting::Refused`] and
//! hangs up. The key is compared in constant time ([`key_matches`]), so
//! that the time of a refusal says nothing about how much of a guess was
//! right.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::types::{Bytes, ForkToken};

/// The protocol's magic: the first bytes of every client's first body.
pub const MAGIC: [u8; 4] = *b"AKsp";

/// The version of the protocol this crate speaks. A server refuses
/// other versions: the call table's numbers and types are the version.
pub const VERSION: u16 = 2;

/// The client's first frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`MAGIC`].
    pub magic: [u8; 4],
    /// [`VERSION`] of the client.
    pub version: u16,
    /// The key, when the server has one.
    pub key: Option<Bytes>,
    /// A child of `fork` taking over what its parent prepared with the
    /// `fork` call; none for a new client.
    pub fork: Option<ForkToken>,
}

/// How long a prepared fork waits for its child to connect.
pub const FORK_CLAIM_SECONDS: u64 = 30;

impl Hello {
    /// This crate's hello, with `key`.
    pub fn new(key: Option<&[u8]>) -> Self {
        Self {
            magic: MAGIC,
            version: VERSION,
            key: key.map(|key| Bytes(key.into())),
            fork: None,
        }
    }

    /// The hello of a child of `fork` presenting `token`.
    pub fn forked(key: Option<&[u8]>, token: ForkToken) -> Self {
        Self {
            fork: Some(token),
            ..Self::new(key)
        }
    }
}

/// The server's first frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Greeting {
    /// The client may call; these are its limits.
    Welcome(Limits),
    /// The client may not; the server hangs up.
    Refused(HandshakeRefusal),
}

/// What one client may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The server's protocol version.
    pub version: u16,
    /// The longest frame body, either way.
    pub max_frame: u32,
    /// Calls in flight (sent and not yet answered).
    pub max_in_flight: u32,
    /// Bytes of requests in flight.
    pub max_bytes: u32,
    /// Open descriptors.
    pub max_descriptors: u32,
}

/// Why the server refused a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeRefusal {
    /// The first frame is not a hello.
    Malformed,
    /// The server speaks another version (this one).
    Version(u16),
    /// The key is missing or wrong.
    Key,
    /// The server has as many clients as it takes.
    Busy,
    /// The fork token is unknown, used or expired.
    Fork,
}

/// Whether `offered` is `expected`, in time independent of where they
/// differ. With no key expected every client is let in.
pub fn key_matches(expected: Option<&[u8]>, offered: Option<&[u8]>) -> bool {
    match (expected, offered) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(expected), Some(offered)) => bool::from(expected.ct_eq(offered)),
    }
}

/// The server's verdict on a client's first frame body.
///
/// # Errors
/// The [`HandshakeRefusal`] to send before hanging up.
pub fn check(body: &[u8], key: Option<&[u8]>) -> Result<Hello, HandshakeRefusal> {
    let hello: Hello = crate::frame::decode(body).map_err(|_| HandshakeRefusal::Malformed)?;
    if hello.magic != MAGIC {
        return Err(HandshakeRefusal::Malformed);
    }
    if hello.version != VERSION {
        return Err(HandshakeRefusal::Version(VERSION));
    }
    let offered = hello.key.as_ref().map(|key| key.0.as_slice());
    if !key_matches(key, offered) {
        return Err(HandshakeRefusal::Key);
    }
    Ok(hello)
}
