//! Starting a virtio-net device: the negotiation, checked at each step.
//!
//! The shared initialisation (`virtio::init`, virtio 1.1 §3.1.1): reset,
//! ACKNOWLEDGE and DRIVER, the features of [`Negotiated::choose`] under
//! the offload setting, FEATURES_OK read back (a device may refuse); then
//! queues of [`QUEUE_SIZE`] on virtio-drivers' `VirtQueue`, the MAC from
//! the configuration, DRIVER_OK. Each point that fails is named; the
//! device is then left reset.

use alloc::boxed::Box;

use dev::DevError;
use virtio::init;
use virtio_drivers::transport::{DeviceType, Transport};

use crate::features::{Negotiated, Setting, bit};
use crate::rings::{Device, QUEUE_SIZE, Queue, RECEIVE, TRANSMIT};

/// Starts the device behind `transport` with the offloads `setting`
/// allows, and empty queues of [`QUEUE_SIZE`] descriptors.
///
/// # Errors
/// [`DevError::Unusable`] naming the problem; the device is left reset.
pub(crate) fn start<T: Transport>(
    mut transport: T,
    setting: Setting,
) -> Result<Device<T>, DevError> {
    let (negotiated, (receive, transmit), mac) = init::start(&mut transport, |transport| {
        let negotiated = init::negotiate(transport, DeviceType::Network, |offered| {
            check_features(offered)?;
            Ok(Negotiated::choose(offered, setting).0)
        })?;
        if !init::queues_hold(transport, &[RECEIVE, TRANSMIT], QUEUE_SIZE) {
            return Err(DevError::Unusable(
                "a queue is smaller than 256 descriptors",
            ));
        }
        let queues = make_queues(transport).map_err(init::queue_failure)?;
        let mac = transport.read_config_space::<[u8; 6]>(0);
        let mac = mac.map_err(|_| DevError::Unusable("no device configuration (MAC address)"))?;
        Ok((Negotiated(negotiated), queues, mac))
    })?;
    Ok(Device {
        transport,
        receive,
        transmit,
        negotiated,
        mac,
    })
}

fn make_queues(
    transport: &mut impl Transport,
) -> Result<(Box<Queue>, Box<Queue>), virtio_drivers::Error> {
    let receive = Box::new(Queue::new(transport, RECEIVE, false, false)?);
    let transmit = Box::new(Queue::new(transport, TRANSMIT, false, false)?);
    Ok((receive, transmit))
}

/// What the offered feature bits must include (virtio 1.0 itself is
/// checked by `virtio::init`).
fn check_features(offered: u64) -> Result<(), DevError> {
    if offered & bit::MAC == 0 {
        return Err(DevError::Unusable("the device has no MAC address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_device::{FakeDevice, PLAIN};

    #[test]
    fn a_mac_is_required() {
        assert_eq!(
            check_features(bit::MAC | bit::VERSION_1 | bit::STATUS),
            Ok(())
        );
        assert_eq!(check_features(bit::MAC), Ok(()));
        assert!(check_features(bit::VERSION_1).is_err());
        assert!(check_features(0).is_err());
    }

    #[test]
    fn odd_devices_are_refused_with_a_reason() {
        let cases = [
            (PLAIN & !bit::MAC, "the device has no MAC address"),
            (
                PLAIN & !bit::VERSION_1,
                "a modern transport without virtio 1.0",
            ),
        ];
        for (features, reason) in cases {
            let (device, transport) = FakeDevice::start([2, 0, 0, 0, 0, 1], features, || {});
            let error = start(transport, Setting::All).err();
            assert_eq!(error, Some(DevError::Unusable(reason)), "{features:#x}");
            drop(device);
        }
    }
}
