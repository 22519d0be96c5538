//! One virtio NIC as an interface of the net faction.
//!
//! [`VirtioNic`] is the [`NetworkDevice`] the stack transmits through and
//! the handler of the device's interrupt thread. Its state (the rings, the
//! receiver, the interface index, whether transmit is blocked) sits behind
//! one kernel mutex. Lock order: the stack's lock, then this one (transmit
//! runs under the stack's lock); the handler never takes the stack's lock
//! while holding this one: it calls `Net::transmit_ready` after letting go.
//!
//! - **Receive.** The handler takes each completed buffer apart
//!   (`receive.rs`), posts a fresh one from the packet pool in place of a
//!   buffer that became a frame (a merged frame's parts go straight back),
//!   and queues the frames with `Net::receive` (the softint processes
//!   them). Without a fresh buffer the frame is dropped and its buffer
//!   goes back on the ring, so the ring never runs dry. While it drains,
//!   the receive queue's interrupts are off; they go back on when it is
//!   empty, and it looks once more.
//! - **Transmit.** A frame goes out in its own buffer, the virtio-net
//!   header (its offloads: partial checksum, segmentation) in its
//!   headroom. The device is notified once per batch, when the stack
//!   flushes. Completed frames are freed before each send and in the
//!   handler; transmit completions interrupt only while the ring is full:
//!   `DeviceBusy` marks transmit blocked, and the handler calls
//!   `Net::transmit_ready` once completions free descriptors.
//! - **Draining.** The handler empties both queues before it returns (so
//!   no completion is left without an interrupt to come), yielding the CPU
//!   between rounds of [`RECEIVE_BUDGET`] frames so the softint can run.

use alloc::string::String;
use alloc::sync::Arc;

use base::Context;
use base::interrupt::Interrupt;
use base::sync::Mutex;
use dev::DevError;
use log::{error, info};
use net::virtio_header::Header;
use net::{DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, MacAddress, Net, NetworkDevice};
use net::{PacketBuffer, PacketPool};
use virtio::Started;
use virtio_drivers::transport::Transport;

#[cfg(test)]
use crate::receive::ReceiveCounters;
use crate::receive::Receiver;
use crate::rings::{Broken, Device, QUEUE_SIZE, RECEIVE, Rings, TRANSMIT, Unsent};

/// The MTU every virtio NIC gets.
const MTU: usize = 1500;
/// Frames taken per round before the handler yields the CPU.
const RECEIVE_BUDGET: usize = 64;

/// A transport the NIC can live on: any, as long as the interrupt thread
/// and the stack's threads may share it.
pub(crate) trait NicTransport: Transport + Send + 'static {}

impl<T: Transport + Send + 'static> NicTransport for T {}

/// One virtio NIC on transport `T`.
pub(crate) struct VirtioNic<T: NicTransport> {
    /// Where it is, for the log: `pci 0000:00:02.0`, `mmio 0xfeb00e00`.
    label: String,
    net: Arc<Net>,
    state: Mutex<State<T>>,
}

struct State<T: NicTransport> {
    rings: Rings<T>,
    receiver: Receiver,
    /// Set once the interface is attached.
    index: Option<InterfaceIndex>,
    /// The stack holds frames because the transmit ring was full.
    transmit_blocked: bool,
    /// The device misbehaved; it is no longer used.
    broken: bool,
    /// Kept so the interrupt thread lives as long as the NIC.
    interrupt: Option<Interrupt>,
    /// Whether an interrupt is to be acknowledged through the interrupt
    /// status (a line: INTx, virtio-mmio). MSI-X needs none, and the
    /// status read is a register access (a VM exit) per interrupt.
    acknowledged_by_status: bool,
}

impl<T: NicTransport> VirtioNic<T> {
    /// Takes over an initialised device and fills its receive ring.
    ///
    /// # Errors
    /// [`DevError`] without the net faction or receive buffers.
    pub(crate) fn start(
        context: &Context<'_>,
        label: String,
        device: Device<T>,
    ) -> Result<Arc<Self>, DevError> {
        let net = Net::of(context).ok_or(DevError::Unusable("virtio-net needs the net faction"))?;
        let mut rings = Rings::new(device);
        let mut posted = 0;
        while posted < QUEUE_SIZE {
            let Ok(buffer) = net.packet_pool().allocate() else {
                break;
            };
            if rings.post_receive(buffer).is_err() {
                break;
            }
            posted += 1;
        }
        if posted == 0 {
            return Err(DevError::Unusable("no memory for receive buffers"));
        }
        rings.kick(RECEIVE);
        rings.set_interrupts(TRANSMIT, false);
        let negotiated = rings.negotiated();
        let state = State {
            receiver: Receiver::new(negotiated.header_length(), negotiated.mergeable()),
            rings,
            index: None,
            transmit_blocked: false,
            broken: false,
            interrupt: None,
            acknowledged_by_status: true,
        };
        Ok(Arc::new(Self {
            label,
            net,
            state: Mutex::new(state),
        }))
    }

    /// One round: returns the interface to restart output on, if it was
    /// blocked and is not any more, and whether completions remain. The
    /// first round of a service acknowledges the interrupt (a register
    /// read and write); later rounds run with the queue's interrupts off,
    /// and one that comes meanwhile stays asserted and calls the service
    /// again, so they skip it.
    fn service_round(&self, context: &Context<'_>, first: bool) -> (Option<InterfaceIndex>, bool) {
        let mut state = self.state.lock(context);
        if state.broken {
            return (None, false);
        }
        if first && state.acknowledged_by_status {
            state.rings.acknowledge();
        }
        let ready = match self.reclaim(&mut state) {
            Ok(ready) => ready,
            Err(Broken) => return self.break_down(&mut state),
        };
        let Some(index) = state.index else {
            return (ready, false);
        };
        state.rings.set_interrupts(RECEIVE, false);
        for _ in 0..RECEIVE_BUDGET {
            let State {
                rings, receiver, ..
            } = &mut *state;
            match rings.take_received() {
                Ok(None) => break,
                Ok(Some((buffer, written))) => {
                    self.deliver(context, rings, receiver, index, (buffer, written));
                }
                Err(Broken) => return self.break_down(&mut state),
            }
        }
        state.rings.kick(RECEIVE);
        (ready, self.more_to_do(&mut state))
    }

    /// Frees sent frames; returns the interface to restart output on
    /// when transmit was blocked and now has room.
    fn reclaim(&self, state: &mut State<T>) -> Result<Option<InterfaceIndex>, Broken> {
        let freed = state.rings.reclaim_sent()?;
        if !state.transmit_blocked || freed == 0 {
            return Ok(None);
        }
        state.transmit_blocked = false;
        state.rings.set_interrupts(TRANSMIT, false);
        Ok(state.index)
    }

    /// Whether completions wait; when none do, receive interrupts go back
    /// on and the queue is looked at once more (one may have come
    /// between the look and the switch).
    fn more_to_do(&self, state: &mut State<T>) -> bool {
        let blocked = state.transmit_blocked;
        let pending =
            |rings: &Rings<T>| rings.receive_pending() || (blocked && rings.transmit_pending());
        if pending(&state.rings) {
            return true;
        }
        state.rings.set_interrupts(RECEIVE, true);
        pending(&state.rings)
    }

    /// Queues a received frame and refills its place on the ring.
    fn deliver(
        &self,
        context: &Context<'_>,
        rings: &mut Rings<T>,
        receiver: &mut Receiver,
        index: InterfaceIndex,
        (buffer, written): (PacketBuffer, usize),
    ) {
        let pool = self.net.packet_pool();
        let taken = receiver.take(buffer, written, pool);
        let (frame, spare) = match (taken.frame, taken.spare) {
            (frame, Some(spare)) => (frame, Some(spare)),
            (Some(frame), None) => match pool.allocate() {
                Ok(fresh) => (Some(frame), Some(fresh)),
                // No memory: drop the frame, reuse its buffer.
                Err(_) => {
                    receiver.counters.no_memory += 1;
                    (None, Some(frame))
                }
            },
            (None, None) => (None, pool.allocate().ok()),
        };
        // The slot just freed takes it; failing that, it is dropped.
        if let Some(spare) = spare {
            let _ = rings.post_receive(spare);
        }
        if let Some(frame) = frame {
            self.net.receive(context, index, frame);
        }
    }

    /// What the receive side dropped and why.
    #[cfg(test)]
    pub(crate) fn receive_counters(&self, context: &Context<'_>) -> ReceiveCounters {
        self.state.lock(context).receiver.counters
    }

    fn break_down(&self, state: &mut State<T>) -> (Option<InterfaceIndex>, bool) {
        error!(
            "{}: the device returned a buffer it was not given; stopped",
            self.label
        );
        state.broken = true;
        (None, false)
    }
}

impl<T: NicTransport> Started for VirtioNic<T> {
    /// Keeps `interrupt` (and so its thread) alive with the NIC.
    fn keep_interrupt(&self, context: &Context<'_>, interrupt: Interrupt) {
        let mut state = self.state.lock(context);
        state.acknowledged_by_status = interrupt.msi_message().is_none();
        state.interrupt = Some(interrupt);
    }

    /// Attaches the interface `vioifN`, logs it with `interrupt` (how the
    /// device interrupts), then serves what arrived meanwhile.
    ///
    /// # Errors
    /// [`DevError::Unusable`] when the stack has no room for it.
    fn attach(self: &Arc<Self>, context: &Context<'_>, interrupt: &str) -> Result<(), DevError> {
        let (mac, offloads) = {
            let state = self.state.lock(context);
            (
                MacAddress(state.rings.mac()),
                state.rings.negotiated().offloads(),
            )
        };
        let spec = InterfaceSpec {
            name_prefix: "vioif",
            kind: LinkKind::Ethernet,
            mac,
            mtu: MTU,
            offloads,
        };
        let index = self
            .net
            .attach(context, spec, self.clone())
            .map_err(|_| DevError::Unusable("no room for another interface"))?;
        self.state.lock(context).index = Some(index);
        let name = self.net.with_stack(context, |stack| {
            stack.ip.interface(index).map(|i| i.name.clone())
        });
        let name = name.unwrap_or_else(|| alloc::format!("vioif#{}", index.0));
        let features = self.state.lock(context).rings.negotiated().0;
        info!(
            "{name} at {}: {mac}, {interrupt}, {offloads:?} (features {features:#x})",
            self.label
        );
        self.service(context);
        Ok(())
    }

    /// The interrupt handler: drains both queues (see the module docs).
    fn service(&self, context: &Context<'_>) {
        for round in 0.. {
            let (ready, more) = self.service_round(context, round == 0);
            if let Some(index) = ready {
                self.net.transmit_ready(context, index);
            }
            if !more {
                return;
            }
            context.yield_now();
        }
    }
}

impl<T: NicTransport> NetworkDevice for VirtioNic<T> {
    fn transmit(&self, context: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy> {
        let mut state = self.state.lock(context);
        if state.broken || state.rings.reclaim_sent().is_err() {
            state.broken = true;
            return Ok(()); // A stopped device loses what it is given.
        }
        let header = Header::for_frame(&frame);
        let frame = match state.rings.send(frame, &header) {
            Ok(()) => return Ok(()),
            Err(Unsent::Full(frame)) => return self.when_full(&mut state, frame, &header),
            Err(Unsent::Refused) => return Ok(()),
            Err(Unsent::NoHeadroom(frame)) => frame,
        };
        let header_length = state.rings.header_length();
        let Some(copy) = with_headroom(self.net.packet_pool(), frame, header_length) else {
            return Ok(()); // No memory for the copy: lost, like a full link.
        };
        match state.rings.send(copy, &Header::default()) {
            Err(Unsent::Full(copy)) => self.when_full(&mut state, copy, &Header::default()),
            _ => Ok(()),
        }
    }

    fn flush(&self, context: &Context<'_>) {
        self.state.lock(context).rings.kick(TRANSMIT);
    }
}

impl<T: NicTransport> VirtioNic<T> {
    /// The ring is full: completions are to interrupt until it has room.
    /// One may have come before they were switched on: look once more,
    /// and send `frame` if it freed room.
    fn when_full(
        &self,
        state: &mut State<T>,
        frame: PacketBuffer,
        header: &Header,
    ) -> Result<(), DeviceBusy> {
        state.rings.kick(TRANSMIT);
        state.rings.set_interrupts(TRANSMIT, true);
        let frame = match state.rings.reclaim_sent() {
            Ok(freed) if freed > 0 => match state.rings.send(frame, header) {
                Err(Unsent::Full(frame)) => frame,
                _ => {
                    state.rings.set_interrupts(TRANSMIT, false);
                    return Ok(());
                }
            },
            _ => frame,
        };
        state.transmit_blocked = true;
        Err(DeviceBusy(frame))
    }
}

/// `frame`'s bytes in a fresh buffer with the usual headroom, its partial
/// checksum completed on the way (the copy has no offload marks); `None`
/// without memory, or for a frame the device was to cut.
fn with_headroom(
    pool: &PacketPool,
    mut frame: PacketBuffer,
    header: usize,
) -> Option<PacketBuffer> {
    if frame.segment_size() > 0 || !frame.complete_checksum() {
        return None;
    }
    let mut copy = pool.allocate().ok()?;
    copy.reset(frame.len()).ok()?.copy_from_slice(frame.data());
    (copy.headroom() >= header).then_some(copy)
}
