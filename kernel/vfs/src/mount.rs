//! The mount table: which file system covers which directory.
//!
//! A [`Mount`] is a file system attached at a directory of another mount
//! (the *covered* node), or at the root. Open files and mounts on top hold
//! it by `Arc`, so "busy" is its reference count: [`Vfs::unmount`] refuses
//! (EBUSY) while anything but the table and the caller holds it.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use base::Context;
use log::info;

use crate::errno::Errno;
use crate::filesystem::{FileSystem, NodeId, NodeKind};
use crate::vfs::Vfs;

/// How a file system is mounted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MountOptions {
    /// Writes answer EROFS.
    pub read_only: bool,
}

/// A mounted file system.
pub struct Mount {
    id: u32,
    fs: Arc<dyn FileSystem>,
    read_only: bool,
    /// The mount and directory this one covers; `None` for the root.
    covered: Option<(Arc<Mount>, NodeId)>,
    path: String,
}

static NEXT_MOUNT_ID: AtomicU32 = AtomicU32::new(1);

impl Mount {
    /// Its number (`st_dev`).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The file system.
    pub fn fs(&self) -> &Arc<dyn FileSystem> {
        &self.fs
    }

    /// Whether writes are refused, by the mount or the file system.
    pub fn read_only(&self) -> bool {
        self.read_only || self.fs.read_only()
    }

    /// Where it was mounted.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn covered(&self) -> Option<&(Arc<Mount>, NodeId)> {
        self.covered.as_ref()
    }

    /// EROFS unless writable.
    pub(crate) fn writable(&self) -> Result<(), Errno> {
        if self.read_only() {
            return Err(Errno::ReadOnly);
        }
        Ok(())
    }
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("id", &self.id)
            .field("fs", &self.fs.name())
            .field("path", &self.path)
            .field("read_only", &self.read_only())
            .finish()
    }
}

/// A node and the mount it was reached through.
#[derive(Clone)]
pub(crate) struct Location {
    pub(crate) mount: Arc<Mount>,
    pub(crate) node: NodeId,
}

impl Location {
    pub(crate) fn fs(&self) -> &dyn FileSystem {
        &*self.mount.fs
    }

    pub(crate) fn same(&self, other: &Location) -> bool {
        Arc::ptr_eq(&self.mount, &other.mount) && self.node == other.node
    }

    pub(crate) fn kind(&self, context: &Context<'_>) -> Result<NodeKind, Errno> {
        Ok(self.fs().getattr(context, self.node)?.kind)
    }

    pub(crate) fn is_mount_root(&self) -> bool {
        self.node == self.mount.fs.root()
    }
}

/// The table.
#[derive(Default)]
pub(crate) struct MountTable {
    mounts: Vec<Arc<Mount>>,
}

impl MountTable {
    pub(crate) fn root(&self) -> Option<Location> {
        let root = self.mounts.iter().find(|m| m.covered.is_none())?;
        Some(Location {
            mount: root.clone(),
            node: root.fs.root(),
        })
    }

    /// The mount covering `at`, if one does.
    pub(crate) fn covering(&self, at: &Location) -> Option<Arc<Mount>> {
        self.mounts
            .iter()
            .find(|m| {
                m.covered
                    .as_ref()
                    .is_some_and(|(mount, node)| Arc::ptr_eq(mount, &at.mount) && *node == at.node)
            })
            .cloned()
    }

    pub(crate) fn mounts(&self) -> &[Arc<Mount>] {
        &self.mounts
    }

    /// Takes `mount` out of the table.
    pub(crate) fn remove(&mut self, mount: &Arc<Mount>) {
        self.mounts.retain(|m| !Arc::ptr_eq(m, mount));
    }
}

impl Vfs {
    /// Mounts `fs` on the directory `path` (or as the root, when nothing is
    /// mounted yet and `path` is `/`). As on Linux, a mount on a mount
    /// point stacks on top and hides the one below until unmounted.
    ///
    /// # Errors
    /// [`Errno::NotDirectory`], lookup errors, and [`Errno::Busy`] for a
    /// second root.
    pub fn mount(
        &self,
        context: &Context<'_>,
        path: &str,
        fs: Arc<dyn FileSystem>,
        options: MountOptions,
    ) -> Result<(), Errno> {
        let covered = if self.table().root().is_none() && path == "/" {
            None
        } else {
            let at = self.resolve(context, path.as_bytes(), true)?;
            if at.kind(context)? != NodeKind::Directory {
                return Err(Errno::NotDirectory);
            }
            Some((at.mount, at.node))
        };
        let mount = Arc::new(Mount {
            id: NEXT_MOUNT_ID.fetch_add(1, Relaxed),
            read_only: options.read_only,
            covered,
            path: String::from(path),
            fs,
        });
        let mut table = self.table();
        if let Some((parent, node)) = &mount.covered {
            let at = Location {
                mount: parent.clone(),
                node: *node,
            };
            if table.covering(&at).is_some() {
                return Err(Errno::Busy);
            }
        } else if table.root().is_some() {
            return Err(Errno::Busy);
        }
        let mode = if mount.read_only() { ", read-only" } else { "" };
        info!("vfs: {} mounted on {path}{mode}", mount.fs.name());
        table.mounts.push(mount);
        Ok(())
    }

    /// Unmounts the file system mounted on `path`.
    ///
    /// # Errors
    /// [`Errno::Busy`] while files are open in it or something is mounted
    /// on it; [`Errno::InvalidArgument`] when `path` is no mount point.
    pub fn unmount(&self, context: &Context<'_>, path: &str) -> Result<(), Errno> {
        let at = self.resolve(context, path.as_bytes(), true)?;
        if !at.is_mount_root() {
            return Err(Errno::InvalidArgument);
        }
        let mount = at.mount;
        // The table's `Arc` and ours: anything more is an open file or a
        // mount on top.
        if Arc::strong_count(&mount) > 2 {
            return Err(Errno::Busy);
        }
        mount.fs.unmount(context)?;
        let mut table = self.table();
        if Arc::strong_count(&mount) > 2 {
            return Err(Errno::Busy);
        }
        table.remove(&mount);
        info!("vfs: {} unmounted from {}", mount.fs.name(), mount.path);
        Ok(())
    }

    /// The mounts, root first.
    pub fn mounts(&self) -> Vec<Arc<Mount>> {
        self.table().mounts().to_vec()
    }
}
