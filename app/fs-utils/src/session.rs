//! The hosted kernel a command runs in: boot, mount, run, unmount, stop.
//!
//! The kernel links the base, the block layer and the vfs faction, no
//! more. Its one disk is the image file (`vblk0`: the block hypercall
//! group over the file, opened read-only for commands that only read);
//! ext2 is mounted on it at the root as the `mounts` component mounts
//! `mount=vblk0:/:ext2[:ro]`, the same function doing it. The command
//! runs in this thread's process context through the vfs's file calls
//! ([`Session`]); then the root is unmounted (written back, marked clean
//! when it was clean) whatever the command answered, and the kernel is
//! shut down, which closes the disk.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;

use hypercall_posix::block::DiskSpec;
use hypercall_posix::{Posix, PosixConfig};
use kernel::base::memory::pagedaemon::PAGEDAEMON;
use kernel::vfs::spec::MountSpec;
use kernel::vfs::{Errno, Fd, OpenFlags, Vfs};
use kernel::{BootConfig, Component, Context, Kernel};

use crate::Command;
use crate::commands;

/// What the kernel links: memory reclaim, the disks and their cache, the
/// vfs. ext2 is mounted by hand, not by the `mounts` component.
static COMPONENTS: [&Component; 3] = [&PAGEDAEMON, &kernel::block::BLOCK, &kernel::vfs::VFS];

/// Boot parameters: only warnings and errors reach standard error.
const PARAMETERS: &str = "log=warn";

/// The image's disk, the only one.
const DISK: &str = "vblk0";

/// The vfs and the context its calls are made in.
pub struct Session<'c, 'k> {
    /// The kernel's vfs, with the image mounted at the root.
    pub vfs: Arc<Vfs>,
    /// This thread's context in the kernel.
    pub context: &'c Context<'k>,
}

/// A message naming what failed: `PATH: reason (ERRNO)`.
pub fn failed(what: impl std::fmt::Display) -> impl Fn(Errno) -> String {
    move |errno| format!("{what}: {} ({})", errno.text(), errno.name())
}

/// Boots a kernel on `image`, runs `command` in it, shuts it down.
pub fn run(image: &Path, command: &Command) -> Result<(), String> {
    let write = command.writes();
    let named = image.display();
    // The host's own words for a missing or forbidden file, before the
    // kernel would only say it has no disk.
    let access = OpenOptions::new().read(true).write(write).open(image);
    drop(access.map_err(|error| format!("{named}: {error}"))?);
    let kernel = boot(image, write)?;
    let result = inside(&kernel, image, command, write);
    kernel.shutdown();
    result
}

fn boot(image: &Path, write: bool) -> Result<Arc<Kernel>, String> {
    let host = PosixConfig {
        boot_parameters: String::from(PARAMETERS),
        disks: vec![DiskSpec {
            path: image.to_path_buf(),
            read_only: !write,
            failing: None,
        }],
        ..PosixConfig::default()
    };
    let config = BootConfig {
        components: &COMPONENTS,
    };
    Kernel::boot(Posix::new(host), config)
        .map_err(|error| format!("the kernel did not boot: {error}"))
}

/// Mounts, runs, unmounts, in a context of this thread.
fn inside(
    kernel: &Arc<Kernel>,
    image: &Path,
    command: &Command,
    write: bool,
) -> Result<(), String> {
    let named = image.display();
    let binding = kernel
        .bind_thread()
        .map_err(|error| format!("the kernel: {error}"))?;
    let context = binding.enter();
    let vfs = Vfs::of(&context).ok_or("the kernel has no vfs")?;
    let spec = MountSpec {
        device: String::from(DISK),
        path: String::from("/"),
        kind: String::from("ext2"),
        read_only: !write,
    };
    kernel::mounts::mount(&context, &vfs, &spec)
        .map_err(|failure| format!("{named}: {failure}"))?;
    let session = Session {
        vfs,
        context: &context,
    };
    let result = commands::dispatch(&session, command);
    let unmounted = session.vfs.unmount(&context, "/");
    result.and(unmounted.map_err(failed(format!("{named}: unmount"))))
}

/// An open descriptor, closed when dropped.
pub struct Open<'s, 'c, 'k> {
    session: &'s Session<'c, 'k>,
    /// The descriptor.
    pub fd: Fd,
}

impl Drop for Open<'_, '_, '_> {
    fn drop(&mut self) {
        // A close fails only for a descriptor that is not open.
        let _ = self.session.vfs.close(self.session.context, self.fd);
    }
}

impl<'c, 'k> Session<'c, 'k> {
    /// Opens `path` (absolute) with `flags`, for as long as the answer lives.
    pub fn open(
        &self,
        path: &str,
        flags: OpenFlags,
        permissions: u16,
    ) -> Result<Open<'_, 'c, 'k>, Errno> {
        let fd = self.vfs.open(self.context, path, flags, permissions)?;
        Ok(Open { session: self, fd })
    }
}
