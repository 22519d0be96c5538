//! Bringing a virtio-blk device up: features, configuration, the queue.
//!
//! The negotiation is done by hand (virtio 1.0 §3.1.1), checking each
//! step, so that a device in an odd state is an error that says which:
//! not a block device, no virtio 1.0 on a modern transport, features
//! refused, no capacity, a logical block size that is not a power of two
//! from 512 to 64 KiB, a queue too small. The driver takes the read-only
//! flag (RO), the write cache flush (FLUSH), the logical block size
//! (BLK_SIZE), indirect descriptors and event indices when offered.

use dev::DevError;
use virtio_drivers::Error as VirtioError;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{DeviceStatus, DeviceType, Transport};

use crate::queue::{QUEUE_SIZE, Requests};

/// Device feature: the disk is read-only.
pub(crate) const FEATURE_RO: u64 = 1 << 5;
/// Device feature: the configuration holds the logical block size.
pub(crate) const FEATURE_BLK_SIZE: u64 = 1 << 6;
/// Device feature: the device has a write cache that FLUSH empties.
pub(crate) const FEATURE_FLUSH: u64 = 1 << 9;
/// Ring feature: indirect descriptors.
pub(crate) const FEATURE_INDIRECT: u64 = 1 << 28;
/// Ring feature: notification suppression by event index.
pub(crate) const FEATURE_EVENT_INDEX: u64 = 1 << 29;
/// Virtio 1.0 (modern) device.
pub(crate) const FEATURE_VERSION_1: u64 = 1 << 32;
/// What the driver accepts.
const DRIVER_FEATURES: u64 = FEATURE_RO
    | FEATURE_BLK_SIZE
    | FEATURE_FLUSH
    | FEATURE_INDIRECT
    | FEATURE_EVENT_INDEX
    | FEATURE_VERSION_1;

/// Configuration offsets (`struct virtio_blk_config`).
const CAPACITY: usize = 0;
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
}

/// Initialises the device behind `transport` with one request queue.
///
/// # Errors
/// [`DevError::Unusable`] naming the problem; the device is left reset.
pub(crate) fn start<T: Transport>(mut transport: T) -> Result<(Requests<T>, Shape), DevError> {
    match negotiate(&mut transport) {
        Ok((features, shape)) => {
            let indirect = features & FEATURE_INDIRECT != 0;
            let event_index = features & FEATURE_EVENT_INDEX != 0;
            let queue = VirtQueue::new(&mut transport, 0, indirect, event_index);
            let queue = match queue {
                Ok(queue) => queue,
                Err(error) => {
                    transport.set_status(DeviceStatus::empty());
                    return Err(DevError::Unusable(reason(error)));
                }
            };
            transport.set_status(ready());
            Ok((Requests::new(transport, queue, indirect), shape))
        }
        Err(error) => {
            transport.set_status(DeviceStatus::empty());
            Err(error)
        }
    }
}

fn ready() -> DeviceStatus {
    DeviceStatus::ACKNOWLEDGE
        | DeviceStatus::DRIVER
        | DeviceStatus::FEATURES_OK
        | DeviceStatus::DRIVER_OK
}

/// Steps 1 to 6 of the initialisation, and the configuration read.
fn negotiate(transport: &mut impl Transport) -> Result<(u64, Shape), DevError> {
    if transport.device_type() != DeviceType::Block {
        return Err(DevError::Unusable("not a block device"));
    }
    transport.set_status(DeviceStatus::empty());
    transport.set_status(DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER);
    let offered = transport.read_device_features();
    let legacy = transport.requires_legacy_layout();
    if !legacy && offered & FEATURE_VERSION_1 == 0 {
        return Err(DevError::Unusable("a modern transport without virtio 1.0"));
    }
    let features = offered & DRIVER_FEATURES;
    transport.write_driver_features(features);
    let accepted = DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER | DeviceStatus::FEATURES_OK;
    transport.set_status(accepted);
    if !legacy && !transport.get_status().contains(DeviceStatus::FEATURES_OK) {
        return Err(DevError::Unusable("the device refused the features"));
    }
    // Only legacy MMIO has a page size register; others ignore it.
    transport.set_guest_page_size(virtio_drivers::PAGE_SIZE as u32);
    let shape = shape(transport, features)?;
    if transport.max_queue_size(0) < QUEUE_SIZE as u32 {
        return Err(DevError::Unusable(
            "the queue is smaller than 64 descriptors",
        ));
    }
    Ok((features, shape))
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
    Ok(Shape {
        block_size,
        capacity,
        read_only: features & FEATURE_RO != 0,
        flush: features & FEATURE_FLUSH != 0,
    })
}

/// A fixed description of what setting the queue up failed on.
fn reason(error: VirtioError) -> &'static str {
    match error {
        VirtioError::DmaError => "no DMA memory for the queue",
        VirtioError::InvalidParam => "the queue is smaller than 64 descriptors",
        VirtioError::AlreadyUsed => "the queue is already in use",
        _ => "virtio initialisation failed",
    }
}
