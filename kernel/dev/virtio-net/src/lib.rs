//! The virtio-net component: virtio NICs as interfaces of the net faction.
//!
//! At the DEV level the component attaches every virtio-net device it
//! finds: PCI functions through the dev faction's match table
//! ([`pci::VIOIF`]: modern virtio-net-pci, e.g. QEMU's
//! `-device virtio-net-pci,disable-legacy=on`) and the virtio-mmio slots
//! the command line names (`virtio_mmio.device=`, as QEMU's microvm
//! describes them). Each becomes an Ethernet interface `vioif0`, `vioif1`, …
//! with MTU 1500 and the device's MAC, configured by the net faction's
//! ifconfig (DHCP by default).
//!
//! Built on virtio-drivers' transports and `VirtQueue` (256 descriptors
//! each way) over the shared virtio crate (`virtio`: the `Hal` over the
//! DMA hypercalls, PCI and MMIO set-up); the net device itself is driven
//! here. The driver negotiates checksum offload both ways, TSO both ways
//! and merged receive buffers (`features.rs`), as far as the boot
//! parameter `virtio_net.offload=none|csum|all` (default `all`) allows,
//! and tells the stack what the device does (`net::Offloads`). Frames
//! move without copies: receive buffers are packet-pool blocks the device
//! writes into, and a frame is sent from its own buffer with the
//! virtio-net header (`net::virtio_header`) in its headroom (`rings.rs`);
//! only a frame spanning merged buffers is copied together
//! (`receive.rs`). Completions are handled in the device's interrupt
//! thread (MSI-X, INTx or the MMIO line); nothing polls, so an idle NIC
//! costs no CPU, and the device is notified once per batch (`nic.rs`).
//!
//! A device that is odd (no MAC, small queues, refused features, missing
//! structures, no interrupt) is logged with its address and skipped; the
//! boot goes on without it.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(test)]
mod data_path_tests;
#[cfg(test)]
mod fake_device;
#[cfg(test)]
mod fake_offload;
mod features;
mod nic;
#[cfg(test)]
mod offload6_tests;
#[cfg(test)]
mod offload_tests;
pub mod pci;
mod preflight;
mod receive;
mod rings;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};

/// The component.
pub static VIRTIO_NET: Component = Component {
    name: "virtio-net",
    level: InitLevel::Dev,
    requires: &["net", "pci"],
    init: attach_all,
};

fn attach_all(context: &Context<'_>) -> Result<(), ComponentError> {
    if net::Net::of(context).is_none() {
        return Err(ComponentError::Failed("virtio-net needs the net component"));
    }
    offload_setting(context).map_err(ComponentError::Failed)?;
    virtio::driver::attach_all(context, &pci::DRIVER);
    Ok(())
}

/// The `virtio_net.offload=` setting of the boot parameters; `all` on a
/// router (forwarding on in either family) leaves receive coalescing out.
///
/// # Errors
/// A fixed message for a value other than `none`, `csum` or `all`.
pub(crate) fn offload_setting(context: &Context<'_>) -> Result<features::Setting, &'static str> {
    let params = context.kernel().params();
    let setting = features::Setting::parse(params.get(features::KEY))?;
    let forwarding = ["ip.forwarding", "ip6.forwarding"]
        .iter()
        .any(|key| matches!(params.get(key), Some("on" | "1" | "yes")));
    Ok(match setting {
        features::Setting::All if forwarding => features::Setting::Forwarding,
        other => other,
    })
}
