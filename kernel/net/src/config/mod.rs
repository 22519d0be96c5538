//! Interface configuration: the boot parameters `ip=`, `gw=`, `ip6=` and
//! `gw6=`, and the ifconfig/route calls behind them.
//!
//! `ip=A.B.C.D/N` (prefix 24 if left out) with an optional `gw=A.B.C.D`
//! configures the first Ethernet interface statically; `ip=dhcp` or
//! `dhcp`, the default, starts the DHCP client on it; `ip=none` leaves it
//! alone. IPv6 runs on every Ethernet interface by default, with a
//! link-local address and SLAAC; `ip6=ADDRESS/N` (prefix 64 if left out)
//! adds a static address to the first one and `gw6=ADDRESS` a default
//! router there; `ip6=none` turns IPv6 off, `ip6.slaac=off` keeps
//! advertised prefixes from forming addresses, `ip6.redirects=on`
//! follows redirects, `ip6.forwarding=on` routes IPv6 and then sends
//! router advertisements for the prefixes of the static addresses
//! (`ip6.ra=off` does not, `ip6.ra_interval=SECONDS` sets the longest
//! time between them, 600 by default, 4 to 1800). The first Ethernet
//! interface may attach before the NET_IFCFG level runs (virtif) or after
//! it (PCI drivers at DEV); either way it gets the configuration once,
//! when both exist. A router's parameters (IPv4 forwarding, the other
//! interfaces, MTUs, static routes) are [`router`]'s.

pub mod router;

use core::net::{Ipv4Addr, Ipv6Addr};

use base::params::BootParams;

use crate::interface::{InterfaceAddress, InterfaceIndex, LinkKind};
use crate::ipv6::Ipv6Config;
use alloc::string::String;

use log::{info, warn};

use crate::stack::Stack;

/// How the first Ethernet interface is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressConfig {
    /// A fixed address and maybe a default gateway.
    Static {
        /// The address and prefix.
        address: InterfaceAddress,
        /// The default gateway.
        gateway: Option<Ipv4Addr>,
    },
    /// By the DHCP client.
    Dhcp,
    /// Not at all.
    None,
}

/// A boot parameter that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub &'static str);

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

impl AddressConfig {
    /// Reads `ip=` and `gw=`.
    ///
    /// # Errors
    /// [`ConfigError`] naming what is wrong; the caller logs it and uses
    /// DHCP.
    pub fn from_params(params: &BootParams) -> Result<Self, ConfigError> {
        let gateway = match params.get("gw") {
            None => None,
            Some(text) => Some(
                text.parse::<Ipv4Addr>()
                    .map_err(|_| ConfigError("gw= is not an IPv4 address"))?,
            ),
        };
        if params.has("dhcp") {
            return Ok(Self::Dhcp);
        }
        match params.get("ip") {
            None | Some("dhcp") => Ok(Self::Dhcp),
            Some("none") => Ok(Self::None),
            Some(text) => Ok(Self::Static {
                address: parse_address(text)?,
                gateway,
            }),
        }
    }
}

/// Parses `A.B.C.D` or `A.B.C.D/N`.
///
/// # Errors
/// [`ConfigError`].
pub fn parse_address(text: &str) -> Result<InterfaceAddress, ConfigError> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address = address
        .parse::<Ipv4Addr>()
        .map_err(|_| ConfigError("ip= is not an IPv4 address (A.B.C.D/N, dhcp or none)"))?;
    let prefix_length = match prefix {
        None => 24,
        Some(prefix) => prefix
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= 32)
            .ok_or(ConfigError("ip= has a prefix length outside 0..=32"))?,
    };
    Ok(InterfaceAddress {
        address,
        prefix_length,
    })
}

/// How IPv6 is configured at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6BootConfig {
    /// How IPv6 runs.
    pub config: Ipv6Config,
    /// A static address and its prefix length, for the first Ethernet
    /// interface.
    pub address: Option<(Ipv6Addr, u8)>,
    /// A default router there.
    pub gateway: Option<Ipv6Addr>,
}

impl Default for Ipv6BootConfig {
    /// The kernel's default: IPv6 on, with SLAAC, nothing static.
    fn default() -> Self {
        Self {
            config: Ipv6Config {
                enabled: true,
                ..Ipv6Config::default()
            },
            address: None,
            gateway: None,
        }
    }
}

impl Ipv6BootConfig {
    /// Reads `ip6=`, `gw6=`, `ip6.slaac=`, `ip6.redirects=`,
    /// `ip6.forwarding=`, `ip6.ra=` and `ip6.ra_interval=`.
    ///
    /// # Errors
    /// [`ConfigError`] naming what is wrong; the caller logs it and runs
    /// IPv6 with its defaults.
    pub fn from_params(params: &BootParams) -> Result<Self, ConfigError> {
        let mut config = Self::default().config;
        config.slaac = switch(params.get("ip6.slaac"), true, "ip6.slaac= is on or off")?;
        config.accept_redirects = switch(
            params.get("ip6.redirects"),
            false,
            "ip6.redirects= is on or off",
        )?;
        config.forwarding = switch(
            params.get("ip6.forwarding"),
            false,
            "ip6.forwarding= is on or off",
        )?;
        config.router_advertisements = switch(params.get("ip6.ra"), true, "ip6.ra= is on or off")?;
        if let Some(text) = params.get("ip6.ra_interval") {
            let range = crate::ipv6::INTERVAL_RANGE_S;
            let seconds = text.parse::<u16>().ok().filter(|s| range.contains(s));
            config.advertise_interval_s =
                seconds.ok_or(ConfigError("ip6.ra_interval= is seconds, 4 to 1800"))?;
        }
        let gateway = match params.get("gw6") {
            None => None,
            Some(text) => Some(
                text.parse::<Ipv6Addr>()
                    .map_err(|_| ConfigError("gw6= is not an IPv6 address"))?,
            ),
        };
        let address = match params.get("ip6") {
            None | Some("auto") => None,
            Some("none" | "off") => {
                config.enabled = false;
                None
            }
            Some(text) => Some(parse_address6(text)?),
        };
        Ok(Self {
            config,
            address,
            gateway,
        })
    }
}

/// `on`/`off` (or `1`/`0`), `default` when absent.
fn switch(value: Option<&str>, default: bool, error: &'static str) -> Result<bool, ConfigError> {
    match value {
        None => Ok(default),
        Some("on" | "1" | "yes") => Ok(true),
        Some("off" | "0" | "no") => Ok(false),
        Some(_) => Err(ConfigError(error)),
    }
}

/// Parses `ADDRESS` or `ADDRESS/N` (IPv6).
///
/// # Errors
/// [`ConfigError`].
pub fn parse_address6(text: &str) -> Result<(Ipv6Addr, u8), ConfigError> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address = address
        .parse::<Ipv6Addr>()
        .map_err(|_| ConfigError("ip6= is not an IPv6 address (ADDRESS/N, auto or none)"))?;
    let prefix_length = match prefix {
        None => 64,
        Some(prefix) => prefix
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= 128)
            .ok_or(ConfigError("ip6= has a prefix length outside 0..=128"))?,
    };
    Ok((address, prefix_length))
}

/// The pending configuration and whether it was applied.
#[derive(Debug, Default)]
pub struct PendingConfig {
    config: Option<AddressConfig>,
    applied: bool,
    ipv6: Option<Ipv6BootConfig>,
    ipv6_applied: bool,
    /// The router's parameters (`router.rs`).
    pub(crate) router: router::RouterConfig,
}

impl Stack {
    /// Records how to configure the first Ethernet interface and applies
    /// it if that interface exists already.
    pub fn set_pending_config(&mut self, config: AddressConfig) {
        self.pending.config = Some(config);
        if let Some(index) = self.first_ethernet() {
            self.apply_pending(index);
        }
    }

    fn first_ethernet(&self) -> Option<InterfaceIndex> {
        self.ip
            .interfaces
            .iter()
            .find(|i| i.spec.kind == LinkKind::Ethernet)
            .map(|i| i.index)
    }

    /// Applies the pending configuration to `index` if it is the first
    /// Ethernet interface and nothing was applied yet. A part that fails
    /// (a gateway off the subnet, say) is logged and the rest stays: a bad
    /// boot parameter costs that part, never the interface or the boot.
    pub fn apply_pending(&mut self, index: InterfaceIndex) {
        let Some(config) = self.pending.config else {
            return;
        };
        if self.pending.applied || self.first_ethernet() != Some(index) {
            return;
        }
        self.pending.applied = true;
        let name = self
            .ip
            .interface(index)
            .map_or_else(String::new, |i| i.name.clone());
        let _ = self.set_up(index, true);
        match config {
            AddressConfig::Static { address, gateway } => {
                if let Err(error) = self.set_address(index, Some(address)) {
                    warn!("{name}: ip={address} not configured: {error}");
                    return;
                }
                info!("{name} is {address}");
                if let Err(error) = self.set_default_gateway(gateway) {
                    warn!("{name}: gw={gateway:?} not configured: {error}");
                }
            }
            AddressConfig::Dhcp => {
                let mac = self.ip.interface(index).map(|i| i.spec.mac);
                if let Some(mac) = mac {
                    self.start_dhcp(index, mac);
                    self.dhcp_timer();
                }
            }
            AddressConfig::None => {}
        }
    }
}

impl Stack {
    /// Records how IPv6 runs and what the first Ethernet interface gets,
    /// starts IPv6 on the interfaces that are up, and applies the rest if
    /// that interface exists already.
    pub fn set_pending_ipv6(&mut self, boot: Ipv6BootConfig) {
        self.pending.ipv6 = Some(boot);
        self.set_ipv6_config(boot.config);
        if let Some(index) = self.first_ethernet() {
            self.apply_pending_ipv6(index);
        }
    }

    /// Applies the pending static IPv6 address and router to `index` if it
    /// is the first Ethernet interface and they were not applied yet; a
    /// part that fails is logged and the rest stays.
    pub fn apply_pending_ipv6(&mut self, index: InterfaceIndex) {
        let Some(boot) = self.pending.ipv6 else {
            return;
        };
        if self.pending.ipv6_applied || self.first_ethernet() != Some(index) {
            return;
        }
        self.pending.ipv6_applied = true;
        let name = self
            .ip
            .interface(index)
            .map_or_else(String::new, |i| i.name.clone());
        if let Some((address, length)) = boot.address {
            match self.add_address6(index, address, length) {
                Ok(()) => info!("{name} is {address}/{length}, tentative until DAD passes"),
                Err(error) => warn!("{name}: ip6={address}/{length} not configured: {error}"),
            }
        }
        if let Some(gateway) = boot.gateway
            && let Err(error) = self.set_default_router6(index, Some(gateway))
        {
            warn!("{name}: gw6={gateway} not configured: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(line: &str) -> Result<AddressConfig, ConfigError> {
        AddressConfig::from_params(&BootParams::parse(line).0)
    }

    #[test]
    fn static_dhcp_none_and_errors() {
        let expected = AddressConfig::Static {
            address: InterfaceAddress {
                address: Ipv4Addr::new(192, 168, 77, 2),
                prefix_length: 24,
            },
            gateway: Some(Ipv4Addr::new(192, 168, 77, 1)),
        };
        assert_eq!(config("ip=192.168.77.2/24 gw=192.168.77.1"), Ok(expected));
        assert_eq!(config("ip=192.168.77.2 gw=192.168.77.1"), Ok(expected));
        assert_eq!(config(""), Ok(AddressConfig::Dhcp));
        assert_eq!(config("ip=dhcp"), Ok(AddressConfig::Dhcp));
        assert_eq!(config("dhcp"), Ok(AddressConfig::Dhcp));
        assert_eq!(config("ip=none"), Ok(AddressConfig::None));
        assert!(config("ip=1.2.3").is_err());
        assert!(config("ip=1.2.3.4/33").is_err());
        assert!(config("ip=1.2.3.4/x").is_err());
        assert!(config("ip=1.2.3.4 gw=foo").is_err());
    }

    fn ipv6(line: &str) -> Result<Ipv6BootConfig, ConfigError> {
        Ipv6BootConfig::from_params(&BootParams::parse(line).0)
    }

    #[test]
    fn ipv6_defaults_static_none_and_errors() {
        let default = ipv6("").unwrap();
        assert!(default.config.enabled && default.config.slaac);
        assert!(!default.config.accept_redirects);
        assert_eq!((default.address, default.gateway), (None, None));
        let address: Ipv6Addr = "fd00:77::2".parse().unwrap();
        let gateway: Ipv6Addr = "fe80::1".parse().unwrap();
        let fixed = ipv6("ip6=fd00:77::2/64 gw6=fe80::1").unwrap();
        assert_eq!(fixed.address, Some((address, 64)));
        assert_eq!(fixed.gateway, Some(gateway));
        assert_eq!(ipv6("ip6=fd00:77::2").unwrap().address, Some((address, 64)));
        assert!(!ipv6("ip6=none").unwrap().config.enabled);
        assert!(ipv6("ip6=auto").unwrap().config.enabled);
        assert!(!ipv6("ip6.slaac=off").unwrap().config.slaac);
        assert!(ipv6("ip6.redirects=on").unwrap().config.accept_redirects);
        assert!(!default.config.forwarding);
        assert!(ipv6("ip6.forwarding=1").unwrap().config.forwarding);
        assert!(ipv6("ip6.forwarding=sometimes").is_err());
        assert!(ipv6("ip6=fd00::1/129").is_err());
        assert!(ipv6("ip6=10.0.0.1").is_err());
        assert!(ipv6("gw6=fe80::g").is_err());
        assert!(ipv6("ip6.slaac=maybe").is_err());
        assert!(default.config.router_advertisements);
        assert_eq!(default.config.advertise_interval_s, 600);
        assert!(!ipv6("ip6.ra=off").unwrap().config.router_advertisements);
        let fast = ipv6("ip6.ra_interval=30").unwrap().config;
        assert_eq!(fast.advertise_interval_s, 30);
        assert!(ipv6("ip6.ra_interval=3").is_err());
        assert!(ipv6("ip6.ra_interval=1801").is_err());
        assert!(ipv6("ip6.ra_interval=soon").is_err());
    }
}
