//! The ext2 driver on the block layer: a volume as its block device.
//!
//! `kernel/vfs/ext2` is a plain library over its own [`ext2::BlockDevice`]
//! trait (so that the fuzz target needs no kernel); this crate gives it
//! the kernel's disks (the `anykernel-fs` host tool's too: a hosted
//! kernel with the image file as its disk). [`VolumeDevice`] is a
//! block-layer [`block::Volume`] seen through that trait: reads and writes
//! go through the buffer cache, a flush is the volume's sync (write back,
//! then flush the device). [`mount`] mounts disk `vblkN` by name, with the
//! volume in the file system's own block size so that one ext2 block is
//! one cache buffer.
//!
//! ```text
//! let context = kernel.enter()?;
//! let mut fs = ext2_block::mount(&context, "vblk0", MountOptions::default())?;
//! let file = fs.create(fs.root(), b"hello", access)?;
//! fs.write_at(file, 0, b"hello, disk")?;
//! fs.unmount()?;                       // written back, flushed, clean
//! ```
//!
//! Every volume call takes the caller's [`base::Context`], and ext2's
//! trait has no place for one: a [`VolumeDevice`] borrows the context it
//! was made with, so a file system mounted through [`mount`] lives inside
//! that context (a test's, a host tool's bound thread). [`Ext2`] is the
//! mount that outlives one call: the vfs's `FileSystem`, which keeps the
//! file system detached between calls and attaches each caller's context
//! for the length of its operation (`filesystem.rs`).
//!
//! ```text
//! let ext2 = Ext2::mount(&context, "vblk0", false)?;
//! vfs.mount(&context, "/www", ext2, vfs::MountOptions::default())?;
//! let fd = vfs.open(&context, "/www/index.html", OpenFlags::READ_ONLY, 0)?;
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod device;
mod errno;
mod filesystem;
mod mount;
mod nodes;
mod operations;

pub use device::VolumeDevice;
pub use filesystem::Ext2;
pub use mount::{MountError, has_ext2, mount, open_volume};
