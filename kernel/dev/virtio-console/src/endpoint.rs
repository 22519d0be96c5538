//! The console's ports as byte streams: accept, read, send, close.
//!
//! [`Endpoint`] is what a [`ConsoleListener`](crate::ConsoleListener) and
//! its [`ConsolePort`](crate::ConsolePort)s call on a console of any
//! transport. Every blocking call waits on the console's condition
//! variable, which each service pass notifies; nothing polls. A read
//! returns what the client sent, then 0 once it went away; a send fails
//! with [`StreamError::Disconnected`] once it went away; both fail with
//! [`StreamError::Closed`] once our side closed the stream, and with
//! [`StreamError::Io`] on a broken device. Frames are sent in chunks of
//! [`CHUNK`] bytes; the caller keeps concurrent sends from interleaving.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

use base::Context;
use base::hypercall::StreamError;
use log::error;

use crate::console::{Console, ConsoleTransport, State};
use crate::ports::{Readable, Stream};
use crate::rings::Broken;

/// The largest buffer one transmit descriptor carries.
const CHUNK: usize = 16 * 1024;

/// A console's streams, whatever its transport.
pub(crate) trait Endpoint: Send + Sync {
    /// Where the console is, for the log.
    fn label(&self) -> &str;

    /// The next client that connected on the host; blocks.
    fn accept(&self, context: &Context<'_>) -> Result<Stream, StreamError>;

    /// Reads what `stream`'s client sent; blocks; 0 at end of stream.
    fn read(
        &self,
        context: &Context<'_>,
        stream: Stream,
        closed: &AtomicBool,
        buffer: &mut [u8],
    ) -> Result<usize, StreamError>;

    /// Sends `frame` to `stream`'s client; blocks while the queue is full.
    fn send(
        &self,
        context: &Context<'_>,
        stream: Stream,
        closed: &AtomicBool,
        frame: &[u8],
    ) -> Result<(), StreamError>;

    /// Ends `stream` at the next service pass. Never blocks.
    fn close(&self, stream: Stream);

    /// Ends `accept`. Never blocks.
    fn close_listener(&self);
}

/// Why a stream cannot go on, if it cannot.
fn stopped<T: ConsoleTransport>(state: &State<T>, closed: &AtomicBool) -> Option<StreamError> {
    if closed.load(Relaxed) {
        Some(StreamError::Closed)
    } else if state.broken {
        Some(StreamError::Io)
    } else {
        None
    }
}

impl<T: ConsoleTransport> Endpoint for Console<T> {
    fn label(&self) -> &str {
        &self.label
    }

    fn accept(&self, context: &Context<'_>) -> Result<Stream, StreamError> {
        let mut state = self.lock(context);
        loop {
            if let Some(error) = stopped(&state, &self.listener_closed) {
                return Err(error);
            }
            let mut replies = alloc::vec::Vec::new();
            if let Some(stream) = state.ports.accept(&mut replies) {
                state.send_controls(replies);
                return Ok(stream);
            }
            state = self.changed.wait(state);
        }
    }

    fn read(
        &self,
        context: &Context<'_>,
        stream: Stream,
        closed: &AtomicBool,
        buffer: &mut [u8],
    ) -> Result<usize, StreamError> {
        let mut state = self.lock(context);
        loop {
            if let Some(error) = stopped(&state, closed) {
                return Err(error);
            }
            match state.ports.read(stream, buffer) {
                Readable::Data(length) => {
                    state.release_held(stream.port as usize);
                    return Ok(length);
                }
                Readable::End => return Ok(0),
                Readable::Wait => state = self.changed.wait(state),
            }
        }
    }

    fn send(
        &self,
        context: &Context<'_>,
        stream: Stream,
        closed: &AtomicBool,
        frame: &[u8],
    ) -> Result<(), StreamError> {
        let port = stream.port as usize;
        for chunk in frame.chunks(CHUNK) {
            let mut state = self.lock(context);
            loop {
                if let Some(error) = stopped(&state, closed) {
                    return Err(error);
                }
                if !state.ports.is_live(stream) {
                    return Err(StreamError::Disconnected);
                }
                match state.transmit_room(port) {
                    Ok(true) => break,
                    Ok(false) => state = self.changed.wait(state),
                    Err(Broken) => {
                        error!(
                            "{}: the device returned a buffer it was not given; stopped",
                            self.label
                        );
                        state.broken = true;
                    }
                }
            }
            let queues = &mut state.queues;
            let buffer = Box::from(chunk);
            let lent = queues.ports[port]
                .transmit
                .lend(&mut queues.transport, buffer);
            lent.map_err(|_| StreamError::Io)?;
        }
        Ok(())
    }

    fn close(&self, stream: Stream) {
        self.closing.lock().push(stream);
        self.kick();
    }

    fn close_listener(&self) {
        self.listener_closed.store(true, Relaxed);
        self.kick();
    }
}
