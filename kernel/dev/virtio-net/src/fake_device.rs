//! A fake virtio-net device for the host tests: a `Transport` and a
//! thread that plays the device on the split virtqueues (virtio 1.0 §2.6).
//!
//! The driver side is the real one (virtio-drivers' `VirtIONetRaw` under
//! [`Rings`](crate::rings) and [`VirtioNic`](crate::nic::VirtioNic)); its
//! rings live in the fake device memory, where "physical" addresses are
//! the process's own, so the device thread reads descriptors and writes
//! used elements at those addresses. It offers MAC, STATUS and VERSION_1
//! (no indirect descriptors, no event index), takes every frame the driver
//! transmits (the test reads them back), writes the frames the test
//! injects into the receive buffers the driver lent, and raises the
//! driver's interrupt after each batch. Notifications wake the thread;
//! every wait in it and in the test helpers has a deadline.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use virtio::fake::FakeQueue;
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{Error as VirtioError, PhysAddr};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Feature bits the fake offers: MAC, STATUS, VERSION_1.
const FEATURES: u64 = 1 << 5 | 1 << 16 | 1 << 32;
/// Queue size the fake allows.
const MAX_QUEUE: u32 = 256;
/// Bytes of virtio-net header before each frame (VERSION_1).
const HEADER: usize = 12;
/// The receive and transmit queue numbers.
const RECEIVE: usize = 0;
const TRANSMIT: usize = 1;
/// How long the helpers wait for the other side before failing.
const PATIENCE: Duration = Duration::from_secs(10);

/// Everything the transport and the device thread share.
#[derive(Debug, Default)]
struct State {
    status: u32,
    driver_features: u64,
    queues: [FakeQueue; 2],
    interrupt_pending: bool,
    /// Set by `notify`, cleared by the device thread.
    notified: bool,
    /// Frames the test injected, not yet written to a receive buffer.
    to_receive: VecDeque<Vec<u8>>,
    /// Frames the driver sent, in order, header stripped.
    transmitted: Vec<Vec<u8>>,
    /// Receive completions written, for the tests' accounting.
    received: usize,
    stop: bool,
}

/// The shared state and the condition variable both sides wait on.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until `done` holds, failing the test after [`PATIENCE`].
    fn wait_for(&self, what: &str, mut done: impl FnMut(&mut State) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        let mut state = self.lock();
        while !done(&mut state) {
            let now = Instant::now();
            assert!(
                now < deadline,
                "timed out waiting for {what} ({} sent, {} received, {} to receive)",
                state.transmitted.len(),
                state.received,
                state.to_receive.len()
            );
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
    }
}

/// The driver's side: a virtio-drivers `Transport`.
#[derive(Debug)]
pub(crate) struct FakeTransport {
    shared: Arc<Shared>,
    mac: [u8; 6],
}

impl Transport for FakeTransport {
    fn device_type(&self) -> DeviceType {
        DeviceType::Network
    }

    fn read_device_features(&mut self) -> u64 {
        FEATURES
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        self.shared.lock().driver_features = driver_features;
    }

    fn max_queue_size(&mut self, _queue: u16) -> u32 {
        MAX_QUEUE
    }

    fn notify(&mut self, _queue: u16) {
        self.shared.lock().notified = true;
        self.shared.changed.notify_all();
    }

    fn get_status(&self) -> DeviceStatus {
        DeviceStatus::from_bits_truncate(self.shared.lock().status)
    }

    fn set_status(&mut self, status: DeviceStatus) {
        let mut state = self.shared.lock();
        state.status = status.bits();
        if status.is_empty() {
            state.queues = Default::default();
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
        let mut state = self.shared.lock();
        state.queues[usize::from(queue)] = FakeQueue::set(size, descriptors, driver, device);
    }

    fn queue_unset(&mut self, queue: u16) {
        self.shared.lock().queues[usize::from(queue)] = FakeQueue::default();
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        self.shared.lock().queues[usize::from(queue)].is_set()
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
        // mac[6], status: u16 (link up).
        let mut config = [0u8; 8];
        config[..6].copy_from_slice(&self.mac);
        config[6] = 1;
        let bytes = config.get(offset..offset + size_of::<T>());
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

/// The device's side: the thread and the test's handle on it.
pub(crate) struct FakeDevice {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl FakeDevice {
    /// A device with `mac` whose thread calls `raise` for each interrupt,
    /// and the transport the driver takes.
    pub(crate) fn start(mac: [u8; 6], raise: impl Fn() + Send + 'static) -> (Self, FakeTransport) {
        let shared = Arc::new(Shared::default());
        let device_shared = shared.clone();
        let thread = std::thread::spawn(move || run(&device_shared, &raise));
        let transport = FakeTransport {
            shared: shared.clone(),
            mac,
        };
        let device = Self {
            shared,
            thread: Some(thread),
        };
        (device, transport)
    }

    /// Queues `frame` for the driver; it arrives once a receive buffer is
    /// free.
    pub(crate) fn inject(&self, frame: &[u8]) {
        self.shared.lock().to_receive.push_back(frame.to_vec());
        self.shared.changed.notify_all();
    }

    /// The first transmitted frame for which `pick` says yes, removed from
    /// the list; fails the test after [`PATIENCE`].
    pub(crate) fn expect_sent(&self, what: &str, pick: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let mut found = None;
        self.shared.wait_for(what, |state| {
            let index = state.transmitted.iter().position(|frame| pick(frame));
            found = index.map(|index| state.transmitted.remove(index));
            found.is_some()
        });
        found.expect("wait_for returned")
    }

    /// Waits until `count` frames of all injected ones sit in receive
    /// buffers (the driver has been told). Like every wait here, made
    /// without the kernel's CPU (`Context::block_on_host`), or the NIC's
    /// interrupt thread could not run.
    pub(crate) fn wait_received(&self, count: usize) {
        self.shared
            .wait_for("receive completions", |state| state.received >= count);
    }

    /// Frames transmitted and not yet taken by [`FakeDevice::expect_sent`].
    pub(crate) fn take_sent(&self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.shared.lock().transmitted)
    }
}

impl Drop for FakeDevice {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The device thread: serves both queues whenever something changes.
fn run(shared: &Shared, raise: &dyn Fn()) {
    let mut state = shared.lock();
    while !state.stop {
        state.notified = false;
        let worked = serve_transmit(&mut state) | serve_receive(&mut state);
        if worked {
            state.interrupt_pending = true;
            shared.changed.notify_all();
            drop(state);
            raise();
            state = shared.lock();
            continue;
        }
        // Woken by a notify, an injection or the stop; the timeout only
        // bounds how long a lost wakeup could stall a test.
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(50))
            .unwrap()
            .0;
    }
}

/// Takes every frame the driver made available on the transmit queue.
fn serve_transmit(state: &mut State) -> bool {
    let mut worked = false;
    while let Some(chain) = state.queues[TRANSMIT].pop() {
        let bytes = chain.readable();
        state
            .transmitted
            .push(bytes.get(HEADER..).unwrap_or_default().to_vec());
        state.queues[TRANSMIT].push_used(chain.head, 0);
        worked = true;
    }
    worked
}

/// Writes injected frames into the receive buffers the driver lent.
fn serve_receive(state: &mut State) -> bool {
    let mut worked = false;
    while !state.to_receive.is_empty() {
        let queue = &mut state.queues[RECEIVE];
        let Some(chain) = queue.pop() else {
            break;
        };
        assert!(chain.writable_length() > 0, "receive buffers are writable");
        let frame = state.to_receive.pop_front().expect("not empty");
        let mut bytes = alloc::vec![0u8; HEADER];
        bytes.extend_from_slice(&frame);
        let length = chain.write(&bytes);
        queue.push_used(chain.head, length as u32);
        state.received += 1;
        worked = true;
    }
    worked
}
