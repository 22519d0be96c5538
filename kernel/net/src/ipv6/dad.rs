//! Duplicate Address Detection (RFC 4862 5.4): a new address sends its
//! probes, waits one retransmit time after the last, and is used only if
//! nobody claimed it meanwhile.
//!
//! The first probe waits a random time up to a second (RFC 4862 5.4.2,
//! so that interfaces coming up together do not probe at once); each
//! carries a nonce so that our own probe looped back is not taken for
//! another node's (RFC 7527). A conflict is logged on one line naming the
//! interface, the address and who holds it. A stable-privacy address
//! (link-local or SLAAC) then tries the next identifier, up to
//! [`IDGEN_RETRIES`] times (RFC 7217 6); a configured one is left
//! `Duplicate` and never used.

use core::net::Ipv6Addr;

use log::{info, warn};
use wire::MacAddress;

use super::address::{AddressState, Ipv6InterfaceAddress, Origin};
use super::slaac::{IDGEN_RETRIES, stable_address};
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;

/// The longest random wait before an address's first probe.
const MAX_FIRST_DELAY_NS: u64 = 1_000_000_000;

impl IpLayer {
    /// Starts DAD for `address` on `index` (or, with DAD off, makes it
    /// usable at once).
    pub(crate) fn start_dad(&mut self, index: InterfaceIndex, address: Ipv6Addr) {
        let probes = self.v6.config.dad_transmits;
        let delay = self.v6.random.below(MAX_FIRST_DELAY_NS);
        let nonce = self.v6.random.next_u64().to_le_bytes();
        let now = self.now_ns;
        let Some(entry) = self
            .interface_mut(index)
            .and_then(|i| i.ipv6.find_mut(address))
        else {
            return;
        };
        entry.nonce.copy_from_slice(&nonce[..6]);
        entry.state = AddressState::Tentative {
            probes_left: probes,
            next_ns: now.saturating_add(delay),
        };
        if probes == 0 {
            self.address_ready(index, address);
        }
    }

    /// Sends the probes due on `index` and ends the checks that are over.
    pub(crate) fn dad_timers(&mut self, index: InterfaceIndex) {
        let now = self.now_ns;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let retransmit = interface.ipv6.retransmit_ns;
        let mut probes = alloc::vec::Vec::new();
        let mut ready = alloc::vec::Vec::new();
        for entry in interface.ipv6.addresses.iter_mut() {
            let AddressState::Tentative {
                probes_left,
                next_ns,
            } = &mut entry.state
            else {
                continue;
            };
            if *next_ns > now {
                continue;
            }
            if *probes_left == 0 {
                ready.push(entry.address);
                continue;
            }
            *probes_left -= 1;
            *next_ns = now.saturating_add(retransmit);
            probes.push((entry.address, entry.nonce));
        }
        for (address, nonce) in probes {
            self.send_dad_probe(index, address, nonce);
        }
        for address in ready {
            self.address_ready(index, address);
        }
    }

    /// DAD passed: the address is used from now on.
    fn address_ready(&mut self, index: InterfaceIndex, address: Ipv6Addr) {
        let now = self.now_ns;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let name = interface.name.clone();
        let Some(entry) = interface.ipv6.find_mut(address) else {
            return;
        };
        entry.state = match entry.preferred_until_ns > now {
            true => AddressState::Preferred,
            false => AddressState::Deprecated,
        };
        let shown = *entry;
        info!("{name} has {shown}");
        if shown.origin == Origin::LinkLocal {
            self.start_router_solicitation(index);
            self.start_advertising(index);
        }
    }

    /// Another node holds `address` (a tentative address of `index`):
    /// say so, then try the next stable identifier or give it up.
    pub(crate) fn dad_conflict(
        &mut self,
        index: InterfaceIndex,
        address: Ipv6Addr,
        holder: Option<MacAddress>,
    ) {
        self.v6.nd_stats.dad_conflicts += 1;
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let name = interface.name.clone();
        let Some(entry) = interface.ipv6.find_mut(address) else {
            return;
        };
        match holder {
            Some(mac) => warn!(
                "{name}: duplicate address {address} detected: {mac} holds it; the address is not used"
            ),
            None => warn!(
                "{name}: duplicate address {address} detected: another node is claiming it; the address is not used"
            ),
        }
        entry.state = AddressState::Duplicate;
        let replaced = *entry;
        let stable = replaced.origin != Origin::Static && replaced.dad_counter < IDGEN_RETRIES;
        if stable {
            self.next_stable_address(index, &name, replaced);
        }
    }

    /// Replaces a duplicate stable-privacy address with the next
    /// identifier in the same prefix.
    fn next_stable_address(
        &mut self,
        index: InterfaceIndex,
        name: &str,
        old: Ipv6InterfaceAddress,
    ) {
        let counter = old.dad_counter + 1;
        let address = stable_address(&self.v6.secret, old.address, name, counter);
        self.remove_address6(index, old.address);
        let entry = Ipv6InterfaceAddress {
            address,
            dad_counter: counter,
            ..old
        };
        info!("{name}: trying {address} instead");
        self.add_address6(index, entry);
    }
}
