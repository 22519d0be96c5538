//! The virtio-blk component: virtio disks as disks of the block layer.
//!
//! At the DEV level the component attaches every virtio-blk device it
//! finds: PCI functions through the dev faction's match table
//! ([`pci::VIOBLK`]: modern virtio-blk-pci) and the virtio-mmio slots the
//! command line names (as QEMU's microvm describes them). Each becomes the
//! block layer's next disk, `vblk0`, `vblk1`, …, logged with its size.
//!
//! Built on virtio-drivers' transports and split virtqueue (not its
//! blocking `VirtIOBlk`), so that many requests are in flight at once
//! (128 with indirect descriptors, else 42), a request's data goes in as
//! many segments as the device takes, flushes do not block the
//! kernel, and completions arrive by interrupt (MSI-X, INTx or the MMIO
//! line) in the disk's interrupt thread; nothing polls. The device's
//! read-only flag (RO) and write cache (FLUSH) are honoured: the block
//! layer refuses writes to a read-only disk and sends a flush after the
//! writes a sync waits for.
//!
//! A device that is odd (zero capacity, refused features, an unusable
//! block size, a small queue, missing structures, no interrupt) is logged
//! with its address and skipped; a request that fails is EIO; the boot
//! goes on.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod device;
mod disk;
#[cfg(test)]
mod fake_device;
pub mod pci;
mod queue;
#[cfg(test)]
mod tests;

use alloc::format;
use alloc::sync::Arc;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use block::Block;
use dev::DevError;

use crate::disk::{DiskTransport, VirtioDisk};

/// The component.
pub static VIRTIO_BLK: Component = Component {
    name: "virtio-blk",
    level: InitLevel::Dev,
    requires: &["block", "pci"],
    init: attach_all,
};

fn attach_all(context: &Context<'_>) -> Result<(), ComponentError> {
    if Block::of(context).is_none() {
        return Err(ComponentError::Failed(
            "virtio-blk needs the block component",
        ));
    }
    virtio::driver::attach_all(context, &pci::DRIVER);
    Ok(())
}

/// Hands `disk` to the block layer, which names and logs it.
fn register<T: DiskTransport>(
    context: &Context<'_>,
    disk: Arc<VirtioDisk<T>>,
    interrupt: &str,
) -> Result<(), DevError> {
    let block = Block::of(context).ok_or(DevError::Unusable("no block layer"))?;
    let location = format!("{}, {interrupt}", disk.label());
    block
        .attach(context, location, disk)
        .map(|_| ())
        .map_err(|_| DevError::Unusable("the block layer refused the disk"))
}
