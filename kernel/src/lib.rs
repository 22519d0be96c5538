//! The anykernel as an image links it: the interface, the base, factions.
//!
//! An image depends on this crate alone and chooses what it links with
//! Cargo features: `net` (default) brings the net faction (`lo0`, the
//! TCP/IP stack, the socket API, interface configuration and DHCP) and the
//! virtif component; `virtio-net` (default) adds the dev faction (PCI
//! enumeration and matching, device interrupts, DMA) and the virtio-net
//! component, which attaches virtio NICs as `vioif0`, `vioif1`, ….
//! [`components`] lists the components of this build, which [`boot`]
//! hands to the base to run by init level.

#![no_std]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;

pub use base::component::Component;
pub use base::{BootConfig, BootError, Context, Kernel, ThreadBinding};
pub use {base, hypercall};

#[cfg(feature = "virtio-net")]
pub use dev;
#[cfg(feature = "net")]
pub use net;

/// The components linked into this build.
pub fn components() -> Vec<&'static Component> {
    let mut components = Vec::new();
    #[cfg(feature = "net")]
    {
        components.extend(net::components::ALL);
        components.push(&virtif::VIRTIF);
    }
    #[cfg(feature = "virtio-net")]
    {
        // The faction first: it enumerates the bus the driver matches on.
        components.push(&dev::DEV);
        components.push(&virtio_net::VIRTIO_NET);
    }
    components
}

/// Boots a kernel with every component of this build on `host`.
///
/// # Errors
/// [`BootError`] says what stopped the boot.
pub fn boot(host: Arc<dyn hypercall::Hypercalls>) -> Result<Arc<Kernel>, BootError> {
    Kernel::boot(
        host,
        BootConfig {
            components: &components(),
        },
    )
}
