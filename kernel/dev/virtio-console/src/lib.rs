//! The virtio-console component: virtio-serial ports as byte streams.
//!
//! At the DEV level the component attaches every multiport virtio console
//! it finds: PCI functions through the dev faction's match table
//! ([`pci::VIOCON`]: modern virtio-serial-pci) and the virtio-mmio slots
//! the command line names (microvm's `virtio-serial-device`). Each is
//! found again through [`Consoles`] as a [`ConsoleListener`]: a client
//! that connects on the host side of a port (QEMU's PORT_OPEN, e.g. a
//! program connecting to the port's Unix socket) is one [`ConsolePort`]
//! from `accept`; its disconnecting ends that stream (reads return end of
//! stream, blocked ones wake), and the port takes the next client. Each
//! port is one client at a time; several ports serve several at once.
//! The sysproxy server speaks over them on bare metal.
//!
//! Built on virtio-drivers' transports and split virtqueue; receive and
//! transmit completions and control messages arrive by interrupt (MSI-X,
//! INTx or the MMIO line), and a software interrupt carries the closes
//! made without a context. A console that is odd (no MULTIPORT, no
//! ports, small queues, missing structures, no interrupt) is logged with
//! its address and skipped; malformed control messages are logged and
//! ignored; the boot goes on.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod console;
mod control;
mod device;
mod endpoint;
pub mod pci;
mod ports;
mod rings;
mod service;
#[cfg(test)]
mod tests;

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use base::hypercall::{InterruptSource, StreamError};
use base::sync::Mutex;
use dev::DevError;
use log::info;

use crate::console::{Console, ConsoleTransport};
use crate::endpoint::Endpoint;
use crate::ports::Stream;

/// The component.
pub static VIRTIO_CONSOLE: Component = Component {
    name: "virtio-console",
    level: InitLevel::Dev,
    requires: &["pci"],
    init: attach_all,
};

fn attach_all(context: &Context<'_>) -> Result<(), ComponentError> {
    Consoles::get_or_install(context);
    virtio::driver::attach_all(context, &pci::DRIVER);
    Ok(())
}

/// The consoles of one kernel.
pub struct Consoles {
    endpoints: Mutex<Vec<Arc<dyn Endpoint>>>,
}

impl Consoles {
    /// The service of `context`'s kernel, if the component is linked.
    pub fn of(context: &Context<'_>) -> Option<Arc<Self>> {
        context.kernel().service::<Self>(context)
    }

    fn get_or_install(context: &Context<'_>) -> Arc<Self> {
        Self::of(context).unwrap_or_else(|| {
            let consoles = Arc::new(Self {
                endpoints: Mutex::new(Vec::new()),
            });
            context.kernel().install_service(context, consoles.clone());
            consoles
        })
    }

    /// A listener on each console attached, in the order found.
    pub fn listeners(&self, context: &Context<'_>) -> Vec<ConsoleListener> {
        let endpoints = self.endpoints.lock(context);
        let listener = |endpoint: &Arc<dyn Endpoint>| ConsoleListener(endpoint.clone());
        endpoints.iter().map(listener).collect()
    }
}

impl core::fmt::Debug for Consoles {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Consoles")
    }
}

/// Makes `console` live and findable: its kick, DEVICE_READY, the list.
fn register<T: ConsoleTransport>(
    context: &Context<'_>,
    console: Arc<Console<T>>,
    interrupt: &str,
) -> Result<(), DevError> {
    let handler = console.clone();
    let kick = context.kernel().arc().interrupt_establish(
        &format!("viocon kick {}", console.label),
        InterruptSource::Software,
        move |context| virtio::Started::service(&*handler, context),
    )?;
    console.kick.call_once(|| kick);
    console.begin(context);
    let consoles = Consoles::get_or_install(context);
    info!(
        "viocon{}: {}, {interrupt}",
        consoles.endpoints.lock(context).len(),
        console.label
    );
    consoles.endpoints.lock(context).push(console);
    Ok(())
}

/// Where a console's clients come from.
pub struct ConsoleListener(Arc<dyn Endpoint>);

impl ConsoleListener {
    /// The next client that connected on a port; blocks until one does.
    ///
    /// # Errors
    /// [`StreamError::Closed`] once [`ConsoleListener::close`] was
    /// called; [`StreamError::Io`] on a broken device.
    pub fn accept(&self, context: &Context<'_>) -> Result<ConsolePort, StreamError> {
        let stream = self.0.accept(context)?;
        Ok(ConsolePort {
            endpoint: self.0.clone(),
            stream,
            closed: AtomicBool::new(false),
            sending: Mutex::new(()),
        })
    }

    /// Ends a blocked and every later `accept`. Never blocks.
    pub fn close(&self) {
        self.0.close_listener();
    }

    /// Where the console is (`pci 0000:00:04.0`).
    pub fn label(&self) -> &str {
        self.0.label()
    }
}

impl core::fmt::Debug for ConsoleListener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("ConsoleListener")
            .field(&self.label())
            .finish()
    }
}

/// One client on one port.
pub struct ConsolePort {
    endpoint: Arc<dyn Endpoint>,
    stream: Stream,
    closed: AtomicBool,
    /// Held for a whole send, so frames do not interleave.
    sending: Mutex<()>,
}

impl ConsolePort {
    /// Reads at least one byte into `buffer` (not empty), or 0 once the
    /// client went away and all it sent was read; blocks.
    ///
    /// # Errors
    /// [`StreamError::Closed`] after [`ConsolePort::close`];
    /// [`StreamError::Io`] on a broken device.
    pub fn read(&self, context: &Context<'_>, buffer: &mut [u8]) -> Result<usize, StreamError> {
        self.endpoint
            .read(context, self.stream, &self.closed, buffer)
    }

    /// Sends all of `frame`; concurrent sends do not interleave; blocks
    /// while the device has not taken earlier bytes.
    ///
    /// # Errors
    /// [`StreamError::Disconnected`] once the client went away; as
    /// [`ConsolePort::read`].
    pub fn send(&self, context: &Context<'_>, frame: &[u8]) -> Result<(), StreamError> {
        let _sending = self.sending.lock(context);
        self.endpoint
            .send(context, self.stream, &self.closed, frame)
    }

    /// Ends the stream: blocked and later calls fail, the port's host
    /// side is told (PORT_OPEN 0). Never blocks; needs no context.
    pub fn close(&self) {
        if !self.closed.swap(true, Relaxed) {
            self.endpoint.close(self.stream);
        }
    }

    /// The port's number on its console.
    pub fn port(&self) -> u32 {
        self.stream.port
    }
}

impl Drop for ConsolePort {
    fn drop(&mut self) {
        self.close();
    }
}

impl core::fmt::Debug for ConsolePort {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConsolePort")
            .field("console", &self.endpoint.label())
            .field("port", &self.stream.port)
            .finish()
    }
}
