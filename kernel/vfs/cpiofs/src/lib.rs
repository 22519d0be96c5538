//! cpiofs: a read-only file system over a cpio archive in memory.
//!
//! The seeds' rumpfs/etfs idea for images without disks: an application
//! bakes a directory into its image at build time as a "newc" cpio
//! archive (`cargo xtask run --files DIR`) and mounts it at boot. The
//! archive stays where it is (`&'static` bytes in the image); only the
//! tree of names is built, charged to the kernel's `cpiofs` account. File
//! data is read in place, so the file system costs a few dozen bytes per
//! node whatever the files' sizes.
//!
//! Entries are regular files, directories and symbolic links (others are
//! skipped); a directory missing from the archive is made for the paths
//! below it. Names are relative (a leading `./` or `/` is dropped); an
//! entry with a `..` component, an empty name component past
//! [`vfs::NAME_MAX`], a path under a non-directory or a name given twice
//! makes the archive invalid. Every write answers EROFS.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod build;
mod operations;

use alloc::sync::Arc;
use alloc::vec::Vec;

use base::Context;
use base::memory::Account;
use vfs::{Errno, NodeId, NodeKind};

/// What each node costs besides its name.
const NODE_BYTES: usize = core::mem::size_of::<Node>() + 32;

/// A read-only file system over an archive.
pub struct CpioFs {
    /// Node `n` is `nodes[n - 1]`; the root is 1.
    nodes: Vec<Node>,
    account: Account,
    charged: usize,
}

/// A node: a slice of the archive, or a directory's sorted entries.
struct Node {
    content: Content,
    permissions: u16,
    modified_ns: u64,
    parent: NodeId,
}

enum Content {
    File(&'static [u8]),
    Symlink(&'static [u8]),
    /// Sorted by name.
    Directory(Vec<(&'static [u8], NodeId)>),
}

impl Node {
    fn kind(&self) -> NodeKind {
        match self.content {
            Content::File(_) => NodeKind::File,
            Content::Symlink(_) => NodeKind::Symlink,
            Content::Directory(_) => NodeKind::Directory,
        }
    }
}

impl CpioFs {
    /// Reads `archive`'s names, charging the tree to the kernel's
    /// `cpiofs` account.
    ///
    /// # Errors
    /// [`Errno::InvalidArgument`] for an invalid archive (see the module
    /// docs), [`Errno::OutOfMemory`] when the charge is refused.
    pub fn new(context: &Context<'_>, archive: &'static [u8]) -> Result<Arc<Self>, Errno> {
        let account = context.kernel().memory().account("cpiofs");
        let nodes = build::tree(archive)?;
        let charged = nodes.len() * NODE_BYTES + build::name_bytes(&nodes);
        account.charge(charged).map_err(|_| Errno::OutOfMemory)?;
        Ok(Arc::new(Self {
            nodes,
            account,
            charged,
        }))
    }

    /// Nodes in the tree, the root included.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn node(&self, id: NodeId) -> Result<&Node, Errno> {
        let index = usize::try_from(id).ok().and_then(|id| id.checked_sub(1));
        index
            .and_then(|index| self.nodes.get(index))
            .ok_or(Errno::NotFound)
    }
}

impl Drop for CpioFs {
    fn drop(&mut self) {
        self.account.release(self.charged);
    }
}

impl core::fmt::Debug for CpioFs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CpioFs")
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}
