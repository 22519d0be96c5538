//! The net faction's components and their init levels.
//!
//! - `net` (NET): the stack, its softint and timer, as a kernel service;
//! - `lo0` (NET_IF): the loopback interface;
//! - `ifconfig` (NET_IFCFG): `lo0` up as 127.0.0.1/8, the boot
//!   parameters `ip=`/`gw=` (or DHCP) for the first Ethernet interface,
//!   IPv6 (`ip6=`/`gw6=`, SLAAC by default), and a router's (forwarding,
//!   the other interfaces, MTUs, routes: `config::router`).
//!
//! Drivers (virtif, virtio-net) are components of their own crates and
//! attach at NET_IF or DEV.

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use log::warn;

use crate::config::router::RouterConfig;
use crate::config::{AddressConfig, Ipv6BootConfig};
use crate::interface::InterfaceAddress;
use crate::net::Net;

/// The stack.
pub static NET: Component = Component {
    name: "net",
    level: InitLevel::Net,
    requires: &[],
    init: init_net,
};

/// The loopback interface.
pub static LOOPBACK: Component = Component {
    name: "lo0",
    level: InitLevel::NetIf,
    requires: &["net"],
    init: init_loopback,
};

/// Interface configuration from the boot parameters.
pub static IFCONFIG: Component = Component {
    name: "ifconfig",
    level: InitLevel::NetIfcfg,
    requires: &["net"],
    init: init_ifconfig,
};

/// The faction's components, for the image's list.
pub static ALL: [&Component; 3] = [&NET, &LOOPBACK, &IFCONFIG];

fn init_net(context: &Context<'_>) -> Result<(), ComponentError> {
    Net::install(context).map(|_| ())
}

fn net(context: &Context<'_>) -> Result<alloc::sync::Arc<Net>, ComponentError> {
    Net::of(context).ok_or(ComponentError::Failed("the net component did not start"))
}

fn init_loopback(context: &Context<'_>) -> Result<(), ComponentError> {
    let net = net(context)?;
    crate::loopback::attach(context, &net)
        .map(|_| ())
        .map_err(|_| ComponentError::Failed("no room for lo0"))
}

fn init_ifconfig(context: &Context<'_>) -> Result<(), ComponentError> {
    let net = net(context)?;
    let config = AddressConfig::from_params(context.kernel().params()).unwrap_or_else(|error| {
        warn!("{error}; using DHCP");
        AddressConfig::Dhcp
    });
    let ipv6 = Ipv6BootConfig::from_params(context.kernel().params()).unwrap_or_else(|error| {
        warn!("{error}; IPv6 runs with its defaults");
        Ipv6BootConfig::default()
    });
    let (router, errors) = RouterConfig::from_params(context.kernel().params());
    for error in errors {
        warn!("{error}; left out");
    }
    net.with_stack(context, |stack| {
        if let Some(lo) = stack.ip.interface_named("lo0") {
            let loopback = InterfaceAddress {
                address: core::net::Ipv4Addr::LOCALHOST,
                prefix_length: 8,
            };
            stack.set_up(lo, true).ok();
            stack.set_address(lo, Some(loopback)).ok();
        }
        stack.set_pending_config(config);
        stack.set_pending_ipv6(ipv6);
        stack.set_router_config(router);
        Ok(())
    })
}
