//! Interface configuration: the boot parameters `ip=` and `gw=`, and the
//! ifconfig/route calls behind them.
//!
//! `ip=A.B.C.D/N` (prefix 24 if left out) with an optional `gw=A.B.C.D`
//! configures the first Ethernet interface statically; `ip=dhcp` or
//! `dhcp`, the default, starts the DHCP client on it; `ip=none` leaves it
//! alone. The
//! first Ethernet interface may attach before the NET_IFCFG level runs
//! (virtif) or after it (PCI drivers at DEV); either way it gets the
//! configuration once, when both exist.

use core::net::Ipv4Addr;

use base::params::BootParams;

use crate::interface::{InterfaceAddress, InterfaceIndex, LinkKind};
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

/// The pending configuration and whether it was applied.
#[derive(Debug, Default)]
pub struct PendingConfig {
    config: Option<AddressConfig>,
    applied: bool,
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
}
