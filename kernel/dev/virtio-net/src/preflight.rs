//! Starting a virtio-net device: the negotiation, checked at each step.
//!
//! The driver runs the virtio initialisation itself (virtio 1.1 §3.1.1):
//! reset, ACKNOWLEDGE and DRIVER, the features of [`Negotiated::choose`]
//! under the offload setting, FEATURES_OK read back (a device may refuse),
//! queues of [`QUEUE_SIZE`] on virtio-drivers' `VirtQueue`, the MAC from
//! the configuration, DRIVER_OK. Each point that fails is named; the
//! device is then left reset.

use alloc::boxed::Box;

use dev::DevError;
use virtio_drivers::Error as VirtioError;
use virtio_drivers::transport::{DeviceStatus, DeviceType, Transport};

use crate::features::{Negotiated, Setting, bit};
use crate::rings::{Device, QUEUE_SIZE, Queue, RECEIVE, TRANSMIT};

/// The page size legacy MMIO devices are told.
const PAGE_SIZE: u32 = 4096;

/// The receive and transmit queues.
const QUEUES: [u16; 2] = [RECEIVE, TRANSMIT];
/// Status once the features are agreed.
const FEATURES_AGREED: DeviceStatus = DeviceStatus::ACKNOWLEDGE
    .union(DeviceStatus::DRIVER)
    .union(DeviceStatus::FEATURES_OK);

/// Starts the device behind `transport` with the offloads `setting`
/// allows, and empty queues of [`QUEUE_SIZE`] descriptors.
///
/// # Errors
/// [`DevError::Unusable`] naming the problem; the device is left reset.
pub(crate) fn start<T: Transport>(
    mut transport: T,
    setting: Setting,
) -> Result<Device<T>, DevError> {
    let negotiated = match negotiate(&mut transport, setting) {
        Ok(negotiated) => negotiated,
        Err(error) => {
            transport.set_status(DeviceStatus::empty());
            return Err(error);
        }
    };
    let queues = make_queues(&mut transport);
    let mac = transport.read_config_space::<[u8; 6]>(0);
    let (receive, transmit, mac) = match (queues, mac) {
        (Ok((receive, transmit)), Ok(mac)) => (receive, transmit, mac),
        (Err(error), _) | (_, Err(error)) => {
            transport.set_status(DeviceStatus::empty());
            return Err(DevError::Unusable(reason(error)));
        }
    };
    transport.set_status(FEATURES_AGREED | DeviceStatus::DRIVER_OK);
    Ok(Device {
        transport,
        receive,
        transmit,
        negotiated,
        mac,
    })
}

fn make_queues(transport: &mut impl Transport) -> Result<(Box<Queue>, Box<Queue>), VirtioError> {
    let receive = Box::new(Queue::new(transport, RECEIVE, false, false)?);
    let transmit = Box::new(Queue::new(transport, TRANSMIT, false, false)?);
    Ok((receive, transmit))
}

fn negotiate(transport: &mut impl Transport, setting: Setting) -> Result<Negotiated, DevError> {
    if transport.device_type() != DeviceType::Network {
        return Err(DevError::Unusable("not a network device"));
    }
    transport.set_status(DeviceStatus::empty());
    transport.set_status(DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER);
    let offered = transport.read_device_features();
    let legacy = transport.requires_legacy_layout();
    check_features(offered, legacy)?;
    let negotiated = Negotiated::choose(offered, setting);
    transport.write_driver_features(negotiated.0);
    transport.set_status(FEATURES_AGREED);
    // Legacy devices have no FEATURES_OK handshake.
    if !legacy && !transport.get_status().contains(DeviceStatus::FEATURES_OK) {
        return Err(DevError::Unusable("the device refused the features"));
    }
    transport.set_guest_page_size(PAGE_SIZE);
    for queue in QUEUES {
        if transport.max_queue_size(queue) < QUEUE_SIZE as u32 {
            return Err(DevError::Unusable(
                "a queue is smaller than 256 descriptors",
            ));
        }
    }
    Ok(negotiated)
}

/// What the offered feature bits must include.
fn check_features(offered: u64, legacy: bool) -> Result<(), DevError> {
    if offered & bit::MAC == 0 {
        return Err(DevError::Unusable("the device has no MAC address"));
    }
    if !legacy && offered & bit::VERSION_1 == 0 {
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
        let modern = bit::MAC | bit::VERSION_1 | bit::STATUS;
        assert_eq!(check_features(modern, false), Ok(()));
        assert_eq!(check_features(bit::MAC, true), Ok(()));
        assert!(check_features(bit::MAC, false).is_err());
        assert!(check_features(bit::VERSION_1, false).is_err());
        assert!(check_features(0, true).is_err());
    }
}
