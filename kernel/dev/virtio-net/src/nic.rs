//! One virtio NIC as an interface of the net faction.
//!
//! [`VirtioNic`] is the [`NetworkDevice`] the stack transmits through and
//! the handler of the device's interrupt thread. Its state (the rings, the
//! interface index, whether transmit is blocked) sits behind one kernel
//! mutex. Lock order: the stack's lock, then this one (transmit runs under
//! the stack's lock); the handler never takes the stack's lock while
//! holding this one: it calls `Net::transmit_ready` after letting go.
//!
//! - **Receive.** The handler takes each completed buffer, posts a fresh
//!   one from the packet pool in its place and queues the frame with
//!   `Net::receive` (the softint processes it). Without a fresh buffer
//!   the frame is dropped and its buffer goes straight back on the ring,
//!   so the ring never runs dry.
//! - **Transmit.** A frame goes out in its own buffer, the virtio-net
//!   header in its headroom (copied into a fresh buffer only if the
//!   headroom is too small). Completed frames are freed in the handler and
//!   before each send. A full ring returns `DeviceBusy` and marks transmit
//!   blocked; the handler calls `Net::transmit_ready` once completions
//!   free descriptors.
//! - **Draining.** The handler empties both queues before it returns (so
//!   no completion is left without an interrupt to come), yielding the CPU
//!   between rounds of [`RECEIVE_BUDGET`] frames so the softint can run.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;

use base::Context;
use base::interrupt::Interrupt;
use base::sync::Mutex;
use dev::DevError;
use log::{error, info};
use net::{DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, MacAddress, Net, NetworkDevice};
use net::{PacketBuffer, PacketPool};

use virtio_drivers::transport::Transport;

use crate::rings::{Broken, NetRaw, QUEUE_SIZE, Received, Rings, Unsent};

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
    /// Set once the interface is attached.
    index: Option<InterfaceIndex>,
    /// The stack holds frames because the transmit ring was full.
    transmit_blocked: bool,
    /// The device misbehaved; it is no longer used.
    broken: bool,
    /// Kept so the interrupt thread lives as long as the NIC.
    interrupt: Option<Interrupt>,
}

impl<T: NicTransport> VirtioNic<T> {
    /// Takes over an initialised device and fills its receive ring.
    ///
    /// # Errors
    /// [`DevError`] without the net faction or receive buffers.
    pub(crate) fn start(
        context: &Context<'_>,
        label: String,
        raw: Box<NetRaw<T>>,
    ) -> Result<Arc<Self>, DevError> {
        let net = Net::of(context).ok_or(DevError::Unusable("virtio-net needs the net faction"))?;
        let mut rings = Rings::new(raw);
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
        let state = State {
            rings,
            index: None,
            transmit_blocked: false,
            broken: false,
            interrupt: None,
        };
        Ok(Arc::new(Self {
            label,
            net,
            state: Mutex::new(state),
        }))
    }

    /// Keeps `interrupt` (and so its thread) alive with the NIC.
    pub(crate) fn keep_interrupt(&self, context: &Context<'_>, interrupt: Interrupt) {
        self.state.lock(context).interrupt = Some(interrupt);
    }

    /// Attaches the interface `vioifN`, logs it with `interrupt` (how the
    /// device interrupts), then serves what arrived meanwhile.
    ///
    /// # Errors
    /// [`DevError::Unusable`] when the stack has no room for it.
    pub(crate) fn attach(
        self: &Arc<Self>,
        context: &Context<'_>,
        interrupt: &str,
    ) -> Result<(), DevError> {
        let mac = MacAddress(self.state.lock(context).rings.mac());
        let spec = InterfaceSpec {
            name_prefix: "vioif",
            kind: LinkKind::Ethernet,
            mac,
            mtu: MTU,
            offloads: net::Offloads::NONE,
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
        info!("{name} at {}: {mac}, {interrupt}", self.label);
        self.service(context);
        Ok(())
    }

    /// The interrupt handler: drains both queues (see the module docs).
    pub(crate) fn service(&self, context: &Context<'_>) {
        loop {
            let (ready, more) = self.service_round(context);
            if let Some(index) = ready {
                self.net.transmit_ready(context, index);
            }
            if !more {
                return;
            }
            context.yield_now();
        }
    }

    /// One round: returns the interface to restart output on, if it was
    /// blocked and is not any more, and whether completions remain.
    fn service_round(&self, context: &Context<'_>) -> (Option<InterfaceIndex>, bool) {
        let mut state = self.state.lock(context);
        if state.broken {
            return (None, false);
        }
        state.rings.acknowledge();
        let freed = match state.rings.reclaim_sent() {
            Ok(freed) => freed,
            Err(Broken) => return self.break_down(&mut state),
        };
        let mut ready = None;
        if state.transmit_blocked && freed > 0 {
            state.transmit_blocked = false;
            ready = state.index;
        }
        let Some(index) = state.index else {
            return (ready, false);
        };
        for _ in 0..RECEIVE_BUDGET {
            match state.rings.take_received() {
                Ok(None) => break,
                Ok(Some(received)) => self.deliver(context, &mut state.rings, index, received),
                Err(Broken) => return self.break_down(&mut state),
            }
        }
        (ready, state.rings.pending())
    }

    /// Queues a received frame and refills its place on the ring.
    fn deliver(
        &self,
        context: &Context<'_>,
        rings: &mut Rings<T>,
        index: InterfaceIndex,
        received: Received,
    ) {
        let (frame, spare) = match received {
            Received::Runt(buffer) => (None, buffer),
            Received::Frame(frame) => match self.net.packet_pool().allocate() {
                Ok(fresh) => (Some(frame), fresh),
                // No memory: drop the frame, reuse its buffer.
                Err(_) => (None, frame),
            },
        };
        // The slot just freed takes it; failing that, it is dropped.
        let _ = rings.post_receive(spare);
        if let Some(frame) = frame {
            self.net.receive(context, index, frame);
        }
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

impl<T: NicTransport> NetworkDevice for VirtioNic<T> {
    fn transmit(&self, context: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy> {
        let mut state = self.state.lock(context);
        if state.broken || state.rings.reclaim_sent().is_err() {
            state.broken = true;
            return Ok(()); // A stopped device loses what it is given.
        }
        let frame = match state.rings.send(frame) {
            Ok(()) => return Ok(()),
            Err(Unsent::Full(frame)) => {
                state.transmit_blocked = true;
                return Err(DeviceBusy(frame));
            }
            Err(Unsent::Refused) => return Ok(()),
            Err(Unsent::NoHeadroom(frame)) => frame,
        };
        let header = state.rings.header_length();
        let Some(copy) = with_headroom(self.net.packet_pool(), &frame, header) else {
            return Ok(()); // No memory for the copy: lost, like a full link.
        };
        match state.rings.send(copy) {
            Err(Unsent::Full(_)) => {
                state.transmit_blocked = true;
                Err(DeviceBusy(frame))
            }
            _ => Ok(()),
        }
    }
}

/// `frame`'s bytes in a fresh buffer with the usual headroom.
fn with_headroom(pool: &PacketPool, frame: &PacketBuffer, header: usize) -> Option<PacketBuffer> {
    let mut copy = pool.allocate().ok()?;
    copy.reset(frame.len()).ok()?.copy_from_slice(frame.data());
    (copy.headroom() >= header).then_some(copy)
}
