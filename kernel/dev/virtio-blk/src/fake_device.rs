//! A fake virtio-blk device for the host tests: a `Transport` and a thread
//! that plays the device on the request queue.
//!
//! The driver side is the real one (`device.rs`, `queue.rs`, `disk.rs` on
//! virtio-drivers' `VirtQueue`); the device thread takes each chain the
//! driver makes available (shared split-ring code of `virtio::fake`),
//! reads the request header, serves it from a disk held in memory, writes
//! the status byte, and raises the driver's interrupt after each batch.
//! The test chooses the features (RO, FLUSH, BLK_SIZE, whether FEATURES_OK
//! sticks), the capacity, and sectors that fail with IOERR. Every wait has
//! a deadline.

use alloc::sync::Arc;
use alloc::vec::Vec;
use std::ops::Range;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use virtio::fake::{Chain, FakeQueue};
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{Error as VirtioError, PhysAddr};
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::device::{FEATURE_BLK_SIZE, FEATURE_FLUSH, FEATURE_RO, FEATURE_VERSION_1};

/// What the test sets up.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// Capacity in 512-byte sectors.
    pub capacity: u64,
    /// The logical block size offered with BLK_SIZE, if any.
    pub block_size: Option<u32>,
    pub read_only: bool,
    pub flush: bool,
    /// The device refuses every feature set (FEATURES_OK never sticks).
    pub refuse_features: bool,
    pub max_queue: u32,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            capacity: 2048,
            block_size: None,
            read_only: false,
            flush: true,
            refuse_features: false,
            max_queue: 256,
        }
    }
}

impl Setup {
    fn features(&self) -> u64 {
        let mut features = FEATURE_VERSION_1;
        for (on, bit) in [
            (self.read_only, FEATURE_RO),
            (self.flush, FEATURE_FLUSH),
            (self.block_size.is_some(), FEATURE_BLK_SIZE),
        ] {
            if on {
                features |= bit;
            }
        }
        features
    }
}

/// Everything the transport and the device thread share.
#[derive(Debug, Default)]
pub(crate) struct State {
    status: u32,
    queue: FakeQueue,
    interrupt_pending: bool,
    /// The disk's bytes.
    pub bytes: Vec<u8>,
    /// 512-byte sectors whose requests fail with IOERR.
    pub failing: Range<u64>,
    pub flushes: u64,
    /// Requests served, and the most taken in one batch.
    pub served: u64,
    pub peak_batch: usize,
    stop: bool,
}

/// The shared state and the condition variable both sides wait on.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The driver's side: a virtio-drivers `Transport`.
#[derive(Debug)]
pub(crate) struct FakeTransport {
    shared: Arc<Shared>,
    setup: Setup,
}

impl Transport for FakeTransport {
    fn device_type(&self) -> DeviceType {
        DeviceType::Block
    }

    fn read_device_features(&mut self) -> u64 {
        self.setup.features()
    }

    fn write_driver_features(&mut self, _driver_features: u64) {}

    fn max_queue_size(&mut self, _queue: u16) -> u32 {
        self.setup.max_queue
    }

    fn notify(&mut self, _queue: u16) {
        self.shared.changed.notify_all();
    }

    fn get_status(&self) -> DeviceStatus {
        DeviceStatus::from_bits_truncate(self.shared.lock().status)
    }

    fn set_status(&mut self, mut status: DeviceStatus) {
        if self.setup.refuse_features {
            status.remove(DeviceStatus::FEATURES_OK);
        }
        let mut state = self.shared.lock();
        state.status = status.bits();
        if status.is_empty() {
            state.queue = FakeQueue::default();
        }
    }

    fn set_guest_page_size(&mut self, _guest_page_size: u32) {}

    fn requires_legacy_layout(&self) -> bool {
        false
    }

    fn queue_set(
        &mut self,
        _queue: u16,
        size: u32,
        descriptors: PhysAddr,
        driver: PhysAddr,
        device: PhysAddr,
    ) {
        self.shared.lock().queue = FakeQueue::set(size, descriptors, driver, device);
    }

    fn queue_unset(&mut self, _queue: u16) {
        self.shared.lock().queue = FakeQueue::default();
    }

    fn queue_used(&mut self, _queue: u16) -> bool {
        self.shared.lock().queue.is_set()
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
        // capacity: u64, size_max, seg_max: u32, geometry: 4 bytes, blk_size: u32.
        let mut config = [0u8; 24];
        config[..8].copy_from_slice(&self.setup.capacity.to_le_bytes());
        let block_size = self.setup.block_size.unwrap_or(512);
        config[20..].copy_from_slice(&block_size.to_le_bytes());
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
    pub shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl FakeDevice {
    /// A device set up as `setup` whose thread calls `raise` for each
    /// interrupt, and the transport the driver takes.
    pub(crate) fn start(setup: Setup, raise: impl Fn() + Send + 'static) -> (Self, FakeTransport) {
        let shared = Arc::new(Shared::default());
        shared.lock().bytes = alloc::vec![0; setup.capacity as usize * 512];
        let device_shared = shared.clone();
        let thread = std::thread::spawn(move || run(&device_shared, &raise));
        let transport = FakeTransport {
            shared: shared.clone(),
            setup,
        };
        let device = Self {
            shared,
            thread: Some(thread),
        };
        (device, transport)
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

/// The device thread: serves the queue whenever something changes.
fn run(shared: &Shared, raise: &dyn Fn()) {
    let mut state = shared.lock();
    while !state.stop {
        let mut chains = Vec::new();
        while let Some(chain) = state.queue.pop() {
            chains.push(chain);
        }
        if !chains.is_empty() {
            state.peak_batch = state.peak_batch.max(chains.len());
            for chain in chains {
                serve(&mut state, &chain);
            }
            state.interrupt_pending = true;
            drop(state);
            raise();
            state = shared.lock();
            continue;
        }
        // Woken by a notify or the stop; the timeout only bounds how long
        // a lost wakeup could stall a test.
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(50))
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
}

/// Serves one request: header, data, status (virtio 1.0 §5.2.6).
fn serve(state: &mut State, chain: &Chain) {
    let readable = chain.readable();
    let kind = u32::from_le_bytes(readable[..4].try_into().expect("a header"));
    let sector = u64::from_le_bytes(readable[8..16].try_into().expect("a header"));
    let length = chain
        .writable_length()
        .saturating_sub(1)
        .max(readable.len() - 16);
    let sectors = sector..sector + (length / 512) as u64;
    let failing = sectors.start < state.failing.end && state.failing.start < sectors.end;
    let at = sector as usize * 512..sector as usize * 512 + length;
    let mut reply = Vec::new();
    let status = match kind {
        _ if failing || at.end > state.bytes.len() => 1,
        0 => {
            reply.extend_from_slice(&state.bytes[at]);
            0
        }
        1 => {
            state.bytes[at].copy_from_slice(&readable[16..]);
            0
        }
        4 => {
            state.flushes += 1;
            0
        }
        _ => 2,
    };
    reply.resize(chain.writable_length() - 1, 0);
    reply.push(status);
    let written = chain.write(&reply);
    state.queue.push_used(chain.head, written as u32);
    state.served += 1;
}
