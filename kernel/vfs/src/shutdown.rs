//! Every file system unmounted when the kernel shuts down.
//!
//! NetBSD's `vfs_shutdown`: an orderly shutdown ([`base::Kernel::shutdown`],
//! which a hosted program runs before it exits and an appliance before it
//! powers off) must leave every disk as a clean unmount would, without
//! `fsck`. [`Vfs::install`] registers a hook in the
//! [`ShutdownStage::FileSystems`] stage, which runs while disks, the buffer
//! cache and kernel threads still work (their own hooks come in the
//! [`ShutdownStage::Devices`] stage); it unmounts every mount, the latest
//! first, so a mount goes before the one it covers.
//!
//! Unlike [`Vfs::unmount`] this does not wait for open files: each file
//! system's [`FileSystem::unmount`](crate::FileSystem::unmount) writes it
//! back and marks it clean all the same (ext2 frees what unlinked files
//! still open held, as at their last close). A file system that fails to
//! write back is logged and taken out of the table anyway.

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};

use base::{Context, Kernel, ShutdownStage};
use log::{info, warn};

use crate::errno::Errno;
use crate::vfs::Vfs;

impl Vfs {
    /// Registers the unmount of everything at the kernel's shutdown.
    pub(crate) fn unmount_at_shutdown(self: &Arc<Self>, context: &Context<'_>) {
        let kernel = context.kernel();
        let vfs = Arc::downgrade(self);
        let weak_kernel = Arc::downgrade(&kernel.arc());
        let hook = Box::new(move || shut_down(&vfs, &weak_kernel));
        kernel.on_shutdown_at(ShutdownStage::FileSystems, hook);
    }

    /// Unmounts every file system, the latest mount first, open files or
    /// not (see the module docs).
    ///
    /// # Errors
    /// The first file system's error; the others are still unmounted.
    pub fn unmount_all(&self, context: &Context<'_>) -> Result<(), Errno> {
        let mut first_error = None;
        loop {
            let Some(mount) = self.table().mounts().last().cloned() else {
                break;
            };
            let (name, path) = (mount.fs().name(), mount.path());
            match mount.fs().unmount(context) {
                Ok(()) => info!("vfs: {name} unmounted from {path}"),
                Err(error) => {
                    warn!("vfs: {name} on {path}: {error}; left as it is");
                    first_error.get_or_insert(error);
                }
            }
            self.table().remove(&mount);
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn shut_down(vfs: &Weak<Vfs>, kernel: &Weak<Kernel>) {
    let (Some(vfs), Some(kernel)) = (vfs.upgrade(), kernel.upgrade()) else {
        return;
    };
    let Ok(context) = kernel.enter() else {
        warn!("vfs: no context at shutdown; file systems left mounted");
        return;
    };
    // Each failure is logged where it happens.
    let _ = vfs.unmount_all(&context);
}
