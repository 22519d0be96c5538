//! Stream endpoint hypercalls: listening Unix sockets for remote clients.
//!
//! Unit n of [`hypercall::StreamEndpoints`] is the n-th [`ServerSpec`] of
//! [`crate::PosixConfig::servers`] (`--server unix:PATH`); past the last
//! one `stream_listen` says `NoDevice`. The host only carries bytes: the
//! kernel's sysproxy component frames them, checks the handshake and
//! enforces every limit. A failed open writes the reason to the kernel's
//! console and returns `Unavailable`.

mod spec;
mod unix;

use hypercall::{StreamEndpoints, StreamError, StreamListener};

use crate::Posix;

pub use spec::{ServerSpec, ServerSpecError};
pub use unix::{UnixConnection, UnixEndpoint};

impl StreamEndpoints for Posix {
    fn stream_listen(&self, unit: u32) -> Result<Box<dyn StreamListener>, StreamError> {
        let spec = usize::try_from(unit)
            .ok()
            .and_then(|unit| self.servers.get(unit))
            .ok_or(StreamError::NoDevice)?;
        match spec {
            ServerSpec::Unix(path) => match UnixEndpoint::bind(path) {
                Ok(endpoint) => Ok(Box::new(endpoint)),
                Err(error) => {
                    let line = format!("server{unit} ({spec}): {error}\n");
                    self.console.write(line.as_bytes());
                    Err(StreamError::Unavailable)
                }
            },
        }
    }
}

#[cfg(test)]
mod tests;
