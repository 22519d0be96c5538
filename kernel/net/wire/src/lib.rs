//! Wire formats of the net faction: checksums and typed header views.
//!
//! Everything here is a pure function of bytes: no kernel, no allocation,
//! no unsafe. Packets from the link are untrusted, so every `parse` checks
//! lengths (and checksums, where the header has one) before it reads a
//! field, and returns a plain `Copy` struct; no input can make it panic.
//! `write` methods fill a buffer the caller sized, so they may index.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod arp;
pub mod checksum;
mod error;
pub mod ethernet;
pub mod extension;
pub mod icmp;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod mld;
pub mod nd;
pub mod udp;

pub use arp::{ArpOperation, ArpPacket};
pub use checksum::{Checksum, checksum, complete_partial};
pub use error::WireError;
pub use ethernet::{EtherType, EthernetHeader, MacAddress};
pub use icmp::{IcmpKind, IcmpMessage};
pub use icmpv6::{Icmpv6Kind, Icmpv6Message};
pub use ipv4::Ipv4Header;
pub use ipv6::Ipv6Header;
pub use nd::{NdMessage, NdOption, NdPacket};
pub use udp::UdpHeader;
