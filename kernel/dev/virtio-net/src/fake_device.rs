//! A fake virtio-net device for the host tests: a `Transport` and a
//! thread that plays the device on the split virtqueues (virtio 1.0 §2.6).
//!
//! The driver side is the real one (virtio-drivers' `VirtIONetRaw` under
//! [`Rings`](crate::rings) and [`VirtioNic`](crate::nic::VirtioNic)); its
//! rings live in the fake device memory, where "physical" addresses are
//! the process's own, so the device thread reads descriptors and writes
//! used elements at those addresses. It offers MAC, STATUS and VERSION_1
//! and, as the test asks, the offloads ([`OFFLOADING`]; no indirect
//! descriptors, no event index). It takes every frame the driver
//! transmits, completing partial checksums and cutting TSO frames with
//! the reference splitter (`fake_offload.rs`; the test reads the wire's
//! frames back, and what the device found wrong), writes the frames the
//! test injects into the receive buffers the driver lent (across several
//! with merged buffers, `num_buffers` filled in), and raises the driver's
//! interrupt after each batch unless the queue's `NO_INTERRUPT` flag
//! waives it. Notifications wake the thread; every wait in it and in the
//! test helpers has a deadline.

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

use crate::fake_offload::{self, TransmitHeader};

/// Feature bits of a plain device: MAC, STATUS, VERSION_1.
pub(crate) const PLAIN: u64 = 1 << 5 | 1 << 16 | 1 << 32;
/// ... and of one with every offload the driver takes: CSUM, GUEST_CSUM,
/// GUEST_TSO4, HOST_TSO4, MRG_RXBUF.
pub(crate) const OFFLOADING: u64 = PLAIN | 1 | 1 << 1 | 1 << 7 | 1 << 11 | 1 << 15;
/// Driver feature: merged receive buffers.
const MRG_RXBUF: u64 = 1 << 15;
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
    offered: u64,
    driver_features: u64,
    queues: [FakeQueue; 2],
    interrupt_pending: bool,
    /// Set by `notify`, cleared by the device thread.
    notified: bool,
    /// What the test injected, not yet written to receive buffers.
    to_receive: VecDeque<Injection>,
    /// Frames the driver sent, in order, as the wire carries them.
    transmitted: Vec<Vec<u8>>,
    /// Frames the driver asked the device to cut (TSO).
    segmented: usize,
    /// What the device found wrong in frames the driver sent.
    faults: Vec<&'static str>,
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
        self.shared.lock().offered
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

/// Something the test injects on the receive side.
#[derive(Debug)]
struct Injection {
    /// The virtio-net header (12 bytes, `num_buffers` filled in by the
    /// device) and the frame, or bytes written as they are.
    bytes: Vec<u8>,
    /// Written verbatim into one buffer (a malformed completion).
    raw: bool,
}

/// The device's side: the thread and the test's handle on it.
pub(crate) struct FakeDevice {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl FakeDevice {
    /// A device with `mac` offering `features` whose thread calls `raise`
    /// for each interrupt, and the transport the driver takes.
    pub(crate) fn start(
        mac: [u8; 6],
        features: u64,
        raise: impl Fn() + Send + 'static,
    ) -> (Self, FakeTransport) {
        let shared = Arc::new(Shared::default());
        shared.lock().offered = features;
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
        self.inject_with([0; HEADER], frame);
    }

    /// [`FakeDevice::inject`] with the virtio-net `header` given (its
    /// `num_buffers` is the device's to fill).
    pub(crate) fn inject_with(&self, header: [u8; HEADER], frame: &[u8]) {
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(frame);
        self.push(Injection { bytes, raw: false });
    }

    /// Writes `bytes` as they are into one receive buffer: a completion a
    /// careless device could make (no room for a header, a bogus
    /// `num_buffers`).
    pub(crate) fn inject_raw(&self, bytes: &[u8]) {
        let bytes = bytes.to_vec();
        self.push(Injection { bytes, raw: true });
    }

    fn push(&self, injection: Injection) {
        self.shared.lock().to_receive.push_back(injection);
        self.shared.changed.notify_all();
    }

    /// Frames the driver asked the device to cut, and what the device
    /// found wrong in any frame it was given.
    pub(crate) fn offload_report(&self) -> (usize, Vec<&'static str>) {
        let state = self.shared.lock();
        (state.segmented, state.faults.clone())
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

    /// Waits up to `limit` for a frame on the wire; whether one is there.
    pub(crate) fn wait_for_sent(&self, limit: Duration) -> bool {
        let state = self.shared.lock();
        let waited = self
            .shared
            .changed
            .wait_timeout_while(state, limit, |state| state.transmitted.is_empty());
        !waited.unwrap().0.transmitted.is_empty()
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
        let sent = serve_transmit(&mut state);
        let received = serve_receive(&mut state);
        if sent || received {
            let wanted = (sent && state.queues[TRANSMIT].wants_interrupts())
                || (received && state.queues[RECEIVE].wants_interrupts());
            shared.changed.notify_all();
            if wanted {
                state.interrupt_pending = true;
                drop(state);
                raise();
                state = shared.lock();
            }
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

/// Takes every frame the driver made available on the transmit queue,
/// through the device's offloads onto the "wire".
fn serve_transmit(state: &mut State) -> bool {
    let mut worked = false;
    while let Some(chain) = state.queues[TRANSMIT].pop() {
        let bytes = chain.readable();
        let header = TransmitHeader::read(&bytes[..HEADER.min(bytes.len()).max(10)]);
        let frame = bytes.get(HEADER..).unwrap_or_default();
        match fake_offload::transmit(header, frame) {
            Ok(frames) => {
                state.segmented += usize::from(frames.len() > 1);
                state.transmitted.extend(frames);
            }
            Err(fault) => state.faults.push(fault),
        }
        state.queues[TRANSMIT].push_used(chain.head, 0);
        worked = true;
    }
    worked
}

/// Writes injected frames into the receive buffers the driver lent.
fn serve_receive(state: &mut State) -> bool {
    let mergeable = state.driver_features & MRG_RXBUF != 0;
    let mut worked = false;
    while let Some(injection) = state.to_receive.front() {
        let queue = &state.queues[RECEIVE];
        let needed = match injection.raw || !mergeable {
            true => 1,
            false => injection.bytes.len().div_ceil(buffer_length(queue)),
        };
        if queue.available() < needed {
            break;
        }
        let mut injection = state.to_receive.pop_front().expect("not empty");
        if !injection.raw {
            let count = if mergeable { needed as u16 } else { 0 };
            injection.bytes[10..12].copy_from_slice(&count.to_le_bytes());
        }
        write_buffers(&mut state.queues[RECEIVE], &injection.bytes, needed);
        state.received += 1;
        worked = true;
    }
    worked
}

/// Bytes of the next lent receive buffer (the driver lends them alike).
fn buffer_length(queue: &FakeQueue) -> usize {
    let next = queue.peek().map(|chain| chain.writable_length());
    next.unwrap_or_default().max(1)
}

/// Writes `bytes` across `count` receive buffers, truncated to what they
/// hold, one used element each.
fn write_buffers(queue: &mut FakeQueue, bytes: &[u8], count: usize) {
    let mut rest = bytes;
    for _ in 0..count {
        let chain = queue.pop().expect("counted as available");
        assert!(chain.writable_length() > 0, "receive buffers are writable");
        let length = chain.write(rest);
        queue.push_used(chain.head, length as u32);
        rest = &rest[length..];
    }
}
