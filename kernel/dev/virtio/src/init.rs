//! Bringing a virtio device up: the initialisation every driver runs.
//!
//! Drivers do the negotiation by hand (virtio 1.1 §3.1.1) rather than
//! through virtio-drivers' device drivers, checking each step so that a
//! device in an odd state is an error that says which: [`start`] runs a
//! driver's set-up and leaves the device reset if it fails, DRIVER_OK if
//! it succeeds; [`negotiate`] is steps 1 to 6 (reset, ACKNOWLEDGE and
//! DRIVER, the features the driver chooses, FEATURES_OK read back: a
//! device may refuse); [`queues_hold`] checks the queues' sizes before
//! virtio-drivers would refuse them; [`queue_failure`] names what setting
//! a queue up failed on.

use dev::DevError;
use virtio_drivers::Error as VirtioError;
use virtio_drivers::transport::{DeviceStatus, DeviceType, Transport};

/// Device-independent feature bits (virtio 1.1 §6).
pub mod feature {
    /// Ring feature: indirect descriptors.
    pub const INDIRECT_DESC: u64 = 1 << 28;
    /// Ring feature: notification suppression by event index.
    pub const EVENT_IDX: u64 = 1 << 29;
    /// A virtio 1.0 (modern) device.
    pub const VERSION_1: u64 = 1 << 32;
}

/// The page size legacy MMIO devices are told (others ignore it).
const PAGE_SIZE: u32 = 4096;
/// Status once the features are agreed.
const FEATURES_AGREED: DeviceStatus = DeviceStatus::ACKNOWLEDGE
    .union(DeviceStatus::DRIVER)
    .union(DeviceStatus::FEATURES_OK);

/// Runs `set_up` on the device behind `transport` (the negotiation, the
/// queues, the configuration), then sets DRIVER_OK.
///
/// # Errors
/// What `set_up` returned; the device is then left reset.
pub fn start<T: Transport, R>(
    transport: &mut T,
    set_up: impl FnOnce(&mut T) -> Result<R, DevError>,
) -> Result<R, DevError> {
    match set_up(transport) {
        Ok(result) => {
            transport.set_status(FEATURES_AGREED | DeviceStatus::DRIVER_OK);
            Ok(result)
        }
        Err(error) => {
            transport.set_status(DeviceStatus::empty());
            Err(error)
        }
    }
}

/// Resets the device and agrees on the features `choose` picks from what
/// it offers (a modern transport must offer VERSION_1); returns them.
///
/// # Errors
/// [`DevError::Unusable`] for a device of another type than `kind`, a
/// modern one without virtio 1.0, what `choose` refuses, or features the
/// device refuses.
pub fn negotiate(
    transport: &mut impl Transport,
    kind: DeviceType,
    choose: impl FnOnce(u64) -> Result<u64, DevError>,
) -> Result<u64, DevError> {
    if transport.device_type() != kind {
        return Err(DevError::Unusable(match kind {
            DeviceType::Network => "not a network device",
            DeviceType::Block => "not a block device",
            _ => "not a device of the driver's type",
        }));
    }
    transport.set_status(DeviceStatus::empty());
    transport.set_status(DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER);
    let offered = transport.read_device_features();
    let legacy = transport.requires_legacy_layout();
    if !legacy && offered & feature::VERSION_1 == 0 {
        return Err(DevError::Unusable("a modern transport without virtio 1.0"));
    }
    let features = choose(offered)?;
    transport.write_driver_features(features);
    transport.set_status(FEATURES_AGREED);
    // Legacy devices have no FEATURES_OK handshake.
    if !legacy && !transport.get_status().contains(DeviceStatus::FEATURES_OK) {
        return Err(DevError::Unusable("the device refused the features"));
    }
    transport.set_guest_page_size(PAGE_SIZE);
    Ok(features)
}

/// Whether each of `queues` takes `size` descriptors.
pub fn queues_hold(transport: &mut impl Transport, queues: &[u16], size: usize) -> bool {
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    queues
        .iter()
        .all(|&queue| transport.max_queue_size(queue) >= size)
}

/// A fixed description of what virtio-drivers' set-up of a queue (or a
/// configuration read) failed on.
pub fn queue_failure(error: VirtioError) -> DevError {
    DevError::Unusable(match error {
        VirtioError::DmaError => "no DMA memory for the queues",
        VirtioError::InvalidParam => "a queue is smaller than the driver needs",
        VirtioError::AlreadyUsed => "a queue is already in use",
        VirtioError::ConfigSpaceMissing | VirtioError::ConfigSpaceTooSmall => {
            "the device configuration is missing or too small"
        }
        _ => "virtio initialisation failed",
    })
}
