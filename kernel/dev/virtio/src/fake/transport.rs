//! The driver's side of a fake virtio device: a virtio-drivers `Transport`.
//!
//! It answers from the device's [`Identity`] and keeps what the driver
//! writes (status, accepted features, where each queue is) in the
//! [`Machine`](super::Machine) the device thread shares; notifications
//! wake that thread.

use alloc::sync::Arc;

use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{Error as VirtioError, PhysAddr};
use zerocopy::{FromBytes, Immutable, IntoBytes};

use super::{FakeQueue, Identity, Shared};

/// The driver's side: a virtio-drivers `Transport`.
#[derive(Debug)]
pub struct FakeTransport<D> {
    shared: Arc<Shared<D>>,
    identity: Identity,
}

impl<D> FakeTransport<D> {
    pub(super) fn new(shared: Arc<Shared<D>>, identity: Identity) -> Self {
        Self { shared, identity }
    }
}

impl<D> Transport for FakeTransport<D> {
    fn device_type(&self) -> DeviceType {
        self.identity.device_type
    }

    fn read_device_features(&mut self) -> u64 {
        self.identity.features
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        self.shared.lock().driver_features = driver_features;
    }

    fn max_queue_size(&mut self, _queue: u16) -> u32 {
        self.identity.max_queue
    }

    fn notify(&mut self, _queue: u16) {
        self.shared.wake();
    }

    fn get_status(&self) -> DeviceStatus {
        DeviceStatus::from_bits_truncate(self.shared.lock().status)
    }

    fn set_status(&mut self, mut status: DeviceStatus) {
        if self.identity.refuse_features {
            status.remove(DeviceStatus::FEATURES_OK);
        }
        let mut state = self.shared.lock();
        state.status = status.bits();
        if status.is_empty() {
            state.queues.fill(FakeQueue::default());
        }
    }

    fn set_guest_page_size(&mut self, _guest_page_size: u32) {}

    fn requires_legacy_layout(&self) -> bool {
        false
    }

    fn queue_set(
        &mut self,
        queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver: PhysAddr,
        device: PhysAddr,
    ) {
        if let Some(slot) = self.shared.lock().queues.get_mut(usize::from(queue)) {
            *slot = FakeQueue::set(size, descriptors, driver, device);
        }
    }

    fn queue_unset(&mut self, queue: u16) {
        if let Some(slot) = self.shared.lock().queues.get_mut(usize::from(queue)) {
            *slot = FakeQueue::default();
        }
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        let state = self.shared.lock();
        state
            .queues
            .get(usize::from(queue))
            .is_some_and(FakeQueue::is_set)
    }

    fn ack_interrupt(&mut self) -> InterruptStatus {
        let mut state = self.shared.lock();
        if core::mem::take(&mut state.interrupt_pending) {
            InterruptStatus::QUEUE_INTERRUPT
        } else {
            InterruptStatus::empty()
        }
    }

    fn read_config_generation(&self) -> u32 {
        0
    }

    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T, VirtioError> {
        let end = offset.checked_add(size_of::<T>());
        let bytes = end.and_then(|end| self.identity.config.get(offset..end));
        let bytes = bytes.ok_or(VirtioError::ConfigSpaceTooSmall)?;
        T::read_from_bytes(bytes).map_err(|_| VirtioError::ConfigSpaceTooSmall)
    }

    fn write_config_space<T: IntoBytes + Immutable>(
        &mut self,
        _offset: usize,
        _value: T,
    ) -> Result<(), VirtioError> {
        Err(VirtioError::Unsupported)
    }
}
