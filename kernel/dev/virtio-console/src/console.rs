//! One console: its queues and ports under one lock, and its interrupt.
//!
//! The service pass (`service`) runs from the device's interrupt.
//!
//! `close` may come without a context (from shutdown hooks): it records
//! the stream and raises the console's software interrupt (the kick),
//! whose handler is the same service. A device that returns what it was
//! never given is broken: it is no longer used and every call fails.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::AtomicBool;

use base::Context;
use base::interrupt::Interrupt;
use base::sync::{Condvar, Mutex, MutexGuard};
use virtio_drivers::transport::Transport;

use crate::control::{Control, Event};
use crate::device::Queues;
use crate::ports::{Ports, Stream};

/// Control buffers lent to the device, and their size (a message and a
/// port's name; a longer name is cut, which the driver ignores anyway).
const CONTROL_BUFFERS: usize = 8;
const CONTROL_BUFFER: usize = 256;
/// Receive buffers lent per port, and their size.
const RECEIVE_BUFFERS: usize = 8;
const RECEIVE_BUFFER: usize = 4096;
/// Unread bytes past which a port gets no more receive buffers.
pub(crate) const RECEIVE_LIMIT: usize = 64 * 1024;

/// A transport a console can live on.
pub(crate) trait ConsoleTransport: Transport + Send + 'static {}

impl<T: Transport + Send + 'static> ConsoleTransport for T {}

/// One console on transport `T`.
pub(crate) struct Console<T: ConsoleTransport> {
    /// Where it is, for the log: `pci 0000:00:04.0`, `mmio 0xfeb00e00`.
    pub(crate) label: String,
    pub(crate) state: Mutex<State<T>>,
    /// Notified after every service pass.
    pub(crate) changed: Condvar,
    pub(crate) interrupt: Mutex<Option<Interrupt>>,
    /// The software interrupt that runs the service for `close`.
    pub(crate) kick: spin::Once<Interrupt>,
    /// Streams closed without a context, for the next service pass.
    pub(crate) closing: spin::Mutex<Vec<Stream>>,
    pub(crate) listener_closed: AtomicBool,
}

/// What the lock guards.
pub(crate) struct State<T: Transport> {
    pub(crate) queues: Queues<T>,
    pub(crate) ports: Ports,
    /// Control messages waiting for room on the control transmit queue.
    pub(crate) backlog: VecDeque<Control>,
    /// Receive buffers held back, by port, while its client reads.
    pub(crate) held: Vec<Vec<Box<[u8]>>>,
    pub(crate) broken: bool,
}

impl<T: ConsoleTransport> Console<T> {
    /// The console of a started device; `begin` makes it live.
    pub(crate) fn new(label: String, queues: Queues<T>) -> Self {
        let count = queues.ports.len();
        let ports = Ports::new(label.clone(), count);
        let state = State {
            queues,
            ports,
            backlog: VecDeque::new(),
            held: vec![Vec::new(); count],
            broken: false,
        };
        Self {
            label,
            state: Mutex::new(state),
            changed: Condvar::new(),
            interrupt: Mutex::new(None),
            kick: spin::Once::new(),
            closing: spin::Mutex::new(Vec::new()),
            listener_closed: AtomicBool::new(false),
        }
    }

    /// Lends the receive buffers and tells the device the driver is
    /// ready (DEVICE_READY): call once its interrupt is established, as
    /// the device answers at once (PORT_ADD for each port).
    pub(crate) fn begin(&self, context: &Context<'_>) {
        let mut state = self.state.lock(context);
        let state = &mut *state;
        let queues = &mut state.queues;
        for _ in 0..CONTROL_BUFFERS {
            let buffer = vec![0; CONTROL_BUFFER].into_boxed_slice();
            let _ = queues.control_receive.lend(&mut queues.transport, buffer);
        }
        for port in &mut queues.ports {
            for _ in 0..RECEIVE_BUFFERS {
                let buffer = vec![0; RECEIVE_BUFFER].into_boxed_slice();
                let _ = port.receive.lend(&mut queues.transport, buffer);
            }
        }
        state.send_controls([Control::new(0, Event::DeviceReady, 1)]);
    }

    /// Raises the kick, so that a service pass runs soon.
    pub(crate) fn kick(&self) {
        if let Some(kick) = self.kick.get() {
            kick.raise();
        }
    }

    /// The state, locked.
    pub(crate) fn lock<'a>(&'a self, context: &'a Context<'_>) -> MutexGuard<'a, State<T>> {
        self.state.lock(context)
    }
}
