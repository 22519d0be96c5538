//! The vfs faction: vnodes, the mount table, path lookup, file calls.
//!
//! A file system is an `Arc<dyn` [`FileSystem`]`>`: vnode operations on
//! node ids, errno-based ([`filesystem`] states who checks what). The
//! [`Vfs`] service mounts file systems on directories ([`Vfs::mount`]),
//! walks paths across mounts and symbolic links ([`lookup`]), and offers
//! the file calls to local clients in the style of the socket API: methods
//! taking the caller's [`Context`](base::Context) and answering
//! `Result<_, Errno>`:
//!
//! | calls | where |
//! | --- | --- |
//! | `open`, `read`, `write`, `pread`, `pwrite`, `lseek`, `close`, `dup`, `fstat`, `readdir`, `ftruncate`, `fsync` | descriptors ([`calls`]) |
//! | `stat`, `lstat`, `mkdir`, `rmdir`, `unlink`, `rename`, `link`, `symlink`, `readlink`, `truncate`, `statvfs` | the namespace ([`names`]) |
//! | `mount`, `unmount`, `mounts` | the mount table ([`mount`]); what to mount at boot: `mount=` ([`spec`]) |
//! | `unmount_all` | every file system unmounted clean, run at the kernel's shutdown (`shutdown.rs`) |
//!
//! Descriptors are numbers in the caller's process context
//! ([`base::Process`]): one table for whatever any faction opens. Paths
//! are absolute or relative to the root (there is no working directory
//! yet). There are no users: permission bits are kept, never checked.
//!
//! A hosted kernel with tmpfs at the root (the `tmpfs` component):
//!
//! ```ignore
//! let vfs = Vfs::of(&context).expect("the vfs is linked");
//! let fd = vfs.open(&context, "/hello", OpenFlags::CREATE | OpenFlags::WRITE_ONLY, 0o644)?;
//! vfs.write(&context, fd, b"hello")?;
//! vfs.close(&context, fd)?;
//! assert_eq!(vfs.stat(&context, "/hello")?.attributes.size, 5);
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod calls;
pub mod errno;
pub mod file;
pub mod filesystem;
pub mod lookup;
pub mod mount;
pub mod names;
mod shutdown;
pub mod spec;
mod vfs;

pub use base::descriptor::Fd;
pub use calls::DirEntry;
pub use errno::Errno;
pub use file::{OpenFile, OpenFlags, Stat, Whence};
pub use filesystem::{
    Attributes, DirectoryEntry, EntrySink, FileSystem, NAME_MAX, NodeId, NodeKind, SetAttributes,
    StatVfs,
};
pub use mount::{Mount, MountOptions};
pub use vfs::{VFS, Vfs};
