//! ext2 on a volume as a vfs file system: the mount that outlives a call.
//!
//! Every volume call needs its caller's [`Context`], and ext2's file
//! system owns its device, so a mount cannot hold one device for good.
//! [`Ext2`] keeps the file system *detached* between calls: an
//! `Fs<Volume>` in a kernel sleep lock. Each vfs operation takes the lock,
//! attaches a [`VolumeDevice`] for its own context
//! ([`ext2::Fs::map_device`]), runs the ext2 operation, detaches and puts
//! the file system back, whatever the operation answered. The lock is held
//! across the operation's I/O: one operation at a time per mount, as
//! ext2's `&mut self` operations want anyway.
//!
//! Open files pin their inodes (an unlinked open file keeps its blocks).
//! The vfs says [`vfs::FileSystem::opened`] and `released` without a
//! context, possibly outside the kernel, so they only count; the next
//! operation (or the unmount) brings ext2's pins in line with the counts
//! before it does anything else, and that is when an unlinked file whose
//! last open file went is freed.
//!
//! After the vfs's unmount (which leaves the file system clean) the mount
//! holds only its volume; should the vfs keep it after all (its unmount
//! found it busy), the next operation mounts it again, unless the kernel
//! is shutting down (the vfs unmounted everything: the disk stays clean).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use base::Context;
use base::hypercall::Hypercalls;
use base::sync::Mutex;
use block::Volume;
use ext2::{Fs, MountOptions};
use log::{info, warn};
use vfs::{Errno, NodeId};

use crate::device::VolumeDevice;
use crate::errno::errno;
use crate::mount::{MountError, mount};

/// ext2 on a disk of the block layer, as an `Arc<dyn vfs::FileSystem>`.
pub struct Ext2 {
    /// The volume, for mounting again after an unmount.
    volume: Volume,
    /// Whether ext2 could not be written (asked, its features, the disk).
    read_only: bool,
    /// Bytes per ext2 block (`st_blksize`).
    pub(crate) block_size: u32,
    /// Where inode times come from.
    host: Arc<dyn Hypercalls>,
    resting: Mutex<Resting>,
    /// Open files per node, counted without a context.
    opens: spin::Mutex<Opens>,
}

/// The file system between operations.
struct Resting {
    /// `None` once unmounted.
    fs: Option<Fs<Volume>>,
    /// The inodes ext2 holds pinned for open files.
    pinned: BTreeSet<ext2::InodeNumber>,
}

/// What the vfs said about open files since the last operation.
#[derive(Default)]
struct Opens {
    /// Open files of each node that has any.
    counts: BTreeMap<NodeId, u32>,
    /// Nodes whose count changed since the pins were last brought in line.
    touched: BTreeSet<NodeId>,
}

/// The file system of one operation: attached to its caller's context.
pub(crate) type Attached<'c, 'k> = Fs<VolumeDevice<'c, 'k>>;

impl Ext2 {
    /// Mounts the ext2 file system on disk `name` (`vblk0`, …) for the
    /// vfs; read-only when `read_only` says so, or the disk or the file
    /// system's features do.
    ///
    /// # Errors
    /// As [`crate::mount`].
    pub fn mount(
        context: &Context<'_>,
        name: &str,
        read_only: bool,
    ) -> Result<Arc<Self>, MountError> {
        let host = context.kernel().hypercalls_arc().clone();
        let fs = mount(context, name, options(&host, read_only))?;
        let totals = fs.statfs();
        let block_size = totals.block_size;
        let fs = fs.map_device(VolumeDevice::into_volume);
        let read_only = fs.read_only_reason().is_some();
        info!(
            "{name}: ext2, {} blocks of {block_size} bytes, {} free{}",
            totals.blocks,
            totals.free_blocks,
            if read_only { ", read-only" } else { "" }
        );
        Ok(Arc::new(Self {
            volume: fs.device().clone(),
            read_only,
            block_size,
            host,
            resting: Mutex::new(Resting {
                fs: Some(fs),
                pinned: BTreeSet::new(),
            }),
            opens: spin::Mutex::new(Opens::default()),
        }))
    }

    /// Whether the file system cannot be written.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The volume it is on.
    pub fn volume(&self) -> &Volume {
        &self.volume
    }

    /// Runs `operation` on the file system attached to `context`, with
    /// the pins brought in line first; ext2's error as an errno.
    pub(crate) fn with<'c, 'k, T>(
        &self,
        context: &'c Context<'k>,
        operation: impl FnOnce(&mut Attached<'c, 'k>) -> ext2::Result<T>,
    ) -> Result<T, Errno> {
        let mut resting = self.resting.lock(context);
        let mut fs = self.attach(context, &mut resting)?;
        self.apply_pins(&mut fs, &mut resting.pinned);
        let result = operation(&mut fs);
        let block_error = fs.device().last_error();
        resting.fs = Some(fs.map_device(VolumeDevice::into_volume));
        result.map_err(|error| errno(error, block_error))
    }

    /// The file system attached to `context`, mounted again if the vfs
    /// unmounted it.
    fn attach<'c, 'k>(
        &self,
        context: &'c Context<'k>,
        resting: &mut Resting,
    ) -> Result<Attached<'c, 'k>, Errno> {
        if let Some(fs) = resting.fs.take() {
            return Ok(fs.map_device(|volume| VolumeDevice::new(volume, context)));
        }
        if context.kernel().is_shutting_down() {
            // Unmounted at shutdown: the disk stays as it was left, clean.
            return Err(Errno::NoFileSystem);
        }
        let device = VolumeDevice::new(self.volume.clone(), context);
        let fs = Fs::mount(device, options(&self.host, self.read_only)).map_err(|error| {
            warn!(
                "{}: ext2 cannot be mounted again: {error}",
                self.volume.name()
            );
            errno(error, None)
        })?;
        resting.pinned.clear();
        let mut opens = self.opens.lock();
        let open: Vec<NodeId> = opens.counts.keys().copied().collect();
        opens.touched.extend(open);
        Ok(fs)
    }

    /// Pins the inodes of nodes that now have open files and unpins (and
    /// so frees, if unlinked) those that have none left.
    fn apply_pins(&self, fs: &mut Attached<'_, '_>, pinned: &mut BTreeSet<ext2::InodeNumber>) {
        let changes: Vec<(NodeId, bool)> = {
            let mut opens = self.opens.lock();
            let touched = core::mem::take(&mut opens.touched);
            let counts = &opens.counts;
            touched
                .into_iter()
                .map(|node| (node, counts.contains_key(&node)))
                .collect()
        };
        for (node, open) in changes {
            let Ok(inode) = ext2::InodeNumber::try_from(node) else {
                continue;
            };
            match (open, pinned.contains(&inode)) {
                (true, false) if fs.pin(inode).is_ok() => {
                    pinned.insert(inode);
                }
                (false, true) => {
                    pinned.remove(&inode);
                    if let Err(error) = fs.unpin(inode) {
                        warn!("{}: ext2 inode {inode}: {error}", self.volume.name());
                    }
                }
                _ => {}
            }
        }
    }

    /// Counts an open file of `node`.
    pub(crate) fn count_open(&self, node: NodeId) {
        let mut opens = self.opens.lock();
        *opens.counts.entry(node).or_insert(0) += 1;
        opens.touched.insert(node);
    }

    /// Counts an open file of `node` gone.
    pub(crate) fn count_release(&self, node: NodeId) {
        let mut opens = self.opens.lock();
        if let Some(count) = opens.counts.get_mut(&node) {
            *count -= 1;
            if *count == 0 {
                opens.counts.remove(&node);
            }
        }
        opens.touched.insert(node);
    }

    /// Brings the pins in line (freeing unlinked files no longer open),
    /// unmounts ext2 (clean if it was clean at mount) and syncs the volume.
    /// Files still open (the vfs unmounts everything at shutdown) lose
    /// their pins first: an unlinked one is freed, as at its last close.
    pub(crate) fn unmount_now(&self, context: &Context<'_>) -> Result<(), Errno> {
        self.with(context, |fs| fs.sync())?;
        let mut resting = self.resting.lock(context);
        let mut fs = self.attach(context, &mut resting)?;
        for inode in core::mem::take(&mut resting.pinned) {
            if let Err(error) = fs.unpin(inode) {
                warn!("{}: ext2 inode {inode}: {error}", self.volume.name());
            }
        }
        // Synced just now: what is left is the superblock's state.
        let device = fs.unmount().map_err(|error| errno(error, None))?;
        device
            .volume()
            .sync(context)
            .map_err(crate::errno::from_block)?;
        info!("{}: ext2 unmounted", self.volume.name());
        Ok(())
    }
}

/// Mount options with the host's wall clock.
fn options(host: &Arc<dyn Hypercalls>, read_only: bool) -> MountOptions {
    let host = host.clone();
    MountOptions {
        read_only,
        clock: Some(alloc::boxed::Box::new(move || {
            host.clock_wall_ns() / 1_000_000_000
        })),
    }
}

impl fmt::Debug for Ext2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ext2")
            .field("volume", &self.volume.name())
            .field("read_only", &self.read_only)
            .field("block_size", &self.block_size)
            .finish_non_exhaustive()
    }
}
