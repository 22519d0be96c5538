//! Wire formats of the net faction: checksums and typed header views.
//!
//! Everything here is a pure function of bytes: no kernel, no allocation,
//! no unsafe. Packets from the link are untrusted, so every view checks
//! lengths when it is made and hands out fields only through accessors;
//! nothing here can panic on any input.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod checksum;

pub use checksum::{Checksum, checksum};
