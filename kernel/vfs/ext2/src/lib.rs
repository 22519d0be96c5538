//! ext2 (revision 1, no journal), read-write, over a block-device trait.
//!
//! The driver of the vfs faction for ext2 images made by Linux's
//! `mke2fs`, written so that Linux's `e2fsck -fn` finds them clean after
//! any sequence of operations, a full disk included. It is a plain
//! library: no kernel services, no locks, no clock of its own. The vfs
//! (or the `anykernel-fs` host tool) wraps it:
//!
//! - a [`BlockDevice`] gives it blocks (the buffer cache, a host file, or
//!   [`MemoryDevice`]);
//! - [`Fs::mount`] checks the superblock and group descriptors and marks
//!   the file system not clean while mounted read-write;
//! - the operations are inode-oriented and return an [`Error`] that maps
//!   onto an errno ([`Error::errno`]): [`Fs::lookup`], [`Fs::getattr`],
//!   [`Fs::read_at`], [`Fs::write_at`], [`Fs::truncate`], [`Fs::create`],
//!   [`Fs::make_node`], [`Fs::mkdir`], [`Fs::unlink`], [`Fs::rmdir`],
//!   [`Fs::rename`], [`Fs::link`], [`Fs::symlink`], [`Fs::readlink`],
//!   [`Fs::readdir`], [`Fs::setattr`], [`Fs::statfs`], [`Fs::sync`];
//! - [`Fs::pin`] and [`Fs::unpin`] keep an open inode alive after its
//!   last name is gone; [`Fs::unmount`] leaves the file system clean;
//! - [`Fs::map_device`] swaps the device between operations, so a
//!   mounted file system can rest *detached* (holding a plain value where
//!   its device goes) and be attached again for the next call.
//!
//! Supported: 1, 2 and 4 KiB blocks; direct to triple indirect blocks;
//! holes; hard links; fast and slow symlinks; device nodes, pipes and
//! sockets; `large_file`; `filetype`; `sparse_super`; `dir_index` images
//! (read as linear directories; a written directory loses its index flag,
//! see `directory_write.rs`). Extended attributes are kept, not read.
//! Unknown incompatible features refuse the mount, naming them; unknown
//! read-only compatible ones (e.g. `metadata_csum`, `huge_file`) give a
//! read-only mount.
//!
//! Damaged images give [`Error::Corrupt`] or [`Error::BadSuperblock`],
//! never a panic or an endless loop: every on-disk number is checked
//! before use and every walk is bounded (the `ext2` fuzz target).
//!
//! Not done: `e2fsck`'s job (no repair), quotas, ACLs, reading extended
//! attributes, the orphan list, access times on read.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod allocator;
mod attributes;
mod blockmap;
mod blocktree;
mod create;
mod device;
mod directory;
mod directory_write;
mod error;
mod features;
mod file;
mod fs;
mod groups;
mod inode;
mod layout;
mod readdir;
mod remove;
mod rename;
mod superblock;

pub use attributes::{Attributes, SetAttributes, StatFs};
pub use create::Access;
pub use device::{BlockDevice, MemoryDevice};
pub use error::{Error, IoError, Result};
pub use features::FeatureNames;
pub use fs::{Clock, Fs, MountOptions, ReadOnlyReason};
pub use inode::{FileKind, InodeNumber};
pub use readdir::DirEntry;
