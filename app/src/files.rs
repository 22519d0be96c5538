//! The site the appliance serves at [`SITE`]: an ext2 disk, or the files
//! baked into the image; and the directory uploads go to.
//!
//! At boot, in this order:
//! 1. what `mount=` names is mounted by the kernel's `mounts` component
//!    (e.g. `mount=vblk0:/www:ext2`);
//! 2. without `mount=`, a disk `vblk0` holding ext2 is mounted at
//!    [`SITE`]: read-write when uploads are on (`http.writable=1`),
//!    read-only otherwise, so that a disk only served is never written;
//! 3. if nothing is mounted at [`SITE`] by then, the archive baked into the
//!    image is (`cargo xtask run --files DIR`, read-only cpiofs; `app/build.rs`
//!    packs it, the same bytes on bare metal and hosted).
//!
//! Uploads go to `tmp/` of the site when the site is a writable mount
//! (created when uploads are on), else to [`UPLOADS`] on the root tmpfs.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use kernel::Context;
use kernel::block::BlockError;
use kernel::cpiofs::CpioFs;
use kernel::ext2_block::{Ext2, has_ext2};
use kernel::vfs::{Errno, Mount, MountOptions, Vfs};

/// Where the site is mounted.
pub const SITE: &str = "/www";
/// The writable directory when the site is not writable (on the root tmpfs).
pub const UPLOADS: &str = "/tmp";
/// The disk mounted at [`SITE`] when `mount=` is not given.
pub const SITE_DISK: &str = "vblk0";

/// The archive: newc cpio, empty unless the build named a directory.
static ARCHIVE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/files.cpio"));

/// What is served at [`SITE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The archive baked into the image, with this many nodes.
    Archive(usize),
    /// A file system from `mount=` or the disk found at boot.
    Mounted {
        /// Its type's name.
        kind: &'static str,
        /// Whether it refuses writes.
        read_only: bool,
    },
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Archive(nodes) => write!(f, "{nodes} nodes at {SITE}, baked into the image"),
            Self::Mounted { kind, read_only } => {
                let mode = if *read_only {
                    "read-only"
                } else {
                    "read-write"
                };
                write!(f, "{kind} at {SITE}, {mode}")
            }
        }
    }
}

/// Mounts the site (see the module docs) and makes [`UPLOADS`].
///
/// # Errors
/// [`Errno::NoFileSystem`] without a root file system, and what mounting
/// the archive says (an invalid archive: [`Errno::InvalidArgument`]).
pub fn mount(context: &Context<'_>) -> Result<Site, Errno> {
    let vfs = Vfs::of(context).ok_or(Errno::NoFileSystem)?;
    for directory in [SITE, UPLOADS] {
        match vfs.mkdir(context, directory, 0o755) {
            Ok(()) | Err(Errno::Exists) => {}
            Err(error) => return Err(error),
        }
    }
    let params = context.kernel().params();
    if !params.has(kernel::vfs::spec::PARAMETER) && site_mount(&vfs).is_none() {
        mount_site_disk(context, &vfs, !uploads_enabled(context));
    }
    if let Some(mount) = site_mount(&vfs) {
        return Ok(Site::Mounted {
            kind: mount.fs().name(),
            read_only: mount.read_only(),
        });
    }
    let archive = CpioFs::new(context, ARCHIVE)?;
    let nodes = archive.node_count();
    vfs.mount(context, SITE, archive, MountOptions { read_only: true })?;
    Ok(Site::Archive(nodes))
}

/// Whether `http.writable` turns uploads on.
pub fn uploads_enabled(context: &Context<'_>) -> bool {
    let params = context.kernel().params();
    matches!(params.get("http.writable"), Some("1" | "yes" | "true"))
}

/// The mount at [`SITE`], if there is one.
fn site_mount(vfs: &Vfs) -> Option<Arc<Mount>> {
    vfs.mounts().into_iter().rev().find(|m| m.path() == SITE)
}

/// Mounts [`SITE_DISK`] at [`SITE`] if it holds ext2; says why not if it
/// is there and cannot be mounted.
fn mount_site_disk(context: &Context<'_>, vfs: &Vfs, read_only: bool) {
    match has_ext2(context, SITE_DISK) {
        Ok(true) => {}
        Ok(false) => return log::info!("files: {SITE_DISK} holds no ext2 file system"),
        Err(BlockError::NoDevice) => return,
        Err(error) => return log::warn!("files: {SITE_DISK}: {error}"),
    }
    let mounted = Ext2::mount(context, SITE_DISK, read_only)
        .map_err(|error| format!("{error}"))
        .and_then(|ext2| {
            let options = MountOptions::default();
            vfs.mount(context, SITE, ext2, options)
                .map_err(|errno| format!("{errno}"))
        });
    if let Err(why) = mounted {
        log::warn!("files: {SITE_DISK} not mounted at {SITE}: {why}");
    }
}

/// The directory uploads go to: `tmp` of the site when the site can be
/// written (made here if missing), else [`UPLOADS`].
pub fn upload_directory(context: &Context<'_>, vfs: &Vfs) -> String {
    let Some(mount) = site_mount(vfs).filter(|mount| !mount.read_only()) else {
        return String::from(UPLOADS);
    };
    let path = format!("{SITE}/tmp");
    match vfs.mkdir(context, &path, 0o755) {
        Ok(()) | Err(Errno::Exists) => path,
        Err(error) => {
            log::warn!("files: no {path} on the {}: {error}", mount.fs().name());
            String::from(UPLOADS)
        }
    }
}
