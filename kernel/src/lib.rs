//! The anykernel as an image links it: the interface, the base, factions.
//!
//! An image depends on this crate alone and chooses what it links with
//! Cargo features (none yet: the base is always in; the net faction and its
//! components come next). [`components`] lists the components of this
//! build, which [`boot`] hands to the base to run by init level.

#![no_std]

extern crate alloc;

use alloc::sync::Arc;

pub use base::component::Component;
pub use base::{BootConfig, BootError, Context, Kernel, ThreadBinding};
pub use {base, hypercall};

/// The components linked into this build.
pub fn components() -> &'static [&'static Component] {
    &[]
}

/// Boots a kernel with every component of this build on `host`.
///
/// # Errors
/// [`BootError`] says what stopped the boot.
pub fn boot(host: Arc<dyn hypercall::Hypercalls>) -> Result<Arc<Kernel>, BootError> {
    Kernel::boot(
        host,
        BootConfig {
            components: components(),
        },
    )
}
