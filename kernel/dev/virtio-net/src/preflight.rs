//! Checking a virtio-net device before virtio-drivers takes it over.
//!
//! `VirtIONetRaw::new` negotiates without looking back: it does not check
//! that the device accepted the features (FEATURES_OK), that it has a MAC
//! address, or that the queues are large enough until it fails somewhere
//! inside. [`start`] first runs the same negotiation by hand and checks
//! each point, naming what is wrong, then resets the device and lets the
//! crate initialise it for real.

use alloc::boxed::Box;

use dev::DevError;
use virtio_drivers::Error as VirtioError;
use virtio_drivers::transport::{DeviceStatus, DeviceType, Transport};

use crate::rings::{NetRaw, QUEUE_SIZE};

/// Device feature: the configuration holds a MAC address.
const FEATURE_MAC: u64 = 1 << 5;
/// Device feature: the configuration holds a link status.
const FEATURE_STATUS: u64 = 1 << 16;
/// Ring feature: indirect descriptors.
const FEATURE_INDIRECT: u64 = 1 << 28;
/// Ring feature: notification suppression by event index.
const FEATURE_EVENT_INDEX: u64 = 1 << 29;
/// Virtio 1.0 (modern) device.
const FEATURE_VERSION_1: u64 = 1 << 32;
/// What `VirtIONetRaw` asks for (its `SUPPORTED_FEATURES`).
const DRIVER_FEATURES: u64 =
    FEATURE_MAC | FEATURE_STATUS | FEATURE_INDIRECT | FEATURE_EVENT_INDEX | FEATURE_VERSION_1;

/// The receive and transmit queues.
const QUEUES: [u16; 2] = [0, 1];

/// Checks the device behind `transport` and initialises it with empty
/// queues of [`QUEUE_SIZE`] descriptors.
///
/// # Errors
/// [`DevError::Unusable`] naming the problem; the device is left reset.
pub(crate) fn start<T: Transport>(mut transport: T) -> Result<Box<NetRaw<T>>, DevError> {
    let checked = check(&mut transport);
    transport.set_status(DeviceStatus::empty());
    checked?;
    NetRaw::new(transport)
        .map(Box::new)
        .map_err(|error| DevError::Unusable(reason(error)))
}

fn check(transport: &mut impl Transport) -> Result<(), DevError> {
    if transport.device_type() != DeviceType::Network {
        return Err(DevError::Unusable("not a network device"));
    }
    transport.set_status(DeviceStatus::empty());
    transport.set_status(DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER);
    let offered = transport.read_device_features();
    let legacy = transport.requires_legacy_layout();
    check_features(offered, legacy)?;
    transport.write_driver_features(offered & DRIVER_FEATURES);
    let accepted = DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER | DeviceStatus::FEATURES_OK;
    transport.set_status(accepted);
    // Legacy devices have no FEATURES_OK handshake.
    if !legacy && !transport.get_status().contains(DeviceStatus::FEATURES_OK) {
        return Err(DevError::Unusable("the device refused the features"));
    }
    for queue in QUEUES {
        if transport.max_queue_size(queue) < QUEUE_SIZE as u32 {
            return Err(DevError::Unusable(
                "a queue is smaller than 256 descriptors",
            ));
        }
    }
    Ok(())
}

/// What the offered feature bits must include.
fn check_features(offered: u64, legacy: bool) -> Result<(), DevError> {
    if offered & FEATURE_MAC == 0 {
        return Err(DevError::Unusable("the device has no MAC address"));
    }
    if !legacy && offered & FEATURE_VERSION_1 == 0 {
        return Err(DevError::Unusable("a modern transport without virtio 1.0"));
    }
    Ok(())
}

/// A fixed description of what virtio-drivers' initialisation failed on.
fn reason(error: VirtioError) -> &'static str {
    match error {
        VirtioError::DmaError => "no DMA memory for the queues",
        VirtioError::InvalidParam => "a queue is smaller than 256 descriptors",
        VirtioError::AlreadyUsed => "a queue is already in use",
        VirtioError::ConfigSpaceMissing | VirtioError::ConfigSpaceTooSmall => {
            "no device configuration (MAC address)"
        }
        _ => "virtio initialisation failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_is_required_and_modern_devices_need_version_1() {
        let modern = FEATURE_MAC | FEATURE_VERSION_1 | FEATURE_STATUS;
        assert_eq!(check_features(modern, false), Ok(()));
        assert_eq!(check_features(FEATURE_MAC, true), Ok(()));
        assert!(check_features(FEATURE_MAC, false).is_err());
        assert!(check_features(FEATURE_VERSION_1, false).is_err());
        assert!(check_features(0, true).is_err());
    }
}
