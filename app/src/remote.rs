//! Remote clients over virtio-console: the boot parameter `sysproxy=console`.
//!
//! With `sysproxy=console` the appliance serves the kernel's system calls
//! (the sysproxy server, with `sysproxy.key=` when given) on every port
//! of every virtio console the kernel attached: a program on the host
//! that connects to a port's socket (`cargo xtask run --server unix:PATH`
//! gives QEMU one) is a client, exactly as one of a hosted kernel's Unix
//! socket. Hosted kernels serve the host's stream endpoints instead (the
//! sysproxy component does that itself); `sysproxy=` names the transport
//! here, and any value but `console` is logged and ignored.

use alloc::boxed::Box;
use alloc::sync::Arc;

use kernel::Context;
use kernel::sysproxy::transport::{Connection, Listener, StreamError};
use kernel::sysproxy::{self, Limits};
use kernel::virtio_console::{ConsoleListener, ConsolePort, Consoles};
use log::{info, warn};

/// The boot parameter naming the transport.
pub const PARAMETER: &str = "sysproxy";

/// Starts a server on each console if the boot parameters ask; returns
/// how many.
pub fn serve(context: &Context<'_>) -> usize {
    match context.kernel().params().get(PARAMETER) {
        None => 0,
        Some("console") => serve_consoles(context),
        Some(other) => {
            warn!("{PARAMETER}={other}: unknown transport (expected `console`); not served");
            0
        }
    }
}

fn serve_consoles(context: &Context<'_>) -> usize {
    let listeners = Consoles::of(context).map(|consoles| consoles.listeners(context));
    let listeners = listeners.unwrap_or_default();
    if listeners.is_empty() {
        warn!("{PARAMETER}=console: no virtio console; not served");
    }
    let mut served = 0;
    for listener in listeners {
        let label = alloc::string::String::from(listener.label());
        let listener = Arc::new(OnConsole(listener));
        let key = sysproxy::boot_key(context);
        match sysproxy::serve(context, listener, key, Limits::default()) {
            Ok(_) => {
                info!("serving remote clients on the console at {label}");
                served += 1;
            }
            Err(error) => warn!("the console at {label} not served: {error}"),
        }
    }
    served
}

/// A console's listener as the server's.
struct OnConsole(ConsoleListener);

impl Listener for OnConsole {
    fn accept(&self, context: &Context<'_>) -> Result<Box<dyn Connection>, StreamError> {
        Ok(Box::new(PortConnection(self.0.accept(context)?)))
    }

    fn close(&self) {
        self.0.close();
    }
}

/// A console port as the server's connection.
struct PortConnection(ConsolePort);

impl Connection for PortConnection {
    fn read(&self, context: &Context<'_>, buffer: &mut [u8]) -> Result<usize, StreamError> {
        self.0.read(context, buffer)
    }

    fn send(&self, context: &Context<'_>, frame: &[u8]) -> Result<(), StreamError> {
        self.0.send(context, frame)
    }

    fn close(&self) {
        self.0.close();
    }
}
