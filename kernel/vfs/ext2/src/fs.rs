//! A mounted file system: mount, sync, unmount, and the state they keep.
//!
//! Mounting read-write marks the superblock not clean (`s_state` loses
//! `VALID`), as Linux does; `sync` writes everything and keeps that mark
//! (the file system is still mounted, again as Linux does); `unmount`
//! puts back the state found at mount, so a file system mounted clean is
//! left clean. Inodes, directories and indirect blocks are written to
//! the device as each operation changes them; the allocation state (the
//! bitmaps the allocator keeps, the group descriptors and the
//! superblock's free counts) is written at `sync` (every fsync) and
//! unmount, as Linux's ext2 does: a crash between two syncs leaves
//! counts and bitmaps that `e2fsck -p` puts right, and every file synced
//! before it intact.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::allocator::CachedBitmap;
use crate::device::{BlockDevice, Disk};
use crate::error::{Error, Result};
use crate::groups::Groups;
use crate::layout::{STATE_VALID, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE};
use crate::superblock::Superblock;

/// The wall clock, in seconds since 1970, that stamps inode times.
pub type Clock = Box<dyn Fn() -> u64 + Send + Sync>;

/// How to mount.
#[derive(Default)]
pub struct MountOptions {
    /// Mount read-only even if the file system could be written.
    pub read_only: bool,
    /// Where times come from; without one, every time written is 0.
    pub clock: Option<Clock>,
}

impl fmt::Debug for MountOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MountOptions")
            .field("read_only", &self.read_only)
            .field("clock", &self.clock.is_some())
            .finish()
    }
}

/// Why a mount ended up read-only although asked read-write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOnlyReason {
    /// Asked for.
    Requested,
    /// Read-only compatible features this driver does not know (the bits).
    UnknownFeatures(u32),
}

/// A mounted ext2 file system on device `D`.
///
/// The struct does not ask `D` to be a [`BlockDevice`]: a file system may
/// be kept *detached*, its device swapped for a plain value with
/// [`Fs::map_device`] between operations (the vfs keeps a volume there
/// and attaches the calling thread's context for each operation). Every
/// operation needs `D: BlockDevice`.
pub struct Fs<D> {
    pub(crate) disk: Disk<D>,
    pub(crate) superblock: Superblock,
    pub(crate) groups: Groups,
    pub(crate) read_only: Option<ReadOnlyReason>,
    /// `s_state` as found at mount, put back at unmount.
    mount_state: u16,
    pub(crate) superblock_dirty: bool,
    clock: Option<Clock>,
    /// Inodes held open by the caller: freed only when their last link is
    /// gone *and* they are unpinned. Value: the pin count.
    pub(crate) pinned: BTreeMap<u32, u32>,
    /// The most recently used bitmap blocks, oldest first.
    pub(crate) bitmaps: Vec<CachedBitmap>,
}

impl<D> fmt::Debug for Fs<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fs")
            .field("block_size", &self.superblock.block_size)
            .field("blocks", &self.superblock.blocks_count)
            .field("groups", &self.superblock.group_count)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl<D: BlockDevice> Fs<D> {
    /// Mounts the ext2 file system on `device`.
    ///
    /// Refuses unknown incompatible features ([`Error::UnsupportedFeatures`]
    /// names them), mounts read-only under unknown read-only compatible
    /// features (see [`Fs::read_only_reason`]), and checks the superblock
    /// and every group descriptor.
    pub fn mount(device: D, options: MountOptions) -> Result<Self> {
        let mut disk = Disk::new(device).map_err(Error::BadSuperblock)?;
        let mut bytes = [0u8; SUPERBLOCK_SIZE];
        disk.read_bytes(SUPERBLOCK_OFFSET, &mut bytes)?;
        let superblock = Superblock::parse(&bytes)?;
        disk.set_block_size(superblock.block_size)
            .map_err(Error::BadSuperblock)?;
        if disk.blocks() < superblock.blocks_count {
            return Err(Error::BadSuperblock("device smaller than the file system"));
        }
        let groups = Groups::load(&disk, &superblock)?;
        let unknown = superblock.unknown_read_only_features();
        let read_only = if unknown != 0 {
            Some(ReadOnlyReason::UnknownFeatures(unknown))
        } else {
            options.read_only.then_some(ReadOnlyReason::Requested)
        };
        let mut fs = Self {
            disk,
            mount_state: superblock.fields.state.get(),
            superblock,
            groups,
            read_only,
            superblock_dirty: false,
            clock: options.clock,
            pinned: BTreeMap::new(),
            bitmaps: Vec::new(),
        };
        if fs.read_only.is_none() {
            fs.mark_mounted()?;
        }
        Ok(fs)
    }

    fn mark_mounted(&mut self) -> Result<()> {
        let now = self.now();
        let fields = &mut self.superblock.fields;
        fields.state.set(self.mount_state & !STATE_VALID);
        fields.mount_time.set(now);
        fields
            .mount_count
            .set(fields.mount_count.get().wrapping_add(1));
        self.superblock_dirty = true;
        self.write_metadata()?;
        self.disk.device.flush()?;
        Ok(())
    }

    /// Fails with `ReadOnly` unless the file system may be written.
    pub(crate) fn writable(&self) -> Result<()> {
        match self.read_only {
            Some(_) => Err(Error::ReadOnly),
            None => Ok(()),
        }
    }

    /// The time now, in the 32-bit seconds ext2 stores.
    pub(crate) fn now(&self) -> u32 {
        self.clock.as_ref().map_or(0, |clock| clock() as u32)
    }

    /// Writes changed bitmaps, changed group descriptors and, if it
    /// changed, the superblock with its free counts recomputed from the
    /// groups.
    pub(crate) fn write_metadata(&mut self) -> Result<()> {
        self.write_bitmaps()?;
        if self.groups.has_dirty() {
            self.groups.write_dirty(&self.disk)?;
            self.superblock_dirty = true;
        }
        if self.superblock_dirty {
            let (blocks, inodes) = self.groups.free_totals();
            let fields = &mut self.superblock.fields;
            fields.free_blocks_count.set(blocks as u32);
            fields.free_inodes_count.set(inodes as u32);
            let bytes = self.superblock.to_bytes();
            self.disk.write_bytes(SUPERBLOCK_OFFSET, &bytes)?;
            self.superblock_dirty = false;
        }
        Ok(())
    }

    /// Writes everything out and flushes the device. The file system
    /// stays marked not clean while mounted read-write.
    pub fn sync(&mut self) -> Result<()> {
        if self.read_only.is_some() {
            return Ok(());
        }
        self.superblock.fields.write_time.set(self.now());
        self.superblock_dirty = true;
        self.write_metadata()?;
        self.disk.device.flush()?;
        Ok(())
    }

    /// Syncs, puts back the state found at mount (clean if it was clean),
    /// and hands the device back.
    pub fn unmount(mut self) -> Result<D> {
        if self.read_only.is_none() {
            self.superblock.fields.state.set(self.mount_state);
            self.sync()?;
        }
        Ok(self.disk.device)
    }
}

impl<D> Fs<D> {
    /// Why the file system is read-only, or `None` if it is writable.
    pub fn read_only_reason(&self) -> Option<ReadOnlyReason> {
        self.read_only
    }

    /// The device, for callers that share it (read access only).
    pub fn device(&self) -> &D {
        &self.disk.device
    }

    /// The same file system on the device `f` makes of this one: nothing
    /// is read or written, nothing cached is lost. `f` must give a device
    /// over the same blocks (e.g. the same volume with another caller's
    /// context attached, or a plain value while the file system rests).
    pub fn map_device<E>(self, f: impl FnOnce(D) -> E) -> Fs<E> {
        Fs {
            disk: self.disk.map_device(f),
            superblock: self.superblock,
            groups: self.groups,
            read_only: self.read_only,
            mount_state: self.mount_state,
            superblock_dirty: self.superblock_dirty,
            clock: self.clock,
            pinned: self.pinned,
            bitmaps: self.bitmaps,
        }
    }
}
