//! The ifconfig and route equivalents: interface and routing calls for
//! applications and tools, on [`Net`].
//!
//! Interfaces are named as the stack names them (`lo0`, `vif0`, `vioif0`).
//! IPv6 calls take an interface name too: addresses are per interface,
//! and so are the default routers and zones of link-local addresses.
//! Each call takes the stack lock once and leaves like every stack call
//! (queued frames out, waiters woken, the timer armed).

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use base::Context;

use crate::interface::{InterfaceAddress, InterfaceCounters, InterfaceIndex, LinkKind};
use crate::ipv6::address::Ipv6InterfaceAddress;
use crate::ipv6::neighbor::NudState;
use crate::net::Net;
use crate::route::Route;
use crate::stack::InterfaceError;
use wire::MacAddress;

/// What `ifconfig` shows of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Its index.
    pub index: InterfaceIndex,
    /// Its name.
    pub name: String,
    /// Link kind.
    pub kind: LinkKind,
    /// Hardware address.
    pub mac: MacAddress,
    /// MTU.
    pub mtu: usize,
    /// Up or down.
    pub up: bool,
    /// IPv4 address.
    pub address: Option<InterfaceAddress>,
    /// IPv6 addresses, with their states.
    pub ipv6: Vec<Ipv6InterfaceAddress>,
    /// Counters.
    pub counters: InterfaceCounters,
}

impl Net {
    /// Every interface, in attach order.
    pub fn interfaces(&self, context: &Context<'_>) -> Vec<InterfaceInfo> {
        self.with_stack(context, |stack| {
            stack
                .ip
                .interfaces
                .iter()
                .map(|i| InterfaceInfo {
                    index: i.index,
                    name: i.name.clone(),
                    kind: i.spec.kind,
                    mac: i.spec.mac,
                    mtu: i.spec.mtu,
                    up: i.up,
                    address: i.address,
                    ipv6: i.ipv6.addresses.clone(),
                    counters: i.counters,
                })
                .collect()
        })
    }

    fn named(stack: &crate::Stack, name: &str) -> Result<InterfaceIndex, InterfaceError> {
        stack
            .ip
            .interface_named(name)
            .ok_or(InterfaceError::NoSuchInterface)
    }

    /// `ifconfig NAME up|down`.
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`].
    pub fn set_interface_up(
        &self,
        context: &Context<'_>,
        name: &str,
        up: bool,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| stack.set_up(Self::named(stack, name)?, up))
    }

    /// `ifconfig NAME inet A.B.C.D/N` (or, with `None`, `-alias`).
    ///
    /// # Errors
    /// [`InterfaceError`].
    pub fn set_interface_address(
        &self,
        context: &Context<'_>,
        name: &str,
        address: Option<InterfaceAddress>,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| {
            stack.set_address(Self::named(stack, name)?, address)
        })
    }

    /// `route add default GATEWAY` (or `route delete default`).
    ///
    /// # Errors
    /// [`InterfaceError`] when no connected network holds the gateway.
    pub fn set_default_gateway(
        &self,
        context: &Context<'_>,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| stack.set_default_gateway(gateway))
    }

    /// `route add NETWORK/N GATEWAY` through interface `name`.
    ///
    /// # Errors
    /// [`InterfaceError`].
    pub fn add_route(
        &self,
        context: &Context<'_>,
        destination: Ipv4Addr,
        prefix_length: u8,
        gateway: Option<Ipv4Addr>,
        name: &str,
    ) -> Result<(), InterfaceError> {
        if prefix_length > 32 {
            return Err(InterfaceError::InvalidAddress);
        }
        self.with_stack(context, |stack| {
            let route = Route {
                destination,
                prefix_length,
                gateway,
                interface: Self::named(stack, name)?,
            };
            stack.ip.routes.add(route).map_err(InterfaceError::Route)
        })
    }

    /// `route delete NETWORK/N`.
    ///
    /// # Errors
    /// [`InterfaceError::Route`] when there is no such route.
    pub fn remove_route(
        &self,
        context: &Context<'_>,
        destination: Ipv4Addr,
        prefix_length: u8,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| {
            stack
                .ip
                .routes
                .remove(destination, prefix_length)
                .map_err(InterfaceError::Route)
        })
    }

    /// `ifconfig NAME mtu BYTES`: at most the device's.
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`], [`InterfaceError::InvalidMtu`].
    pub fn set_interface_mtu(
        &self,
        context: &Context<'_>,
        name: &str,
        mtu: usize,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| {
            stack.set_mtu(Self::named(stack, name)?, mtu)
        })
    }

    /// `sysctl net.inet.ip.forwarding` and `net.inet6.ip6.forwarding`:
    /// turns forwarding on or off in each family (`crate::forward`).
    pub fn set_forwarding(&self, context: &Context<'_>, ipv4: bool, ipv6: bool) {
        self.with_stack(context, |stack| {
            stack.set_forwarding(ipv4);
            stack.set_forwarding6(ipv6);
        });
    }

    /// `route add -inet6 PREFIX/N GATEWAY` through interface `name` (with
    /// `None`, a network on that link).
    ///
    /// # Errors
    /// [`InterfaceError`].
    pub fn add_route6(
        &self,
        context: &Context<'_>,
        (prefix, length): (Ipv6Addr, u8),
        gateway: Option<Ipv6Addr>,
        name: &str,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| {
            stack.add_route6(Self::named(stack, name)?, prefix, length, gateway)
        })
    }

    /// `route delete -inet6 PREFIX/N`.
    ///
    /// # Errors
    /// [`InterfaceError::Route`] when there is no such route.
    pub fn remove_route6(
        &self,
        context: &Context<'_>,
        prefix: Ipv6Addr,
        length: u8,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| stack.remove_route6(prefix, length))
    }

    /// `netstat -r`: every route.
    pub fn routes(&self, context: &Context<'_>) -> Vec<Route> {
        self.with_stack(context, |stack| stack.ip.routes.iter().copied().collect())
    }

    /// `ifconfig NAME inet6 ADDRESS/N`: a static address, checked by DAD
    /// before it is used.
    ///
    /// # Errors
    /// [`InterfaceError`].
    pub fn add_interface_address6(
        &self,
        context: &Context<'_>,
        name: &str,
        address: Ipv6Addr,
        prefix_length: u8,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| {
            stack.add_address6(Self::named(stack, name)?, address, prefix_length)
        })
    }

    /// `ifconfig NAME inet6 ADDRESS -alias`.
    ///
    /// # Errors
    /// [`InterfaceError`].
    pub fn remove_interface_address6(
        &self,
        context: &Context<'_>,
        name: &str,
        address: Ipv6Addr,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| {
            stack.remove_address6(Self::named(stack, name)?, address)
        })
    }

    /// `route add -inet6 default ROUTER` on `name` (or, with `None`,
    /// delete the configured one).
    ///
    /// # Errors
    /// [`InterfaceError`].
    pub fn set_default_router6(
        &self,
        context: &Context<'_>,
        name: &str,
        router: Option<Ipv6Addr>,
    ) -> Result<(), InterfaceError> {
        self.with_stack(context, |stack| {
            stack.set_default_router6(Self::named(stack, name)?, router)
        })
    }

    /// `ndp -a`: the neighbor cache (interface, address, MAC if known,
    /// NUD state).
    pub fn ipv6_neighbors(
        &self,
        context: &Context<'_>,
    ) -> Vec<(InterfaceIndex, Ipv6Addr, Option<MacAddress>, NudState)> {
        self.with_stack(context, |stack| stack.ip.v6.neighbors.entries().collect())
    }

    /// The DNS servers routers advertised (RFC 8106), in force now, most
    /// recently advertised first: what the resolver asks.
    pub fn ipv6_dns_servers(&self, context: &Context<'_>) -> Vec<Ipv6Addr> {
        self.with_stack(context, |stack| stack.ipv6_dns_servers())
    }

    /// The interface named `name`, for the zone of a link-local address.
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`].
    pub fn interface_index(
        &self,
        context: &Context<'_>,
        name: &str,
    ) -> Result<InterfaceIndex, InterfaceError> {
        self.with_stack(context, |stack| Self::named(stack, name))
    }
}
