//! The DHCPv4 client of the net faction (sans-IO, RFC 2131 and RFC 2132).
//!
//! The client is a pure state machine: it never reads a clock, opens a
//! socket or allocates. Time comes in as `now_ns` (monotonic nanoseconds),
//! messages go in and out as byte slices. The kernel glue
//!
//! 1. sends every [`Outgoing`] that [`DhcpClient::poll_transmit`] writes as
//!    one UDP datagram from port 68 to port 67, with the source and
//!    destination addresses the `Outgoing` names;
//! 2. feeds every UDP payload that arrives on port 68 to
//!    [`DhcpClient::receive`];
//! 3. keeps one timer armed at [`DhcpClient::next_deadline`]; when it fires
//!    it calls [`DhcpClient::on_timer`], then drains `poll_transmit`;
//! 4. configures the interface on [`Event::Bound`] and [`Event::Renewed`],
//!    and removes the address on [`Event::Lost`].
//!
//! Packets are untrusted: nothing here panics on any bytes. Messages that
//! cannot be parsed are counted in [`DhcpStats::malformed`], well-formed
//! ones that are not for us (wrong xid, hardware address, opcode or state)
//! in [`DhcpStats::ignored`].
//!
//! Left out: INIT-REBOOT (a restart always begins with DISCOVER), probing
//! the offered address with ARP and declining it, option overload (52),
//! relay agents, and DHCPINFORM.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

mod client;
mod lease;
pub mod message;
mod random;
mod timing;

#[cfg(test)]
mod tests;

pub use client::{ClientConfig, DhcpClient, DhcpStats, Event, MINIMUM_BUFFER, Outgoing, State};
pub use lease::Lease;

use core::fmt;

/// Why a DHCP message could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The output buffer cannot hold the message.
    BufferTooSmall,
    /// The message is shorter than the fixed BOOTP header and cookie.
    Truncated,
    /// The four bytes after the fixed header are not the DHCP magic cookie.
    BadCookie,
    /// An option's length byte runs past the end of the message.
    BadOptionLength,
    /// Option 53 (DHCP message type) is absent or holds an unknown value.
    BadMessageType,
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::BufferTooSmall => "buffer too small for the DHCP message",
            Error::Truncated => "DHCP message shorter than its fixed header",
            Error::BadCookie => "DHCP magic cookie missing",
            Error::BadOptionLength => "DHCP option length runs past the message",
            Error::BadMessageType => "DHCP message type missing or unknown",
        };
        formatter.write_str(text)
    }
}

impl core::error::Error for Error {}
