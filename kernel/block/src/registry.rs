//! The block layer's service: the attached disks and the buffer cache.
//!
//! [`Block`] is installed by the component at the VFS level, before any
//! driver: drivers find it with [`Block::of`] and [`Block::attach`] their
//! disks, which are named `vblk0`, `vblk1`, … in attach order whatever
//! drives them (virtio-blk on bare metal, the host's disks when hosted).
//! File systems reach disks through [`crate::Volume`].

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt::{self, Write};

use base::component::ComponentError;
use base::memory::Reclaim;
use base::sync::Mutex;
use base::thread::JoinHandle;
use base::{Context, Kernel};
use log::{info, warn};

use crate::cache::{self, Cache, CacheStats};
use crate::disk::Disk;
use crate::driver::BlockDriver;
use crate::error::BlockError;

/// The name every disk gets, followed by its number.
pub const NAME_PREFIX: &str = "vblk";
/// The boot parameter bounding the buffer cache.
pub const LIMIT_PARAMETER: &str = "bcache";
/// The syncer's stack: it only starts write-backs.
const SYNCER_STACK: usize = 16 * 1024;

/// The block layer of one kernel.
#[derive(Debug)]
pub struct Block {
    disks: Mutex<Vec<Arc<Disk>>>,
    pub(crate) cache: Cache,
    /// The syncer, joined at shutdown.
    syncer: Mutex<Option<JoinHandle>>,
}

impl Block {
    /// The service of `context`'s kernel, if the block layer is linked.
    pub fn of(context: &Context<'_>) -> Option<Arc<Self>> {
        context.kernel().service::<Self>(context)
    }

    /// Installs the service: the cache with its bound, its reclaimer, its
    /// syncer thread and its write-back at shutdown.
    pub(crate) fn install(context: &Context<'_>) -> Result<Arc<Self>, ComponentError> {
        let kernel = context.kernel();
        let limit = match kernel.params().get_size(LIMIT_PARAMETER) {
            Ok(Some(limit)) => limit,
            Ok(None) => cache::default_limit(kernel.memory().stats().limit),
            Err(problem) => {
                warn!("{problem}; the default bound is used");
                cache::default_limit(kernel.memory().stats().limit)
            }
        };
        let account = kernel.memory().account("bcache");
        let block = Arc::new(Self {
            disks: Mutex::new(Vec::new()),
            cache: Cache::new(account, limit),
            syncer: Mutex::new(None),
        });
        let reclaimer: Weak<dyn Reclaim> = Arc::downgrade(&block) as Weak<dyn Reclaim>;
        kernel.memory().register_reclaimer(reclaimer);
        let syncer = block.clone();
        let thread = kernel
            .arc()
            .spawn_with_stack("bsyncer", SYNCER_STACK, move |context| {
                syncer.run_syncer(context)
            })
            .map_err(|_| ComponentError::NoThread)?;
        *block.syncer.lock(context) = Some(thread);
        let (weak, weak_kernel) = (Arc::downgrade(&block), Arc::downgrade(&kernel.arc()));
        kernel.on_shutdown(Box::new(move || shut_down(&weak, &weak_kernel)));
        kernel.install_service(context, block.clone());
        Ok(block)
    }

    /// Registers a disk as the next `vblkN` and logs it.
    ///
    /// # Errors
    /// [`BlockError::Invalid`] for a disk with no sectors or a sector size
    /// that is not a power of two from 512 to 64 KiB.
    pub fn attach(
        &self,
        context: &Context<'_>,
        location: String,
        driver: Arc<dyn BlockDriver>,
    ) -> Result<Arc<Disk>, BlockError> {
        let geometry = driver.geometry();
        let size = geometry.sector_size;
        if geometry.sectors == 0 || !size.is_power_of_two() || !(512..=65536).contains(&size) {
            warn!("{location}: {geometry:?} is no usable disk; not attached");
            return Err(BlockError::Invalid);
        }
        let mut disks = self.disks.lock(context);
        let index = disks.len() as u32;
        let name = format!("{NAME_PREFIX}{index}");
        info!(
            "{name}: {} sectors of {size} bytes ({} KiB){}{}, {location}",
            geometry.sectors,
            geometry.bytes() / 1024,
            if geometry.read_only {
                ", read-only"
            } else {
                ""
            },
            if geometry.flush { ", flush" } else { "" },
        );
        let disk = Arc::new(Disk::new(name, index, location, driver));
        disks.push(disk.clone());
        Ok(disk)
    }

    /// The disk called `name`.
    pub fn disk(&self, context: &Context<'_>, name: &str) -> Option<Arc<Disk>> {
        let disks = self.disks.lock(context);
        disks.iter().find(|disk| disk.name() == name).cloned()
    }

    /// Every disk, in attach order.
    pub fn disks(&self, context: &Context<'_>) -> Vec<Arc<Disk>> {
        self.disks.lock(context).clone()
    }

    pub(crate) fn disk_at(&self, context: &Context<'_>, index: u32) -> Option<Arc<Disk>> {
        self.disks.lock(context).get(index as usize).cloned()
    }

    /// The buffer cache's counters.
    pub fn cache_stats(&self, context: &Context<'_>) -> CacheStats {
        self.cache.stats(context)
    }

    /// Writes `block NAME_counter value` lines per disk and `bcache
    /// counter value` lines for the cache (for `/stats`).
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_stats(&self, context: &Context<'_>, out: &mut dyn Write) -> fmt::Result {
        for disk in self.disks(context) {
            let (name, geometry, stats) = (disk.name(), disk.geometry(), disk.stats());
            let lines = [
                ("sectors", geometry.sectors),
                ("sector_size", u64::from(geometry.sector_size)),
                ("read_only", u64::from(geometry.read_only)),
                ("reads", stats.reads),
                ("writes", stats.writes),
                ("flushes", stats.flushes),
                ("read_bytes", stats.read_bytes),
                ("written_bytes", stats.written_bytes),
                ("errors", stats.errors),
                ("queued", stats.queued),
                ("peak_in_flight", stats.peak_in_flight),
            ];
            for (counter, value) in lines {
                writeln!(out, "block {name}_{counter} {value}")?;
            }
        }
        write_cache_stats(out, &self.cache_stats(context))
    }
}

fn write_cache_stats(out: &mut dyn Write, stats: &CacheStats) -> fmt::Result {
    let lines = [
        ("limit", stats.limit as u64),
        ("bytes", stats.bytes as u64),
        ("peak_bytes", stats.peak_bytes as u64),
        ("buffers", stats.buffers as u64),
        ("dirty_bytes", stats.dirty_bytes as u64),
        ("hits", stats.hits),
        ("misses", stats.misses),
        ("read_ahead", stats.read_ahead),
        ("writebacks", stats.writebacks),
        ("write_errors", stats.write_errors),
        ("read_errors", stats.read_errors),
        ("evictions", stats.evictions),
        ("reclaimed_bytes", stats.reclaimed_bytes),
        ("syncs", stats.syncs),
    ];
    for (counter, value) in lines {
        writeln!(out, "bcache {counter} {value}")?;
    }
    Ok(())
}

/// The shutdown hook: everything dirty goes to its disk, then the syncer
/// is told to end.
fn shut_down(block: &Weak<Block>, kernel: &Weak<Kernel>) {
    let (Some(block), Some(kernel)) = (block.upgrade(), kernel.upgrade()) else {
        return;
    };
    if let Ok(context) = kernel.enter() {
        if let Err(error) = block.sync_all(&context) {
            warn!("write-back at shutdown: {error}");
        }
        block.stop_syncer(&context);
        let thread = block.syncer.lock(&context).take();
        if let Some(thread) = thread {
            let _ = thread.join(&context);
        }
    }
}
