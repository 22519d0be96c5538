//! The router appliance: the appliance with forwarding on in both families.
//!
//! The same application and kernel as the appliance (`app`); what makes
//! it a router is the boot parameters its `Cargo.toml` names
//! (`ip.forwarding=1 ip6.forwarding=1`, see `kernel/net/src/forward`),
//! given before the user's, and a second NIC (`--net` twice) with its
//! address (`ip.1=`, `ip6.1=`). Its `/stats` counts what it forwarded.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

entry::main!(app::appliance::run);
