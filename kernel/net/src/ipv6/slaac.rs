//! Stateless address autoconfiguration (RFC 4862 5.5) with
//! stable-privacy interface identifiers (RFC 7217).
//!
//! The interface identifier of an address in a /64 is the first 64 bits
//! of F(Prefix, Net_Iface, DAD_Counter, secret_key), F being SipHash-2-4
//! keyed with the stack's stable-privacy secret (a keyed PRF, as RFC 7217
//! 5 asks), Net_Iface the interface's name, and no Network_ID. The same
//! prefix on the same interface gives the same address for as long as
//! the secret lives; other prefixes and interfaces give unrelated ones,
//! and nothing of the MAC shows. Identifiers RFC 5453 reserves are
//! skipped. The link-local address is formed the same way from fe80::/64.
//!
//! An advertised prefix forms an address when it is autonomous, /64 and
//! valid; an address it formed before gets its lifetimes refreshed under
//! the two-hour rule that keeps a forged advertisement from ending it
//! early (RFC 4862 5.5.3 e).

use core::net::Ipv6Addr;

use siphasher::sip::SipHasher24;
use wire::ipv6::mask;
use wire::nd::PrefixInformation;

use super::address::{AddressState, FOREVER, Ipv6InterfaceAddress, Origin};
use super::router::expiry;
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;

/// The prefix length stable identifiers complete (Ethernet: 64 bits).
pub const PREFIX_LENGTH: u8 = 64;
/// Addresses tried after duplicates before giving up (RFC 7217 6).
pub const IDGEN_RETRIES: u8 = 3;
/// The two hours of RFC 4862 5.5.3 e.
const TWO_HOURS_NS: u64 = 2 * 3600 * 1_000_000_000;

/// The stable-privacy address in `prefix` (a /64) for the interface
/// named `interface` after `dad_counter` duplicates.
pub fn stable_address(
    secret: &[u8; 16],
    prefix: Ipv6Addr,
    interface: &str,
    dad_counter: u8,
) -> Ipv6Addr {
    let network = u128::from(mask(prefix, PREFIX_LENGTH));
    let mut counter = dad_counter;
    loop {
        let identifier = identifier(secret, prefix, interface, counter);
        if !reserved(identifier) || counter == u8::MAX {
            return Ipv6Addr::from(network | u128::from(identifier));
        }
        counter += 1;
    }
}

fn identifier(secret: &[u8; 16], prefix: Ipv6Addr, interface: &str, counter: u8) -> u64 {
    let mut input = [0u8; 8 + 32 + 2];
    input[..8].copy_from_slice(&prefix.octets()[..8]);
    let name = interface.as_bytes();
    let length = name.len().min(32);
    input[8..8 + length].copy_from_slice(&name[..length]);
    // The name's length ends it, so names cannot run into the counter.
    input[8 + length] = length as u8;
    input[9 + length] = counter;
    SipHasher24::new_with_key(secret).hash(&input[..10 + length])
}

/// Identifiers no address may have (RFC 5453): the subnet-router anycast,
/// the reserved subnet anycasts, and the proxy MIPv6 range.
fn reserved(identifier: u64) -> bool {
    identifier == 0
        || identifier >= 0xfdff_ffff_ffff_ff80
        || (0x0200_5eff_fe00_0000..=0x0200_5eff_fe00_ffff).contains(&identifier)
}

impl IpLayer {
    /// An autonomous prefix advertised on `index` (RFC 4862 5.5.3).
    pub(crate) fn slaac_prefix(&mut self, index: InterfaceIndex, prefix: &PrefixInformation) {
        let usable = prefix.prefix_length == PREFIX_LENGTH && prefix.preferred_s <= prefix.valid_s;
        let Some(interface) = self.interface(index).filter(|_| usable) else {
            return;
        };
        let network = mask(prefix.prefix, PREFIX_LENGTH);
        let formed = interface
            .ipv6
            .addresses
            .iter()
            .find(|a| a.origin == Origin::Slaac && mask(a.address, PREFIX_LENGTH) == network);
        let now = self.now_ns;
        let preferred_until = expiry(now, prefix.preferred_s);
        let received = expiry(now, prefix.valid_s);
        if let Some(formed) = formed.copied() {
            self.refresh_lifetimes(index, formed, preferred_until, received);
            return;
        }
        if prefix.valid_s == 0 {
            return;
        }
        let name = interface.name.clone();
        let entry = Ipv6InterfaceAddress {
            address: stable_address(&self.v6.secret, network, &name, 0),
            prefix_length: PREFIX_LENGTH,
            origin: Origin::Slaac,
            state: AddressState::Preferred,
            preferred_until_ns: preferred_until,
            valid_until_ns: received,
            dad_counter: 0,
            nonce: [0; 6],
        };
        self.add_address6(index, entry);
    }

    fn refresh_lifetimes(
        &mut self,
        index: InterfaceIndex,
        formed: Ipv6InterfaceAddress,
        preferred_until: u64,
        received: u64,
    ) {
        let now = self.now_ns;
        let remaining = formed.valid_until_ns.saturating_sub(now);
        let valid_until =
            if received.saturating_sub(now) > TWO_HOURS_NS || received > formed.valid_until_ns {
                received
            } else if remaining <= TWO_HOURS_NS {
                formed.valid_until_ns
            } else {
                now.saturating_add(TWO_HOURS_NS)
            };
        let Some(entry) = self
            .interface_mut(index)
            .and_then(|i| i.ipv6.find_mut(formed.address))
        else {
            return;
        };
        entry.valid_until_ns = valid_until;
        entry.preferred_until_ns = preferred_until.min(valid_until);
        if entry.state == AddressState::Deprecated && entry.preferred_until_ns > now {
            entry.state = AddressState::Preferred;
        }
    }
}

/// Whether `until` is a lifetime that ends.
pub(crate) fn finite(until: u64) -> Option<u64> {
    (until != FOREVER).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    #[test]
    fn stable_addresses_keep_the_prefix_and_differ_by_every_input() {
        let secret = [1u8; 16];
        let prefix = ip("2001:db8:1:2::");
        let address = stable_address(&secret, prefix, "vif0", 0);
        assert_eq!(mask(address, 64), prefix);
        assert_eq!(
            address,
            stable_address(&secret, prefix, "vif0", 0),
            "stable"
        );
        let others = [
            stable_address(&secret, ip("2001:db8:1:3::"), "vif0", 0),
            stable_address(&secret, prefix, "vif1", 0),
            stable_address(&secret, prefix, "vif0", 1),
            stable_address(&[2u8; 16], prefix, "vif0", 0),
        ];
        for other in others {
            assert_ne!(u128::from(other) as u64, u128::from(address) as u64);
        }
        let with_host_bits = stable_address(&secret, ip("2001:db8:1:2:ffff::1"), "vif0", 0);
        assert_eq!(with_host_bits, address, "only the /64 counts");
    }

    #[test]
    fn reserved_identifiers_are_never_formed() {
        assert!(reserved(0));
        assert!(reserved(0xfdff_ffff_ffff_ff80));
        assert!(reserved(u64::MAX));
        assert!(reserved(0x0200_5eff_fe00_1234));
        assert!(!reserved(0x0200_5eff_fe01_0000));
        assert!(!reserved(1));
        for counter in 0..200 {
            let address = stable_address(&[9; 16], ip("fe80::"), "vif0", counter);
            assert!(!reserved(u128::from(address) as u64));
        }
    }
}
