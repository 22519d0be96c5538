//! A lease: the configuration a DHCPACK grants and the times that govern it.
//!
//! Times are absolute monotonic nanoseconds counted from when the client
//! sent the REQUEST that the ACK answers (RFC 2131 §4.4.1), so a slow
//! server shortens the lease rather than stretching it. An infinite lease
//! (lease time 0xffffffff) has every time at `u64::MAX` and never renews.

use crate::message::{MessageView, option};
use crate::timing::seconds_ns;
use core::net::Ipv4Addr;

/// The lease time that means "for ever" (RFC 2131 §3.3).
pub const INFINITE_SECONDS: u32 = 0xffff_ffff;

/// The configuration granted by a server, and when to renew, rebind and stop.
///
/// Invariant: `renew_at_ns <= rebind_at_ns <= expires_at_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Our address (`yiaddr` of the ACK).
    pub address: Ipv4Addr,
    /// From option 1; the classful default (8, 16 or 24) when the option is
    /// absent or not a contiguous mask.
    pub prefix_length: u8,
    /// The first router of option 3.
    pub router: Option<Ipv4Addr>,
    /// The first two name servers of option 6, in the server's order.
    pub dns: [Option<Ipv4Addr>; 2],
    /// The server identifier (option 54): where renewals are unicast.
    pub server: Ipv4Addr,
    /// The lease duration; `u64::MAX` when infinite.
    pub lease_ns: u64,
    /// T1: enter RENEWING; `u64::MAX` when infinite.
    pub renew_at_ns: u64,
    /// T2: enter REBINDING; `u64::MAX` when infinite.
    pub rebind_at_ns: u64,
    /// The address must be given up at this time; `u64::MAX` when infinite.
    pub expires_at_ns: u64,
}

impl Lease {
    /// Whether the lease never expires.
    pub fn is_infinite(&self) -> bool {
        self.lease_ns == u64::MAX
    }

    /// The lease an ACK grants, or `None` if it assigns no usable address
    /// or lacks a lease time (which RFC 2131 §4.3.1 makes mandatory).
    pub(crate) fn from_ack(ack: &MessageView<'_>, server: Ipv4Addr, start_ns: u64) -> Option<Self> {
        let address = ack.header().your_address;
        if !is_assignable(address) {
            return None;
        }
        let seconds = ack.u32_option(option::LEASE_TIME)?;
        let mask = ack.address_option(option::SUBNET_MASK);
        let mut dns = ack.addresses(option::DNS);
        let lease = Self {
            address,
            prefix_length: prefix_length(mask, address),
            router: ack.address_option(option::ROUTER),
            dns: [dns.next(), dns.next()],
            server,
            lease_ns: 0,
            renew_at_ns: 0,
            rebind_at_ns: 0,
            expires_at_ns: 0,
        };
        Some(lease.with_times(ack, seconds, start_ns))
    }

    /// Fills the four times from the lease time and options 58 and 59.
    fn with_times(self, ack: &MessageView<'_>, seconds: u32, start_ns: u64) -> Self {
        if seconds == INFINITE_SECONDS {
            return Self {
                lease_ns: u64::MAX,
                renew_at_ns: u64::MAX,
                rebind_at_ns: u64::MAX,
                expires_at_ns: u64::MAX,
                ..self
            };
        }
        let lease_ns = seconds_ns(seconds);
        let default_rebind = lease_ns - lease_ns / 8;
        let rebind = ack.u32_option(option::REBINDING_TIME).map(seconds_ns);
        let rebind = rebind.unwrap_or(default_rebind).min(lease_ns);
        let renew = ack.u32_option(option::RENEWAL_TIME).map(seconds_ns);
        let renew = renew.unwrap_or(lease_ns / 2).min(rebind);
        Self {
            lease_ns,
            renew_at_ns: start_ns.saturating_add(renew),
            rebind_at_ns: start_ns.saturating_add(rebind),
            expires_at_ns: start_ns.saturating_add(lease_ns),
            ..self
        }
    }
}

/// Whether a server may hand this address to a host: unicast, not zero,
/// loopback, multicast, class E or the limited broadcast.
pub(crate) fn is_assignable(address: Ipv4Addr) -> bool {
    let first = address.octets()[0];
    !(address.is_unspecified() || address.is_loopback() || address.is_multicast() || first >= 240)
}

/// The prefix length of a contiguous mask, else the classful default.
fn prefix_length(mask: Option<Ipv4Addr>, address: Ipv4Addr) -> u8 {
    let contiguous = |bits: u32| bits.leading_ones() + bits.trailing_zeros() == 32;
    match mask.map(u32::from) {
        Some(bits) if contiguous(bits) => bits.leading_ones() as u8,
        _ => class_prefix_length(address),
    }
}

/// RFC 791's class A, B and C network sizes (RFC 2131 leaves the default
/// mask to the client when option 1 is absent).
fn class_prefix_length(address: Ipv4Addr) -> u8 {
    match address.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_masks_give_their_prefix_length() {
        let address = Ipv4Addr::new(10, 1, 2, 3);
        let cases = [
            ([255, 255, 255, 0], 24),
            ([255, 255, 240, 0], 20),
            ([0; 4], 0),
        ];
        for (mask, expected) in cases {
            assert_eq!(prefix_length(Some(Ipv4Addr::from(mask)), address), expected);
        }
        assert_eq!(prefix_length(Some(Ipv4Addr::BROADCAST), address), 32);
    }

    #[test]
    fn absent_or_broken_masks_fall_back_to_the_address_class() {
        let broken = Some(Ipv4Addr::new(255, 0, 255, 0));
        assert_eq!(prefix_length(None, Ipv4Addr::new(10, 0, 0, 1)), 8);
        assert_eq!(prefix_length(broken, Ipv4Addr::new(172, 16, 0, 1)), 16);
        assert_eq!(prefix_length(None, Ipv4Addr::new(192, 168, 1, 9)), 24);
    }

    #[test]
    fn only_unicast_host_addresses_are_assignable() {
        assert!(is_assignable(Ipv4Addr::new(192, 168, 77, 107)));
        for bad in [
            [0, 0, 0, 0],
            [127, 0, 0, 1],
            [224, 0, 0, 1],
            [240, 0, 0, 1],
            [255; 4],
        ] {
            assert!(!is_assignable(Ipv4Addr::from(bad)), "{bad:?}");
        }
    }
}
