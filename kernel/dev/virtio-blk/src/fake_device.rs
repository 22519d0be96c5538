//! A fake virtio-blk device for the host tests, on the shared fake.
//!
//! `virtio::fake` gives the transport, the device thread and the split
//! rings; this file the device's model. The driver side is the real one (`device.rs`, `queue.rs`, `disk.rs` on
//! virtio-drivers' `VirtQueue`); the device takes each chain the driver
//! makes available, reads the request header, serves it from a disk held
//! in memory, writes the status byte, and raises the driver's interrupt
//! after each batch.
//! The test chooses the features (RO, FLUSH, BLK_SIZE, SEG_MAX, indirect
//! descriptors, whether FEATURES_OK sticks), the capacity, and sectors that fail with IOERR. Every wait has
//! a deadline.

use alloc::vec::Vec;
use std::ops::Range;

use virtio::fake::{self, Chain, Identity, Machine, Pass};
use virtio::init::feature::{INDIRECT_DESC, VERSION_1};
use virtio_drivers::transport::DeviceType;

use crate::device::{FEATURE_BLK_SIZE, FEATURE_FLUSH, FEATURE_RO, FEATURE_SEG_MAX};

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
    /// Indirect descriptors are offered.
    pub indirect: bool,
    /// The most segments per request, offered with SEG_MAX, if any.
    pub seg_max: Option<u32>,
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
            indirect: false,
            seg_max: None,
        }
    }
}

impl Setup {
    fn features(&self) -> u64 {
        let mut features = VERSION_1;
        for (on, bit) in [
            (self.read_only, FEATURE_RO),
            (self.flush, FEATURE_FLUSH),
            (self.block_size.is_some(), FEATURE_BLK_SIZE),
            (self.indirect, INDIRECT_DESC),
            (self.seg_max.is_some(), FEATURE_SEG_MAX),
        ] {
            if on {
                features |= bit;
            }
        }
        features
    }

    /// What the transport shows the driver: the features, and the
    /// configuration (capacity: u64, size_max, seg_max: u32, geometry: 4
    /// bytes, blk_size: u32).
    fn identity(&self) -> Identity {
        let mut config = self.capacity.to_le_bytes().to_vec();
        config.resize(12, 0);
        config.extend_from_slice(&self.seg_max.unwrap_or(0).to_le_bytes());
        config.resize(20, 0);
        let block_size = self.block_size.unwrap_or(512);
        config.extend_from_slice(&block_size.to_le_bytes());
        Identity {
            device_type: DeviceType::Block,
            features: self.features(),
            queues: 1,
            max_queue: self.max_queue,
            refuse_features: self.refuse_features,
            config,
        }
    }
}

/// What the device holds and has done.
#[derive(Debug, Default)]
pub(crate) struct Disk {
    /// The disk's bytes.
    pub bytes: Vec<u8>,
    /// 512-byte sectors whose requests fail with IOERR.
    pub failing: Range<u64>,
    pub flushes: u64,
    /// Requests served, and the most taken in one batch.
    pub served: u64,
    pub peak_batch: usize,
    /// The most buffers one request lent (header and status included).
    pub longest_chain: usize,
}

/// The device: the shared fake serving a [`Disk`].
pub(crate) type FakeDevice = fake::FakeDevice<Disk>;
/// The transport the driver takes.
pub(crate) type FakeTransport = fake::FakeTransport<Disk>;

/// A device set up as `setup` whose thread calls `raise` for each
/// interrupt, and the transport the driver takes.
pub(crate) fn start(
    setup: &Setup,
    raise: impl Fn() + Send + 'static,
) -> (FakeDevice, FakeTransport) {
    let disk = Disk {
        bytes: alloc::vec![0; setup.capacity as usize * 512],
        ..Disk::default()
    };
    fake::FakeDevice::start(setup.identity(), disk, serve_all, raise)
}

/// One pass of the device thread: every request the driver made
/// available, then an interrupt.
fn serve_all(state: &mut Machine<Disk>) -> Pass {
    let mut chains = Vec::new();
    while let Some(chain) = state.queues[0].pop() {
        chains.push(chain);
    }
    if chains.is_empty() {
        return Pass::Idle;
    }
    state.device.peak_batch = state.device.peak_batch.max(chains.len());
    for chain in chains {
        serve(state, &chain);
    }
    Pass::Interrupt
}

/// Serves one request: header, data, status (virtio 1.0 §5.2.6).
fn serve(state: &mut Machine<Disk>, chain: &Chain) {
    let readable = chain.readable();
    let kind = u32::from_le_bytes(readable[..4].try_into().expect("a header"));
    let sector = u64::from_le_bytes(readable[8..16].try_into().expect("a header"));
    let length = chain
        .writable_length()
        .saturating_sub(1)
        .max(readable.len() - 16);
    let sectors = sector..sector + (length / 512) as u64;
    let failing =
        sectors.start < state.device.failing.end && state.device.failing.start < sectors.end;
    let at = sector as usize * 512..sector as usize * 512 + length;
    let mut reply = Vec::new();
    let status = match kind {
        _ if failing || at.end > state.device.bytes.len() => 1,
        0 => {
            reply.extend_from_slice(&state.device.bytes[at]);
            0
        }
        1 => {
            state.device.bytes[at].copy_from_slice(&readable[16..]);
            0
        }
        4 => {
            state.device.flushes += 1;
            0
        }
        _ => 2,
    };
    reply.resize(chain.writable_length() - 1, 0);
    reply.push(status);
    let written = chain.write(&reply);
    state.queues[0].push_used(chain.head, written as u32);
    state.device.served += 1;
    state.device.longest_chain = state.device.longest_chain.max(chain.parts());
}
