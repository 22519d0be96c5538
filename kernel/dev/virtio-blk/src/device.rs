//! Bringing a virtio-blk device up: features, configuration, the queue.
//!
//! The shared initialisation (`virtio::init`) checks each step, so that a
//! device in an odd state is an error that says which: not a block
//! device, no virtio 1.0 on a modern transport, features refused; here:
//! no capacity, a logical block size that is not a power of two from 512
//! to 64 KiB, a queue too small. The driver takes the read-only flag
//! (RO), the write cache flush (FLUSH), the logical block size
//! (BLK_SIZE), the most segments per request (SEG_MAX), indirect
//! descriptors and event indices when offered. A request has several
//! data segments only with both SEG_MAX and indirect descriptors (as in
//! Linux, a device without SEG_MAX gets one); else one.

use dev::DevError;
use virtio::init::{self, feature};
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{DeviceType, Transport};

use crate::queue::{MAX_SEGMENTS, QUEUE_SIZE, Requests};

/// Device feature: the configuration holds the most segments a request
/// may have.
pub(crate) const FEATURE_SEG_MAX: u64 = 1 << 2;
/// Device feature: the disk is read-only.
pub(crate) const FEATURE_RO: u64 = 1 << 5;
/// Device feature: the configuration holds the logical block size.
pub(crate) const FEATURE_BLK_SIZE: u64 = 1 << 6;
/// Device feature: the device has a write cache that FLUSH empties.
pub(crate) const FEATURE_FLUSH: u64 = 1 << 9;
/// What the driver accepts.
const DRIVER_FEATURES: u64 = FEATURE_RO
    | FEATURE_SEG_MAX
    | FEATURE_BLK_SIZE
    | FEATURE_FLUSH
    | feature::INDIRECT_DESC
    | feature::EVENT_IDX
    | feature::VERSION_1;

/// Configuration offsets (`struct virtio_blk_config`).
const CAPACITY: usize = 0;
const SEG_MAX: usize = 12;
const BLK_SIZE: usize = 20;
/// The unit of `capacity` and of request sectors.
pub(crate) const VIRTIO_SECTOR: u64 = 512;

/// What the device turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// The logical block size: the sector size the block layer sees.
    pub block_size: u32,
    /// Capacity in 512-byte virtio sectors.
    pub capacity: u64,
    pub read_only: bool,
    pub flush: bool,
    /// Data segments one request may have (at least 1).
    pub max_segments: usize,
}

/// Initialises the device behind `transport` with one request queue.
///
/// # Errors
/// [`DevError::Unusable`] naming the problem; the device is left reset.
pub(crate) fn start<T: Transport>(mut transport: T) -> Result<(Requests<T>, Shape), DevError> {
    let (queue, shape, indirect) = init::start(&mut transport, |transport| {
        let features = init::negotiate(transport, DeviceType::Block, |offered| {
            Ok(offered & DRIVER_FEATURES)
        })?;
        let mut shape = shape(transport, features)?;
        if !init::queues_hold(transport, &[0], QUEUE_SIZE) {
            return Err(DevError::Unusable(
                "the queue is smaller than 128 descriptors",
            ));
        }
        let indirect = features & feature::INDIRECT_DESC != 0;
        if !indirect {
            shape.max_segments = 1;
        }
        let event_index = features & feature::EVENT_IDX != 0;
        let queue = VirtQueue::new(transport, 0, indirect, event_index);
        let queue = queue.map_err(init::queue_failure)?;
        Ok((queue, shape, indirect))
    })?;
    Ok((Requests::new(transport, queue, indirect), shape))
}

/// The device's size and block size, checked.
fn shape(transport: &impl Transport, features: u64) -> Result<Shape, DevError> {
    let unreadable = DevError::Unusable("the device configuration is unreadable");
    let capacity = transport
        .read_consistent(|| {
            let low: u32 = transport.read_config_space(CAPACITY)?;
            let high: u32 = transport.read_config_space(CAPACITY + 4)?;
            Ok(u64::from(high) << 32 | u64::from(low))
        })
        .map_err(|_| unreadable)?;
    let block_size = if features & FEATURE_BLK_SIZE != 0 {
        transport
            .read_config_space::<u32>(BLK_SIZE)
            .map_err(|_| unreadable)?
    } else {
        VIRTIO_SECTOR as u32
    };
    if !block_size.is_power_of_two() || !(512..=65536).contains(&block_size) {
        return Err(DevError::Unusable(
            "a logical block size the driver cannot use",
        ));
    }
    if capacity / (u64::from(block_size) / VIRTIO_SECTOR) == 0 {
        return Err(DevError::Unusable("the disk has no capacity"));
    }
    let segments = match features & FEATURE_SEG_MAX {
        0 => 1,
        _ => transport
            .read_config_space::<u32>(SEG_MAX)
            .map_err(|_| unreadable)?,
    };
    Ok(Shape {
        block_size,
        capacity,
        read_only: features & FEATURE_RO != 0,
        flush: features & FEATURE_FLUSH != 0,
        max_segments: (segments as usize).clamp(1, MAX_SEGMENTS),
    })
}
