//! The anykernel as an application links it: the base and the components
//! its Cargo features name.
//!
//! An application (an appliance image, a hosted program, a test) depends on
//! this crate alone and chooses its components the way the rump papers do,
//! by linking them: every component is a feature, and [`boot`] brings up
//! exactly the components of this build ([`components`]), by init level.
//!
//! | feature | component | what it is |
//! | --- | --- | --- |
//! | (none) | the base, `pagedaemon` | threads, locks, callouts, softints, memory and its reclaim |
//! | `net` | `net`, `ifconfig` | the TCP/IP stack, sockets, addresses from `ip=`/`gw=` or DHCP |
//! | `lo0` | `lo0` | the loopback interface |
//! | `virtif` | `virtif` | the host's virtual NICs (hosted kernels) |
//! | `dev` | `pci` | the dev faction: PCI functions, driver matching, interrupts, DMA |
//! | `virtio-net` | `virtio-net` | virtio NICs on PCI and virtio-mmio (bare metal) |
//! | `block` | `block` | disks `vblkN` (the host's when hosted), the buffer cache |
//! | `virtio-blk` | `virtio-blk` | virtio disks on PCI and virtio-mmio (bare metal) |
//! | `virtio-console` | `virtio-console` | virtio consoles' ports as byte streams (bare metal) |
//! | `vfs` | `vfs` | the vfs faction: mounts, path lookup, file descriptors, file calls |
//! | `tmpfs` | `tmpfs` | a memory file system, mounted at the root |
//! | `cpiofs` | (none) | read-only file systems over cpio archives (files baked into the image) |
//! | `ext2` | (none) | ext2 on a disk of the block layer (`mount=vblk0:/www:ext2`) |
//! | `vfs` | `mounts` | the file systems `mount=DEVICE:PATH:TYPE[:ro],…` names, mounted at boot ([`mounts`]) |
//! | `sysproxy` | `sysproxy` | system calls served to remote clients on the host's stream endpoints |
//!
//! A feature pulls in what its component needs (`virtio-net` brings `net`
//! and `dev`, `virtio-blk` brings `block` and `dev`), so a missing
//! dependency is a build error; a hand-made list with a gap stops
//! [`Kernel::boot`] with [`BootError::MissingComponent`], naming both.
//!
//! # The application's API
//!
//! [`boot`] gives a [`Kernel`]. A thread runs kernel code inside a
//! [`Context`], which proves it holds the kernel's virtual CPU:
//! [`Kernel::enter`] for a moment, [`Kernel::bind_thread`] for a thread's
//! life. With `net`, [`net::Net`] is the socket API (`socket`, `bind`,
//! `connect`, `read`, `write`, `poll`, …), errors as [`net::Errno`].
//! With `vfs`, [`vfs::Vfs`] is the file API (`open`, `read`, `write`,
//! `mkdir`, `rename`, `mount`, …), errors as [`vfs::Errno`]; file
//! descriptors live in the caller's process context ([`base::Process`]).
//!
//! A hosted kernel with the loopback interface, sending itself a datagram:
//!
//! ```
//! use core::net::{Ipv4Addr, SocketAddr};
//! use kernel::net::{Net, SocketType};
//! use hypercall_posix::{Posix, PosixConfig};
//!
//! let host = Posix::new(PosixConfig::default());
//! let kernel = kernel::boot(host)?;
//! let context = kernel.enter()?;
//! let net = Net::of(&context).expect("the net component is linked");
//! let here = SocketAddr::from((Ipv4Addr::LOCALHOST, 7000));
//! let socket = net.socket(&context, SocketType::Datagram)?;
//! net.bind(&context, socket, here)?;
//! net.send_to(&context, socket, b"hello", here)?;
//! let mut buffer = [0u8; 16];
//! let (length, from) = net.receive_from(&context, socket, &mut buffer)?;
//! assert_eq!((&buffer[..length], from), (&b"hello"[..], here));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![no_std]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;

pub use base::component::Component;
pub use base::{BootConfig, BootError, Context, Kernel, ThreadBinding};
pub use {base, hypercall};

#[cfg(feature = "block")]
pub use block;
#[cfg(feature = "cpiofs")]
pub use cpiofs;
#[cfg(feature = "dev")]
pub use dev;
#[cfg(feature = "ext2")]
pub use ext2_block;
#[cfg(feature = "net")]
pub use net;
#[cfg(feature = "sysproxy")]
pub use sysproxy;
#[cfg(feature = "tmpfs")]
pub use tmpfs;
#[cfg(feature = "vfs")]
pub use vfs;
#[cfg(feature = "virtio-console")]
pub use virtio_console;

#[cfg(feature = "vfs")]
pub mod mounts;

/// The components linked into this build, in the order they are listed
/// to the base (which starts them by init level, stable within a level).
pub fn components() -> Vec<&'static Component> {
    alloc::vec![
        // The base's own: memory pressure is every kernel's business.
        &base::memory::pagedaemon::PAGEDAEMON,
        #[cfg(feature = "block")]
        &block::BLOCK,
        // The vfs before its file systems: tmpfs mounts itself at the root.
        #[cfg(feature = "vfs")]
        &vfs::VFS,
        #[cfg(feature = "tmpfs")]
        &tmpfs::TMPFS,
        #[cfg(feature = "net")]
        &net::components::NET,
        #[cfg(feature = "net")]
        &net::components::IFCONFIG,
        #[cfg(feature = "lo0")]
        &net::components::LOOPBACK,
        #[cfg(feature = "virtif")]
        &virtif::VIRTIF,
        // The faction before its driver: both start at the DEV level, and
        // the faction lists the functions the driver matches.
        #[cfg(feature = "dev")]
        &dev::DEV,
        #[cfg(feature = "virtio-net")]
        &virtio_net::VIRTIO_NET,
        #[cfg(feature = "virtio-blk")]
        &virtio_blk::VIRTIO_BLK,
        #[cfg(feature = "virtio-console")]
        &virtio_console::VIRTIO_CONSOLE,
        #[cfg(feature = "sysproxy")]
        &sysproxy::SYSPROXY,
        // Last: the disks are attached by now (DEV level).
        #[cfg(feature = "vfs")]
        &mounts::MOUNTS,
    ]
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
