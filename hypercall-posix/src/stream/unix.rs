//! A listening Unix socket and its connections, as stream hypercalls.
//!
//! Closing must wake a thread blocked in `accept` or `read`: a
//! connection is shut down both ways (`read` then sees end of stream, a
//! blocked write a broken pipe); a listener is shut down for reading,
//! which on Linux makes a blocked `accept` fail with EINVAL. A flag set
//! before either turns what the blocked call then sees into `Closed`.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use hypercall::{StreamConnection, StreamError, StreamListener};

/// A listening Unix socket. Dropping it removes its path.
#[derive(Debug)]
pub struct UnixEndpoint {
    listener: UnixListener,
    path: PathBuf,
    closed: AtomicBool,
}

impl UnixEndpoint {
    /// Listens at `path`, replacing a stale socket file there.
    ///
    /// # Errors
    /// The host's, with the path named.
    pub fn bind(path: &Path) -> Result<Self, String> {
        let named = |error: std::io::Error| format!("{}: {error}", path.display());
        if let Ok(metadata) = std::fs::symlink_metadata(path) {
            if !metadata.file_type().is_socket() {
                return Err(format!("{}: exists and is not a socket", path.display()));
            }
            std::fs::remove_file(path).map_err(named)?;
        }
        let listener = UnixListener::bind(path).map_err(named)?;
        Ok(Self {
            listener,
            path: path.to_owned(),
            closed: AtomicBool::new(false),
        })
    }
}

impl StreamListener for UnixEndpoint {
    fn accept(&self) -> Result<Box<dyn StreamConnection>, StreamError> {
        loop {
            if self.closed.load(SeqCst) {
                return Err(StreamError::Closed);
            }
            match self.listener.accept() {
                Ok((stream, _)) => return Ok(Box::new(UnixConnection::new(stream))),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(_) if self.closed.load(SeqCst) => return Err(StreamError::Closed),
                Err(_) => return Err(StreamError::Io),
            }
        }
    }

    fn close(&self) {
        self.closed.store(true, SeqCst);
        // SAFETY: shutdown(2) on a descriptor this listener owns and keeps
        // open until it is dropped; it touches no memory of ours.
        unsafe {
            libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR);
        }
    }
}

impl Drop for UnixEndpoint {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One accepted connection.
#[derive(Debug)]
pub struct UnixConnection {
    stream: UnixStream,
    /// Held for a whole write, so that writes do not interleave.
    writing: Mutex<()>,
    closed: AtomicBool,
}

impl UnixConnection {
    /// Wraps an accepted (or test-made) stream.
    pub fn new(stream: UnixStream) -> Self {
        Self {
            stream,
            writing: Mutex::new(()),
            closed: AtomicBool::new(false),
        }
    }

    fn error(&self, error: &std::io::Error) -> StreamError {
        if self.closed.load(SeqCst) {
            return StreamError::Closed;
        }
        match error.kind() {
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                StreamError::Disconnected
            }
            _ => StreamError::Io,
        }
    }
}

impl StreamConnection for UnixConnection {
    fn read(&self, buffer: &mut [u8]) -> Result<usize, StreamError> {
        loop {
            if self.closed.load(SeqCst) {
                return Err(StreamError::Closed);
            }
            match (&self.stream).read(buffer) {
                Ok(0) if self.closed.load(SeqCst) => return Err(StreamError::Closed),
                Ok(count) => return Ok(count),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(self.error(&error)),
            }
        }
    }

    fn write_all(&self, data: &[u8]) -> Result<(), StreamError> {
        let _whole = self
            .writing
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if self.closed.load(SeqCst) {
            return Err(StreamError::Closed);
        }
        (&self.stream)
            .write_all(data)
            .map_err(|error| self.error(&error))
    }

    fn close(&self) {
        self.closed.store(true, SeqCst);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}
