//! Boot parameters for a router: forwarding, the interfaces after the
//! first, MTUs and static routes.
//!
//! | parameter | what |
//! | --- | --- |
//! | `ip.forwarding=on\|off` | forward IPv4 (`1`/`0` too; off by default) |
//! | `ip6.forwarding=on\|off` | forward IPv6 ([`super::Ipv6BootConfig`] reads it) |
//! | `ip6.ra=on\|off` | with `ip6.forwarding`, send router advertisements (on by default) |
//! | `ip6.ra_interval=SECONDS` | MaxRtrAdvInterval, 4 to 1800 (600 by default) |
//! | `ip.N=A.B.C.D/LEN` | the address of Ethernet interface N (0 is the first, `ip=`'s) |
//! | `ip6.N=ADDRESS/LEN` | a static IPv6 address there, its prefix on-link |
//! | `mtu.N=BYTES` | interface N's MTU, below its device's |
//! | `ip.route=NETWORK/LEN,GATEWAY` | a static route (a list: give it as often as needed) |
//! | `ip6.route=PREFIX/LEN,GATEWAY` | the same for IPv6; the gateway's own prefix must be on-link |
//!
//! Interfaces are counted in attach order among the Ethernet ones (lo0
//! does not count): `vioif1` is N=1 on a machine with two virtio NICs.
//! An interface named by `ip.N` or `ip6.N` comes up with its address
//! when it attaches (N=0 follows `ip=` and `ip6=` instead); a route is
//! added as soon as an interface reaches its gateway. A parameter that
//! does not parse is logged and left out; the others stay.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use base::params::BootParams;
use log::{info, warn};

use super::{ConfigError, parse_address, parse_address6, switch};
use crate::interface::{InterfaceAddress, InterfaceIndex, LinkKind};
use crate::stack::{MAX_INTERFACES, Stack};

/// What one Ethernet interface gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Its number among the Ethernet interfaces.
    pub ordinal: usize,
    /// `ip.N=`.
    pub address: Option<InterfaceAddress>,
    /// `ip6.N=`.
    pub address6: Option<(Ipv6Addr, u8)>,
    /// `mtu.N=`.
    pub mtu: Option<usize>,
}

/// A static route from the boot parameters, either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteConfig {
    /// `ip.route=`.
    V4(InterfaceAddress, Ipv4Addr),
    /// `ip6.route=`.
    V6((Ipv6Addr, u8), Ipv6Addr),
}

impl core::fmt::Display for RouteConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::V4(network, gateway) => write!(f, "{network} via {gateway}"),
            Self::V6((prefix, length), gateway) => write!(f, "{prefix}/{length} via {gateway}"),
        }
    }
}

/// The router's boot parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterConfig {
    /// `ip.forwarding=`.
    pub forwarding: bool,
    /// Interfaces with something configured, by ordinal.
    pub interfaces: Vec<InterfaceConfig>,
    /// Routes, with whether each was added yet.
    pub routes: Vec<(RouteConfig, bool)>,
}

impl RouterConfig {
    /// Reads the parameters of the module comment; what does not parse
    /// comes back beside the rest.
    pub fn from_params(params: &BootParams) -> (Self, Vec<ConfigError>) {
        let mut config = Self::default();
        let mut errors = Vec::new();
        let forwarding = params.get("ip.forwarding");
        match switch(forwarding, false, "ip.forwarding= is on or off") {
            Ok(on) => config.forwarding = on,
            Err(error) => errors.push(error),
        }
        for (key, value) in params.iter() {
            if let Err(error) = config.read(key, value.unwrap_or_default()) {
                errors.push(error);
            }
        }
        (config, errors)
    }

    /// Takes one parameter if it is one of ours.
    fn read(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        match key {
            "ip.route" => self.routes.push((parse_route(value)?, false)),
            "ip6.route" => self.routes.push((parse_route6(value)?, false)),
            _ => return self.read_interface(key, value),
        }
        Ok(())
    }

    /// `ip.N=`, `ip6.N=`, `mtu.N=`.
    fn read_interface(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let Some((name, number)) = key.split_once('.') else {
            return Ok(());
        };
        let Ok(ordinal) = number.parse::<usize>() else {
            return Ok(());
        };
        if !matches!(name, "ip" | "ip6" | "mtu") {
            return Ok(());
        }
        if ordinal >= MAX_INTERFACES || (ordinal == 0 && name != "mtu") {
            return Err(ConfigError("ip.N= and ip6.N= take N from 1 (ip= is N=0)"));
        }
        let entry = self.entry(ordinal);
        match name {
            "ip" => entry.address = Some(parse_address(value)?),
            "ip6" => entry.address6 = Some(parse_address6(value)?),
            _ => {
                let mtu = value
                    .parse()
                    .map_err(|_| ConfigError("mtu.N= is a number"))?;
                entry.mtu = Some(mtu);
            }
        }
        Ok(())
    }

    fn entry(&mut self, ordinal: usize) -> &mut InterfaceConfig {
        let at = match self.interfaces.iter().position(|i| i.ordinal == ordinal) {
            Some(at) => at,
            None => {
                self.interfaces.push(InterfaceConfig {
                    ordinal,
                    ..Default::default()
                });
                self.interfaces.len() - 1
            }
        };
        &mut self.interfaces[at]
    }
}

/// `NETWORK/LEN,GATEWAY`.
fn parse_route(text: &str) -> Result<RouteConfig, ConfigError> {
    let (network, gateway) = text
        .split_once(',')
        .ok_or(ConfigError("ip.route= is NETWORK/LEN,GATEWAY"))?;
    let gateway = gateway
        .parse()
        .map_err(|_| ConfigError("ip.route='s gateway is not an IPv4 address"))?;
    Ok(RouteConfig::V4(parse_address(network)?, gateway))
}

/// `PREFIX/LEN,GATEWAY`.
fn parse_route6(text: &str) -> Result<RouteConfig, ConfigError> {
    let (prefix, gateway) = text
        .split_once(',')
        .ok_or(ConfigError("ip6.route= is PREFIX/LEN,GATEWAY"))?;
    let gateway = gateway
        .parse()
        .map_err(|_| ConfigError("ip6.route='s gateway is not an IPv6 address"))?;
    Ok(RouteConfig::V6(parse_address6(prefix)?, gateway))
}

impl Stack {
    /// Records the router's configuration, turns IPv4 forwarding as it
    /// says, and applies what the interfaces attached so far can take.
    pub fn set_router_config(&mut self, config: RouterConfig) {
        self.set_forwarding(config.forwarding);
        if config.forwarding {
            info!("forwarding IPv4");
        }
        self.pending.router = config;
        let attached: Vec<InterfaceIndex> = self.ip.interfaces.iter().map(|i| i.index).collect();
        for index in attached {
            self.apply_router_config(index);
        }
    }

    /// Applies to `index`, just attached, what the router's configuration
    /// has for it, and adds the routes it makes reachable.
    pub(crate) fn apply_router_config(&mut self, index: InterfaceIndex) {
        let Some(ordinal) = self.ethernet_ordinal(index) else {
            return;
        };
        let entry = (self.pending.router.interfaces.iter()).find(|i| i.ordinal == ordinal);
        if let Some(entry) = entry.copied() {
            self.configure_interface(index, entry);
        }
        self.apply_routes();
    }

    /// `index`'s number among the Ethernet interfaces.
    fn ethernet_ordinal(&self, index: InterfaceIndex) -> Option<usize> {
        let ethernet = self
            .ip
            .interfaces
            .iter()
            .filter(|i| i.spec.kind == LinkKind::Ethernet);
        ethernet.map(|i| i.index).position(|i| i == index)
    }

    fn configure_interface(&mut self, index: InterfaceIndex, entry: InterfaceConfig) {
        let name = self
            .ip
            .interface(index)
            .map(|i| i.name.clone())
            .unwrap_or_default();
        if let Some(mtu) = entry.mtu
            && let Err(error) = self.set_mtu(index, mtu)
        {
            warn!("{name}: mtu.{}={mtu} not set: {error}", entry.ordinal);
        }
        if entry.address.is_none() && entry.address6.is_none() {
            return;
        }
        let _ = self.set_up(index, true);
        if let Some(address) = entry.address {
            match self.set_address(index, Some(address)) {
                Ok(()) => info!("{name} is {address}"),
                Err(error) => warn!("{name}: ip.{}={address} not set: {error}", entry.ordinal),
            }
        }
        if let Some((address, length)) = entry.address6 {
            match self.add_address6(index, address, length) {
                Ok(()) => info!("{name} is {address}/{length}, tentative until DAD passes"),
                Err(error) => warn!("{name}: ip6.{}={address} not set: {error}", entry.ordinal),
            }
        }
    }

    /// Adds every pending route whose gateway an interface reaches now.
    fn apply_routes(&mut self) {
        let mut routes = core::mem::take(&mut self.pending.router.routes);
        for (route, added) in routes.iter_mut().filter(|(_, added)| !*added) {
            *added = self.add_configured_route(*route);
        }
        self.pending.router.routes = routes;
    }

    /// Adds `route` if a connected network (IPv4) or an on-link prefix
    /// (IPv6) holds its gateway; false when none does yet.
    fn add_configured_route(&mut self, route: RouteConfig) -> bool {
        let added = match route {
            RouteConfig::V4(network, gateway) => {
                let connected = self
                    .ip
                    .routes
                    .lookup(gateway)
                    .filter(|r| r.gateway.is_none());
                let Some(interface) = connected.map(|r| r.interface) else {
                    return false;
                };
                let route = crate::route::Route {
                    destination: network.address,
                    prefix_length: network.prefix_length,
                    gateway: Some(gateway),
                    interface,
                };
                self.ip
                    .routes
                    .add(route)
                    .map_err(crate::stack::InterfaceError::Route)
            }
            RouteConfig::V6((prefix, length), gateway) => {
                let Some(interface) = self.ip.v6.routes.on_link(gateway) else {
                    return false;
                };
                self.add_route6(interface, prefix, length, Some(gateway))
            }
        };
        match added {
            Ok(()) => info!("route {route} added"),
            Err(error) => warn!("route {route} not added: {error}"),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(line: &str) -> (RouterConfig, Vec<ConfigError>) {
        RouterConfig::from_params(&BootParams::parse(line).0)
    }

    #[test]
    fn forwarding_interfaces_and_routes_parse_and_bad_ones_are_reported() {
        let line = "ip=10.0.1.1/24 ip.forwarding=1 ip.1=10.0.2.1/24 ip6.1=fd02::1/64 \
                    mtu.1=1280 ip.route=10.9.0.0/16,10.0.2.2 ip6.route=fd09::/32,fd02::2";
        let (parsed, errors) = config(line);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(parsed.forwarding);
        let second = parsed.interfaces[0];
        assert_eq!(second.ordinal, 1);
        assert_eq!(second.address.map(|a| a.prefix_length), Some(24));
        assert_eq!(second.address6, Some(("fd02::1".parse().unwrap(), 64)));
        assert_eq!(second.mtu, Some(1280));
        assert_eq!(parsed.routes.len(), 2);
        assert!(!config("").0.forwarding);
        for bad in [
            "ip.forwarding=maybe",
            "ip.0=10.0.0.1",
            "ip.1=10.0.0",
            "ip6.2=10.0.0.1",
            "mtu.1=big",
            "ip.route=10.0.0.0/8",
            "ip.route=10.0.0.0/8,fd00::1",
            "ip6.route=fd00::/8,10.0.0.1",
            "ip.99=10.0.0.1",
        ] {
            assert_eq!(config(bad).1.len(), 1, "{bad}");
        }
        assert!(config("ip.slaac=on tcp.time_wait_ms=5").1.is_empty());
    }
}
