//! The vfs faction as a kernel service: the mount table and the calls.
//!
//! [`Vfs::install`] makes the service (the `vfs` component does it at the
//! VFS init level); [`Vfs::of`] finds it from a context. The file calls
//! are methods on it, in `calls.rs` (descriptors) and `names.rs` (the
//! namespace), and take the caller's [`Context`]: its process context
//! holds the descriptors.

use alloc::sync::Arc;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};

use crate::mount::MountTable;

/// The vfs faction of one kernel.
pub struct Vfs {
    mounts: spin::Mutex<MountTable>,
}

/// The faction's component: installs the service. A file system
/// component (tmpfs) then mounts the root, or the application does.
pub static VFS: Component = Component {
    name: "vfs",
    level: InitLevel::Vfs,
    requires: &[],
    init: init_vfs,
};

fn init_vfs(context: &Context<'_>) -> Result<(), ComponentError> {
    Vfs::install(context);
    Ok(())
}

impl Vfs {
    /// Makes the service of this kernel, with nothing mounted; everything
    /// mounted later is unmounted when the kernel shuts down
    /// ([`Vfs::unmount_all`]).
    pub fn install(context: &Context<'_>) -> Arc<Self> {
        let vfs = Arc::new(Self {
            mounts: spin::Mutex::new(MountTable::default()),
        });
        context.kernel().install_service(context, vfs.clone());
        vfs.unmount_at_shutdown(context);
        vfs
    }

    /// The service, when the faction is linked.
    pub fn of(context: &Context<'_>) -> Option<Arc<Self>> {
        context.kernel().service::<Vfs>(context)
    }

    /// Whether a root file system is mounted.
    pub fn has_root(&self) -> bool {
        self.table().root().is_some()
    }

    pub(crate) fn table(&self) -> spin::MutexGuard<'_, MountTable> {
        self.mounts.lock()
    }
}

impl core::fmt::Debug for Vfs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Vfs")
            .field("mounts", &self.table().mounts())
            .finish()
    }
}
