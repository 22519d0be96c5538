//! What the server speaks over: a listener of byte-stream connections.
//!
//! The server knows only these two traits. A hosted kernel gets them from
//! the host's stream endpoints ([`HostListener`], over the stream
//! hypercalls, each blocking call made with the virtual CPU released); a
//! bare-metal appliance gets them from the ports of the dev faction's
//! virtio consoles (`app/src/remote.rs`), and a TCP listener on the
//! kernel's own stack can implement them too. Errors are the stream hypercalls' [`StreamError`].

use alloc::boxed::Box;

use base::Context;
use base::hypercall::{StreamConnection, StreamListener};

pub use base::hypercall::StreamError;

/// One client's byte stream.
pub trait Connection: Send + Sync {
    /// Reads at least one byte into `buffer`, or 0 at end of stream; may
    /// block (the implementation releases what it must).
    ///
    /// # Errors
    /// [`StreamError`]: the client is gone for the server's purposes.
    fn read(&self, context: &Context<'_>, buffer: &mut [u8]) -> Result<usize, StreamError>;

    /// Sends one whole frame; concurrent sends do not interleave.
    ///
    /// # Errors
    /// [`StreamError`].
    fn send(&self, context: &Context<'_>, frame: &[u8]) -> Result<(), StreamError>;

    /// Ends the stream: blocked and later reads and sends fail. Never
    /// blocks; needs no context (it runs from shutdown hooks too).
    fn close(&self);
}

/// Where connections come from.
pub trait Listener: Send + Sync {
    /// The next connection; may block.
    ///
    /// # Errors
    /// [`StreamError::Closed`] once closed.
    fn accept(&self, context: &Context<'_>) -> Result<Box<dyn Connection>, StreamError>;

    /// Stops listening; a blocked `accept` returns. Never blocks.
    fn close(&self);
}

/// A host's stream endpoint as a [`Listener`].
pub struct HostListener(pub Box<dyn StreamListener>);

impl Listener for HostListener {
    fn accept(&self, context: &Context<'_>) -> Result<Box<dyn Connection>, StreamError> {
        let listener = &*self.0;
        let connection = context.block_on_host(|| listener.accept())?;
        Ok(Box::new(HostConnection(connection)))
    }

    fn close(&self) {
        self.0.close();
    }
}

/// A host's stream connection as a [`Connection`].
pub struct HostConnection(pub Box<dyn StreamConnection>);

impl Connection for HostConnection {
    fn read(&self, context: &Context<'_>, buffer: &mut [u8]) -> Result<usize, StreamError> {
        let connection = &*self.0;
        context.block_on_host(|| connection.read(buffer))
    }

    fn send(&self, context: &Context<'_>, frame: &[u8]) -> Result<(), StreamError> {
        let connection = &*self.0;
        context.block_on_host(|| connection.write_all(frame))
    }

    fn close(&self) {
        self.0.close();
    }
}

impl core::fmt::Debug for HostListener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HostListener")
    }
}

impl core::fmt::Debug for HostConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HostConnection")
    }
}
