//! The addresses of an answer, and the order a caller should try them in.
//!
//! [`order_addresses`] is RFC 6724's destination address selection (§6) as
//! far as it can go without knowing the source address each destination
//! would use:
//!
//! - rule 1, avoid unusable destinations: IPv6 addresses go last while
//!   the stack has no IPv6 route (the caller says so);
//! - rule 6, prefer higher precedence, from the default policy table
//!   (§2.1): `::1` 50, `::/0` 40, IPv4 35, `2002::/16` 30, `2001::/32` 5,
//!   `fc00::/7` 3, `::/96`, `fec0::/10` and `3ffe::/16` 1; so with an IPv6
//!   route a global IPv6 address comes before an IPv4 one;
//! - rule 8, prefer smaller scope (loopback and link-local first);
//! - rule 10, otherwise keep the server's order.
//!
//! Rules 2-5, 7 and 9 compare source addresses and are left out.

use core::net::{IpAddr, Ipv6Addr};

/// Addresses kept per question; more in one answer are dropped.
pub const MAX_ADDRESSES: usize = 8;

/// Up to [`MAX_ADDRESSES`] distinct addresses, in the server's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressList {
    addresses: [IpAddr; MAX_ADDRESSES],
    length: u8,
}

impl Default for AddressList {
    fn default() -> Self {
        Self {
            addresses: [IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED); MAX_ADDRESSES],
            length: 0,
        }
    }
}

impl AddressList {
    /// Adds `address` unless it is there already or the list is full.
    pub fn push(&mut self, address: IpAddr) {
        let length = usize::from(self.length);
        if length < MAX_ADDRESSES && !self.as_slice().contains(&address) {
            self.addresses[length] = address;
            self.length += 1;
        }
    }

    /// The addresses.
    pub fn as_slice(&self) -> &[IpAddr] {
        &self.addresses[..usize::from(self.length)]
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }
}

/// Sorts `addresses` in the order of RFC 6724 (see the module's rules);
/// `ipv6_usable` is whether the stack has a route for IPv6 at all.
pub fn order_addresses(addresses: &mut [IpAddr], ipv6_usable: bool) {
    addresses.sort_by_key(|address| {
        let unusable = address.is_ipv6() && !ipv6_usable;
        (unusable, u8::MAX - precedence(address), scope(address))
    });
}

/// The precedence of the default policy table (RFC 6724 §2.1).
fn precedence(address: &IpAddr) -> u8 {
    let IpAddr::V6(address) = address else {
        return 35;
    };
    if let Some(mapped) = address.to_ipv4_mapped() {
        return precedence(&IpAddr::V4(mapped));
    }
    let segments = address.segments();
    match segments {
        _ if *address == Ipv6Addr::LOCALHOST => 50,
        [0x2002, ..] => 30,
        [0x2001, 0, ..] => 5,
        [first, ..] if first & 0xfe00 == 0xfc00 => 3,
        [0, 0, 0, 0, 0, 0, _, _] => 1,
        [first, ..] if first & 0xffc0 == 0xfec0 => 1,
        [0x3ffe, ..] => 1,
        _ => 40,
    }
}

/// The scope (RFC 6724 §3.1 and §3.2): 2 link-local (loopback included),
/// 5 site-local, 14 global; multicast says its own.
fn scope(address: &IpAddr) -> u8 {
    match address {
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_link_local() => 2,
        IpAddr::V4(_) => 14,
        IpAddr::V6(v6) if v6.is_multicast() => (v6.segments()[0] & 0x000f) as u8,
        IpAddr::V6(v6) if v6.is_loopback() || v6.is_unicast_link_local() => 2,
        IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfec0 => 5,
        IpAddr::V6(_) => 14,
    }
}
