//! The block layer: disks by name, and a bounded write-back buffer cache.
//!
//! The rump papers' block path, in three parts:
//!
//! - **Disks.** Drivers ([`BlockDriver`]) attach their disks to the
//!   [`Block`] service, which names them `vblk0`, `vblk1`, … and queues
//!   requests beyond what each device takes ([`Disk`]). The host's disks
//!   (the block device hypercalls: files when hosted) are attached by this
//!   component itself (`host.rs`); on bare metal the virtio-blk component
//!   attaches the virtio disks.
//! - **The buffer cache** ([`cache`]): blocks in memory, written back
//!   later, within a bound charged to the memory account `bcache` and
//!   given back under memory pressure.
//! - **Volumes** ([`Volume`]): what a file system uses: read block, write
//!   block, sync, block size, block count.
//!
//! Errors are [`BlockError`]s, each one errno; a device that fails gives
//! EIO, never a panic. A kernel without this component has none of it:
//! the `block` feature of the `kernel` crate links it.
//!
//! | boot parameter | meaning |
//! | --- | --- |
//! | `bcache=SIZE` | the cache's bound (default an eighth of the memory limit, 256 KiB to 64 MiB) |

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod cache;
mod disk;
mod driver;
mod error;
mod host;
mod registry;
mod segments;
mod volume;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};

pub use cache::{CacheStats, MAX_RUN_BYTES};
pub use disk::{Disk, DiskStats, IO_TIMEOUT_NS};
pub use driver::{BlockDriver, Completion, Done, Geometry, Operation, Refused, Request, Segments};
pub use error::BlockError;
pub use registry::{Block, LIMIT_PARAMETER, NAME_PREFIX};
pub use volume::{MAX_BLOCK_SIZE, Volume};

/// The component: installs [`Block`] and attaches the host's disks.
pub static BLOCK: Component = Component {
    name: "block",
    level: InitLevel::Vfs,
    requires: &[],
    init,
};

fn init(context: &Context<'_>) -> Result<(), ComponentError> {
    let block = Block::install(context)?;
    host::attach_all(context, &block);
    Ok(())
}
