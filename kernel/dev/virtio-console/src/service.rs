//! A console's service pass: what the device returned, what it is owed.
//!
//! [`Console::service`] is the interrupt handler (the device's and the
//! kick's): it ends the streams closed without a context, applies the
//! control messages the device sent, keeps what each port received for
//! its client and lends the buffers back (or holds them while the client
//! has [`RECEIVE_LIMIT`] bytes unread), frees what the device has sent,
//! sends the control messages owed, and wakes every waiter.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use base::Context;
use base::interrupt::Interrupt;
use dev::DevError;
use log::{error, warn};
use virtio::Started;
use virtio_drivers::transport::Transport;

use crate::console::{Console, ConsoleTransport, RECEIVE_LIMIT, State};
use crate::control::Control;
use crate::rings::Broken;

impl<T: Transport> State<T> {
    /// Sends `controls` now or, without room, once the device returns
    /// earlier ones.
    pub(crate) fn send_controls(&mut self, controls: impl IntoIterator<Item = Control>) {
        self.backlog.extend(controls);
        let queues = &mut self.queues;
        while queues.control_transmit.has_room() {
            let Some(control) = self.backlog.pop_front() else {
                return;
            };
            let buffer = Box::new(control.encode());
            if queues
                .control_transmit
                .lend(&mut queues.transport, buffer)
                .is_err()
            {
                self.backlog.push_front(control);
                return;
            }
        }
    }

    /// Lends back port `port`'s held buffers once its client has read
    /// below the limit.
    pub(crate) fn release_held(&mut self, port: usize) {
        let unread = self.ports.get(port).map_or(0, |port| port.received.len());
        if unread >= RECEIVE_LIMIT {
            return;
        }
        let queues = &mut self.queues;
        for buffer in self.held[port].drain(..) {
            if let Err(buffer) = queues.ports[port]
                .receive
                .lend(&mut queues.transport, buffer)
            {
                // Cannot happen (the ring had them before); kept to be safe.
                warn!("{}: a receive buffer not lent back", self.ports.label());
                drop(buffer);
            }
        }
    }

    /// Whether port `port`'s transmit queue has room, after taking back
    /// what the device sent; without room, asks for an interrupt when
    /// the device returns buffers (and looks once more).
    pub(crate) fn transmit_room(&mut self, port: usize) -> Result<bool, Broken> {
        let ring = &mut self.queues.ports[port].transmit;
        while ring.take()?.is_some() {}
        if ring.has_room() {
            ring.interrupts(false);
            return Ok(true);
        }
        ring.interrupts(true);
        while ring.take()?.is_some() {}
        Ok(ring.has_room())
    }

    /// Takes everything the device returned on every queue.
    pub(crate) fn take_all(&mut self) -> Result<(), Broken> {
        self.take_controls()?;
        for port in 0..self.queues.ports.len() {
            self.take_received(port)?;
            while self.queues.ports[port].transmit.take()?.is_some() {}
        }
        while self.queues.control_transmit.take()?.is_some() {}
        self.send_controls([]);
        Ok(())
    }

    fn take_controls(&mut self) -> Result<(), Broken> {
        let mut replies = Vec::new();
        while let Some((buffer, length)) = self.queues.control_receive.take()? {
            match Control::parse(&buffer[..length]) {
                Ok(control) => self.ports.handle(control, &mut replies),
                Err(malformed) => {
                    warn!(
                        "{}: {malformed} from the device; ignored",
                        self.ports.label()
                    );
                }
            }
            let queues = &mut self.queues;
            let _ = queues.control_receive.lend(&mut queues.transport, buffer);
        }
        self.send_controls(replies);
        Ok(())
    }

    fn take_received(&mut self, port: usize) -> Result<(), Broken> {
        while let Some((buffer, length)) = self.queues.ports[port].receive.take()? {
            self.ports.receive(port, &buffer[..length]);
            self.held[port].push(buffer);
            self.release_held(port);
        }
        Ok(())
    }
}

impl<T: ConsoleTransport> Started for Console<T> {
    /// The interrupt handler: serves the device, then wakes every waiter.
    fn service(&self, context: &Context<'_>) {
        let mut state = self.state.lock(context);
        if !state.broken {
            state.queues.transport.ack_interrupt();
            let closing = core::mem::take(&mut *self.closing.lock());
            let mut replies = Vec::new();
            for stream in closing {
                state.ports.close(stream, &mut replies);
            }
            state.send_controls(replies);
            if state.take_all().is_err() {
                error!(
                    "{}: the device returned a buffer it was not given; stopped",
                    self.label
                );
                state.broken = true;
            }
        }
        drop(state);
        self.changed.notify_all(context);
    }

    fn keep_interrupt(&self, context: &Context<'_>, interrupt: Interrupt) {
        *self.interrupt.lock(context) = Some(interrupt);
    }

    fn attach(self: &Arc<Self>, context: &Context<'_>, described: &str) -> Result<(), DevError> {
        crate::register(context, self.clone(), described)
    }
}
