//! A fake virtio-net device for the host tests, on the shared fake.
//!
//! `virtio::fake` gives the transport, the device thread and the split
//! rings; this file the device's model. The driver side is the real one ([`Rings`](crate::rings) and
//! [`VirtioNic`](crate::nic::VirtioNic) on virtio-drivers' `VirtQueue`).
//! The device offers MAC, STATUS and VERSION_1 and, as the test asks, the
//! offloads ([`OFFLOADING`]; no indirect descriptors, no event index). It
//! takes every frame the driver transmits, completing partial checksums
//! and cutting TSO frames with the reference splitter (`fake_offload.rs`;
//! the test reads the wire's frames back, and what the device found
//! wrong), writes the frames the test injects into the receive buffers
//! the driver lent (across several with merged buffers, `num_buffers`
//! filled in), and raises the driver's interrupt after each batch unless
//! the queue's `NO_INTERRUPT` flag waives it. Every wait in the test
//! helpers has a deadline.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use std::time::Duration;

use virtio::fake::{self, FakeQueue, Identity, Machine, Pass};
use virtio_drivers::transport::DeviceType;

use crate::fake_offload::{self, TransmitHeader};

/// Feature bits of a plain device: MAC, STATUS, VERSION_1.
pub(crate) const PLAIN: u64 = 1 << 5 | 1 << 16 | 1 << 32;
/// ... and of one with every offload the driver takes: CSUM, GUEST_CSUM,
/// GUEST_TSO4, GUEST_TSO6, HOST_TSO4, HOST_TSO6, MRG_RXBUF.
pub(crate) const OFFLOADING: u64 =
    PLAIN | 1 | 1 << 1 | 1 << 7 | 1 << 8 | 1 << 11 | 1 << 12 | 1 << 15;
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

/// The transport the driver takes.
pub(crate) type FakeTransport = fake::FakeTransport<Wire>;

/// What the device holds: both sides of its wire.
#[derive(Debug, Default)]
pub(crate) struct Wire {
    /// What the test injected, not yet written to receive buffers.
    to_receive: VecDeque<Injection>,
    /// Frames the driver sent, in order, as the wire carries them.
    transmitted: Vec<Vec<u8>>,
    /// Frames the driver asked the device to cut (TSO).
    segmented: usize,
    /// The headers of those frames, with the frames' lengths.
    bursts: Vec<(TransmitHeader, usize)>,
    /// What the device found wrong in frames the driver sent.
    faults: Vec<&'static str>,
    /// Receive completions written, for the tests' accounting.
    received: usize,
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

/// The device: the shared fake serving a [`Wire`].
pub(crate) struct FakeDevice {
    inner: fake::FakeDevice<Wire>,
}

impl FakeDevice {
    /// A device with `mac` offering `features` whose thread calls `raise`
    /// for each interrupt, and the transport the driver takes.
    pub(crate) fn start(
        mac: [u8; 6],
        features: u64,
        raise: impl Fn() + Send + 'static,
    ) -> (Self, FakeTransport) {
        // mac[6], status: u16 (link up).
        let mut config = mac.to_vec();
        config.extend_from_slice(&1u16.to_le_bytes());
        let identity = Identity {
            device_type: DeviceType::Network,
            features,
            queues: 2,
            max_queue: MAX_QUEUE,
            refuse_features: false,
            config,
        };
        let (inner, transport) = fake::FakeDevice::start(identity, Wire::default(), serve, raise);
        (Self { inner }, transport)
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
        self.inner.lock().device.to_receive.push_back(injection);
        self.inner.shared().wake();
    }

    /// Frames the driver asked the device to cut, and what the device
    /// found wrong in any frame it was given.
    pub(crate) fn offload_report(&self) -> (usize, Vec<&'static str>) {
        let state = self.inner.lock();
        (state.device.segmented, state.device.faults.clone())
    }

    /// The virtio-net header of each frame the device cut, with the
    /// frame's length.
    pub(crate) fn bursts(&self) -> Vec<(TransmitHeader, usize)> {
        self.inner.lock().device.bursts.clone()
    }

    /// The first transmitted frame for which `pick` says yes, removed from
    /// the list; fails the test after [`PATIENCE`].
    pub(crate) fn expect_sent(&self, what: &str, pick: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let mut found = None;
        self.wait_for(what, |wire| {
            let index = wire.transmitted.iter().position(|frame| pick(frame));
            found = index.map(|index| wire.transmitted.remove(index));
            found.is_some()
        });
        found.expect("wait_for returned")
    }

    /// Waits until `count` frames of all injected ones sit in receive
    /// buffers (the driver has been told). Like every wait here, made
    /// without the kernel's CPU (`Context::block_on_host`), or the NIC's
    /// interrupt thread could not run.
    pub(crate) fn wait_received(&self, count: usize) {
        self.wait_for("receive completions", |wire| wire.received >= count);
    }

    /// Waits up to `limit` for a frame on the wire; whether one is there.
    pub(crate) fn wait_for_sent(&self, limit: Duration) -> bool {
        let shared = self.inner.shared();
        shared.wait_until(limit, |state| !state.device.transmitted.is_empty())
    }

    /// Frames transmitted and not yet taken by [`FakeDevice::expect_sent`].
    pub(crate) fn take_sent(&self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.inner.lock().device.transmitted)
    }

    /// Waits until `done` holds, failing the test after [`PATIENCE`].
    fn wait_for(&self, what: &str, mut done: impl FnMut(&mut Wire) -> bool) {
        let shared = self.inner.shared();
        if shared.wait_until(PATIENCE, |state| done(&mut state.device)) {
            return;
        }
        let wire = &self.inner.lock().device;
        panic!(
            "timed out waiting for {what} ({} sent, {} received, {} to receive)",
            wire.transmitted.len(),
            wire.received,
            wire.to_receive.len()
        );
    }
}

/// One pass of the device thread: both queues served.
fn serve(state: &mut Machine<Wire>) -> Pass {
    let sent = serve_transmit(state);
    let received = serve_receive(state);
    let wanted = (sent && state.queues[TRANSMIT].wants_interrupts())
        || (received && state.queues[RECEIVE].wants_interrupts());
    match (sent || received, wanted) {
        (false, _) => Pass::Idle,
        (true, false) => Pass::Worked,
        (true, true) => Pass::Interrupt,
    }
}

/// Takes every frame the driver made available on the transmit queue,
/// through the device's offloads onto the "wire".
fn serve_transmit(state: &mut Machine<Wire>) -> bool {
    let mut worked = false;
    while let Some(chain) = state.queues[TRANSMIT].pop() {
        let bytes = chain.readable();
        let header = TransmitHeader::read(&bytes[..HEADER.min(bytes.len()).max(10)]);
        let frame = bytes.get(HEADER..).unwrap_or_default();
        match fake_offload::transmit(header, frame) {
            Ok(frames) => {
                if frames.len() > 1 {
                    state.device.segmented += 1;
                    state.device.bursts.push((header, frame.len()));
                }
                state.device.transmitted.extend(frames);
            }
            Err(fault) => state.device.faults.push(fault),
        }
        state.queues[TRANSMIT].push_used(chain.head, 0);
        worked = true;
    }
    worked
}

/// Writes injected frames into the receive buffers the driver lent.
fn serve_receive(state: &mut Machine<Wire>) -> bool {
    let mergeable = state.driver_features & MRG_RXBUF != 0;
    let mut worked = false;
    while let Some(injection) = state.device.to_receive.front() {
        let queue = &state.queues[RECEIVE];
        let needed = match injection.raw || !mergeable {
            true => 1,
            false => injection.bytes.len().div_ceil(buffer_length(queue)),
        };
        if queue.available() < needed {
            break;
        }
        let mut injection = state.device.to_receive.pop_front().expect("not empty");
        if !injection.raw {
            let count = if mergeable { needed as u16 } else { 0 };
            injection.bytes[10..12].copy_from_slice(&count.to_le_bytes());
        }
        write_buffers(&mut state.queues[RECEIVE], &injection.bytes, needed);
        state.device.received += 1;
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
