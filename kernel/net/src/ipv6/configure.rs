//! Turning IPv6 on and off per interface, and configuring it by hand:
//! addresses (ifconfig inet6), the default router (`gw6=`), and the DNS
//! servers the resolver asks for.
//!
//! IPv6 starts on an Ethernet interface when it comes up with IPv6
//! enabled and an MTU of at least 1280: the interface listens to
//! ff02::1, forms its stable-privacy link-local address and checks it
//! (DAD), checks its configured addresses again, and solicits routers
//! once its link-local address is usable. Going down forgets what it
//! learned (formed addresses, neighbors, routers, prefixes, DNS servers)
//! and keeps what was configured, to be checked again next time.

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use wire::ipv6::{MINIMUM_MTU, solicited_node};

use super::Ipv6Config;
use super::address::{AddressState, FOREVER, Ipv6InterfaceAddress, MAX_ADDRESSES, Origin};
use super::router::reachable_ns;
use super::slaac::stable_address;
use crate::interface::{InterfaceIndex, LinkKind};
use crate::ipv4::IpLayer;
use crate::stack::{InterfaceError, Stack};

/// What an address is charged (its slot and its group's).
const ADDRESS_BYTES: usize = core::mem::size_of::<Ipv6InterfaceAddress>()
    + core::mem::size_of::<super::address::Membership>();

impl IpLayer {
    /// Starts IPv6 on `index` if it should run there (see the module
    /// comment).
    pub(crate) fn start_ipv6(&mut self, index: InterfaceIndex) {
        let enabled = self.v6.config.enabled;
        let reachable = reachable_ns(&mut self.v6.random, super::address::BASE_REACHABLE_MS);
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let eligible = interface.spec.kind == LinkKind::Ethernet
            && interface.spec.mtu >= MINIMUM_MTU
            && interface.up;
        if !enabled || !eligible || interface.ipv6.enabled {
            return;
        }
        let ipv6 = &mut interface.ipv6;
        *ipv6 = super::address::InterfaceIpv6 {
            enabled: true,
            addresses: core::mem::take(&mut ipv6.addresses),
            reachable_ns: reachable,
            ..Default::default()
        };
        let name = interface.name.clone();
        let configured: Vec<Ipv6Addr> = ipv6.addresses.iter().map(|a| a.address).collect();
        if self.v6.config.forwarding {
            self.join6(index, wire::ipv6::addresses::ALL_ROUTERS);
        }
        for address in configured {
            self.join6(index, solicited_node(address));
            self.start_dad(index, address);
        }
        let link_local = Ipv6InterfaceAddress {
            address: stable_address(
                &self.v6.secret,
                Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
                &name,
                0,
            ),
            prefix_length: 64,
            origin: Origin::LinkLocal,
            state: AddressState::Duplicate,
            preferred_until_ns: FOREVER,
            valid_until_ns: FOREVER,
            dad_counter: 0,
            nonce: [0; 6],
        };
        self.add_address6(index, link_local);
    }

    /// Stops IPv6 on `index` (it went down).
    pub(crate) fn stop_ipv6(&mut self, index: InterfaceIndex) {
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        if !interface.ipv6.enabled {
            return;
        }
        let formed: Vec<Ipv6Addr> = interface
            .ipv6
            .addresses
            .iter()
            .filter(|a| a.origin != Origin::Static)
            .map(|a| a.address)
            .collect();
        for address in formed {
            self.remove_address6(index, address);
        }
        if let Some(interface) = self.interface_mut(index) {
            let addresses = core::mem::take(&mut interface.ipv6.addresses);
            interface.ipv6 = super::address::InterfaceIpv6 {
                addresses,
                ..Default::default()
            };
        }
        self.v6.neighbors.flush_interface(index);
        self.v6.routes.flush_learned(index);
        self.v6.dns.flush_interface(index);
    }

    /// Adds `entry` to `index` (charged, bounded); when IPv6 runs there,
    /// joins its solicited-node group and starts DAD. False when full or
    /// refused.
    pub(crate) fn add_address6(
        &mut self,
        index: InterfaceIndex,
        entry: Ipv6InterfaceAddress,
    ) -> bool {
        let Some(interface) = self.interfaces.get_mut(usize::from(index.0)) else {
            return false;
        };
        let ipv6 = &mut interface.ipv6;
        let full = ipv6.addresses.len() >= MAX_ADDRESSES;
        if full || ipv6.find(entry.address).is_some() || !self.v6.budget.charge(ADDRESS_BYTES) {
            return false;
        }
        ipv6.addresses.push(entry);
        if ipv6.enabled {
            self.join6(index, solicited_node(entry.address));
            self.start_dad(index, entry.address);
        }
        true
    }

    /// Removes `address` from `index`, leaving its group.
    pub(crate) fn remove_address6(&mut self, index: InterfaceIndex, address: Ipv6Addr) {
        let Some(interface) = self.interface_mut(index) else {
            return;
        };
        let ipv6 = &mut interface.ipv6;
        let before = ipv6.addresses.len();
        ipv6.addresses.retain(|a| a.address != address);
        if ipv6.addresses.len() == before {
            return;
        }
        let running = ipv6.enabled;
        self.v6.budget.release(ADDRESS_BYTES);
        if running {
            self.leave6(index, solicited_node(address));
        }
    }
}

impl Stack {
    /// Sets how IPv6 runs, starting it on the interfaces that are up (and
    /// forwarding as [`Stack::set_forwarding6`] does).
    pub fn set_ipv6_config(&mut self, config: Ipv6Config) {
        let forwarding = self.ip.v6.config.forwarding;
        self.ip.v6.config = Ipv6Config {
            forwarding,
            ..config
        };
        let up: Vec<InterfaceIndex> = self
            .ip
            .interfaces
            .iter()
            .filter(|i| i.up)
            .map(|i| i.index)
            .collect();
        for index in up {
            match config.enabled {
                true => self.ip.start_ipv6(index),
                false => self.ip.stop_ipv6(index),
            }
        }
        self.set_forwarding6(config.forwarding);
    }

    /// Adds a static address (ifconfig inet6 ADDRESS/N), its prefix
    /// on-link.
    ///
    /// # Errors
    /// [`InterfaceError::InvalidAddress`] for addresses no host can have
    /// or a prefix length above 128; [`InterfaceError::TooManyAddresses`].
    pub fn add_address6(
        &mut self,
        index: InterfaceIndex,
        address: Ipv6Addr,
        prefix_length: u8,
    ) -> Result<(), InterfaceError> {
        let unusable = address.is_unspecified() || address.is_multicast() || address.is_loopback();
        if unusable || prefix_length > 128 {
            return Err(InterfaceError::InvalidAddress);
        }
        self.ip
            .interface(index)
            .ok_or(InterfaceError::NoSuchInterface)?;
        let entry = Ipv6InterfaceAddress {
            address,
            prefix_length,
            origin: Origin::Static,
            state: AddressState::Tentative {
                probes_left: 0,
                next_ns: 0,
            },
            preferred_until_ns: FOREVER,
            valid_until_ns: FOREVER,
            dad_counter: 0,
            nonce: [0; 6],
        };
        if !self.ip.add_address6(index, entry) {
            return Err(InterfaceError::TooManyAddresses);
        }
        if prefix_length < 128 {
            self.ip
                .v6
                .routes
                .set_prefix(index, address, prefix_length, FOREVER, false);
        }
        Ok(())
    }

    /// Removes an address (ifconfig inet6 ADDRESS -alias), and its
    /// configured prefix.
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`], or
    /// [`InterfaceError::InvalidAddress`] when the interface does not have
    /// it.
    pub fn remove_address6(
        &mut self,
        index: InterfaceIndex,
        address: Ipv6Addr,
    ) -> Result<(), InterfaceError> {
        let interface = self
            .ip
            .interface(index)
            .ok_or(InterfaceError::NoSuchInterface)?;
        let entry = *interface
            .ipv6
            .find(address)
            .ok_or(InterfaceError::InvalidAddress)?;
        self.ip.remove_address6(index, address);
        if entry.origin == Origin::Static && entry.prefix_length < 128 {
            let (prefix, length) = (entry.address, entry.prefix_length);
            self.ip.v6.routes.remove_prefix(index, prefix, length);
        }
        Ok(())
    }

    /// Sets (or with `None` removes) the configured default router of
    /// `index` (`gw6=`; route add -inet6 default).
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`]; [`InterfaceError::InvalidAddress`]
    /// for a group or unspecified address.
    pub fn set_default_router6(
        &mut self,
        index: InterfaceIndex,
        router: Option<Ipv6Addr>,
    ) -> Result<(), InterfaceError> {
        self.ip
            .interface(index)
            .ok_or(InterfaceError::NoSuchInterface)?;
        self.ip.v6.routes.remove_configured_routers(index);
        let Some(router) = router else {
            return Ok(());
        };
        if router.is_multicast() || router.is_unspecified() {
            return Err(InterfaceError::InvalidAddress);
        }
        self.ip.v6.routes.set_router(index, router, FOREVER, false);
        Ok(())
    }

    /// Adds a static route to `prefix/length` through `index` (route add
    /// -inet6): to `gateway`, or with `None` to the destination itself (a
    /// network on that link). It replaces one to the same network.
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`]; [`InterfaceError::InvalidAddress`]
    /// for a length above 128 or a group or unspecified gateway;
    /// [`InterfaceError::Route`] when the table is full.
    pub fn add_route6(
        &mut self,
        index: InterfaceIndex,
        prefix: Ipv6Addr,
        length: u8,
        gateway: Option<Ipv6Addr>,
    ) -> Result<(), InterfaceError> {
        self.ip
            .interface(index)
            .ok_or(InterfaceError::NoSuchInterface)?;
        let bad_gateway = gateway.is_some_and(|g| g.is_multicast() || g.is_unspecified());
        if length > 128 || bad_gateway {
            return Err(InterfaceError::InvalidAddress);
        }
        let route = super::StaticRoute {
            interface: index,
            prefix,
            length,
            gateway,
        };
        match self.ip.v6.routes.add_route(route) {
            true => Ok(()),
            false => Err(InterfaceError::Route(crate::route::RouteError::Full)),
        }
    }

    /// Removes the static route to `prefix/length` (route delete -inet6).
    ///
    /// # Errors
    /// [`InterfaceError::Route`] when there is none.
    pub fn remove_route6(&mut self, prefix: Ipv6Addr, length: u8) -> Result<(), InterfaceError> {
        match self.ip.v6.routes.remove_route(prefix, length) {
            true => Ok(()),
            false => Err(InterfaceError::Route(crate::route::RouteError::NotFound)),
        }
    }

    /// The DNS servers routers advertised (RFC 8106), in force now, the
    /// most recently advertised first: for the resolver.
    pub fn ipv6_dns_servers(&self) -> Vec<Ipv6Addr> {
        self.ip
            .v6
            .dns
            .current(self.now_ns())
            .map(|s| s.address)
            .collect()
    }
}
