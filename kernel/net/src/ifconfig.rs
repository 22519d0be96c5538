//! The ifconfig and route equivalents: interface and routing calls for
//! applications and tools, on [`Net`].
//!
//! Interfaces are named as the stack names them (`lo0`, `vif0`, `vioif0`).
//! Each call takes the stack lock once and leaves like every stack call
//! (queued frames out, waiters woken, the timer armed).

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use base::Context;

use crate::interface::{InterfaceAddress, InterfaceCounters, InterfaceIndex, LinkKind};
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

    /// `netstat -r`: every route.
    pub fn routes(&self, context: &Context<'_>) -> Vec<Route> {
        self.with_stack(context, |stack| stack.ip.routes.iter().copied().collect())
    }
}
