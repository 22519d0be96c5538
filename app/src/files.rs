//! The files baked into the image, mounted read-only at [`SITE`], and a
//! writable tmpfs directory at [`UPLOADS`].
//!
//! The archive is what `app/build.rs` packed from the directory named by
//! `ANYKERNEL_FILES` at build time (`cargo xtask run --files DIR`): the
//! same bytes on bare metal and hosted, read in place by cpiofs.

use kernel::Context;
use kernel::cpiofs::CpioFs;
use kernel::vfs::{Errno, MountOptions, Vfs};

/// Where the baked-in files are mounted.
pub const SITE: &str = "/www";
/// The writable directory (on the root tmpfs).
pub const UPLOADS: &str = "/tmp";

/// The archive: newc cpio, empty unless the build named a directory.
static ARCHIVE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/files.cpio"));

/// Mounts the archive at [`SITE`] and makes [`UPLOADS`]; how many nodes
/// the archive holds.
///
/// # Errors
/// [`Errno::NoFileSystem`] without a root file system, and what mounting
/// says (an invalid archive: [`Errno::InvalidArgument`]).
pub fn mount(context: &Context<'_>) -> Result<usize, Errno> {
    let vfs = Vfs::of(context).ok_or(Errno::NoFileSystem)?;
    for directory in [SITE, UPLOADS] {
        match vfs.mkdir(context, directory, 0o755) {
            Ok(()) | Err(Errno::Exists) => {}
            Err(error) => return Err(error),
        }
    }
    let archive = CpioFs::new(context, ARCHIVE)?;
    let nodes = archive.node_count();
    let options = MountOptions { read_only: true };
    vfs.mount(context, SITE, archive, options)?;
    Ok(nodes)
}
