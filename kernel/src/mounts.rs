//! The `mounts` component: the file systems `mount=` names, mounted at boot.
//!
//! It starts last (`KERN_VFS`, after the drivers have attached their
//! disks) and mounts each entry of `mount=DEVICE:PATH:TYPE[:ro]` (see
//! [`vfs::spec`]) in order, making the mount point and its parents on the
//! way. The types are the file systems this build links: `ext2` (feature
//! `ext2`, on a disk of the block layer) and `tmpfs` (feature `tmpfs`; its
//! device is ignored, its size `tmpfs.size=` or half the memory limit). An
//! entry that cannot be used (it does not parse, the type is not linked,
//! the disk is missing or holds no usable file system) is logged with the
//! reason and left out; the boot goes on.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use log::{info, warn};
use vfs::spec::{MountSpec, PARAMETER, SpecError, parse_list};
use vfs::{Errno, FileSystem, MountOptions, Vfs};

/// The component.
pub static MOUNTS: Component = Component {
    name: "mounts",
    level: InitLevel::KernVfs,
    requires: &["vfs"],
    init,
};

/// Why one entry was left out (or why [`mount`] failed).
#[derive(Debug)]
pub enum Failure {
    /// It does not parse.
    Spec(SpecError),
    /// This build links no file system of that type.
    UnknownType(String),
    /// The ext2 file system would not mount.
    #[cfg(feature = "ext2")]
    Ext2(ext2_block::MountError),
    /// The vfs refused (the mount point, the mount itself).
    Vfs(Errno),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spec(error) => write!(f, "{error}"),
            Self::UnknownType(kind) => write!(
                f,
                "no file system of type `{kind}` in this build (types: {})",
                TYPES.join(", ")
            ),
            #[cfg(feature = "ext2")]
            Self::Ext2(error) => write!(f, "{error}"),
            Self::Vfs(errno) => write!(f, "{errno}"),
        }
    }
}

impl From<Errno> for Failure {
    fn from(errno: Errno) -> Self {
        Self::Vfs(errno)
    }
}

/// The types this build mounts, for the message above.
const TYPES: &[&str] = &[
    #[cfg(feature = "ext2")]
    "ext2",
    #[cfg(feature = "tmpfs")]
    "tmpfs",
];

fn init(context: &Context<'_>) -> Result<(), ComponentError> {
    let params = context.kernel().params();
    let Some(value) = params.get(PARAMETER) else {
        return Ok(());
    };
    let vfs = Vfs::of(context).ok_or(ComponentError::Failed("the vfs did not start"))?;
    for entry in parse_list(value) {
        let outcome = entry
            .map_err(Failure::Spec)
            .and_then(|spec| mount(context, &vfs, &spec).map(|()| spec));
        match outcome {
            Ok(spec) => info!("{PARAMETER}={spec}: mounted"),
            Err(failure) => warn!("{PARAMETER}: {failure}; not mounted"),
        }
    }
    Ok(())
}

/// Mounts one entry, making its mount point first: what the component
/// does for each entry of `mount=`, for a program that mounts on its own
/// (the `anykernel-fs` host tool).
///
/// # Errors
/// A [`Failure`] saying why; nothing is mounted then.
pub fn mount(context: &Context<'_>, vfs: &Vfs, spec: &MountSpec) -> Result<(), Failure> {
    let fs = file_system(context, spec)?;
    make_directories(context, vfs, &spec.path)?;
    let options = MountOptions {
        read_only: spec.read_only,
    };
    vfs.mount(context, &spec.path, fs, options)
        .map_err(Failure::Vfs)
}

/// The file system an entry names, ready to mount.
fn file_system(context: &Context<'_>, spec: &MountSpec) -> Result<Arc<dyn FileSystem>, Failure> {
    // A build without ext2 and tmpfs has no use for the context.
    let _ = context;
    match spec.kind.as_str() {
        #[cfg(feature = "ext2")]
        "ext2" => ext2_block::Ext2::mount(context, &spec.device, spec.read_only)
            .map(|fs| fs as Arc<dyn FileSystem>)
            .map_err(Failure::Ext2),
        #[cfg(feature = "tmpfs")]
        "tmpfs" => {
            let kernel = context.kernel();
            let size = kernel.params().get_size("tmpfs.size").ok().flatten();
            let size = size.unwrap_or(kernel.memory().stats().limit / 2);
            Ok(tmpfs::Tmpfs::new(context, size)?)
        }
        other => Err(Failure::UnknownType(String::from(other))),
    }
}

/// Makes `path` and its parents where missing (`mkdir -p`).
fn make_directories(context: &Context<'_>, vfs: &Vfs, path: &str) -> Result<(), Errno> {
    let mut prefix = String::new();
    for name in path.split('/').filter(|name| !name.is_empty()) {
        prefix.push('/');
        prefix.push_str(name);
        match vfs.mkdir(context, &prefix, 0o755) {
            Ok(()) | Err(Errno::Exists) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
