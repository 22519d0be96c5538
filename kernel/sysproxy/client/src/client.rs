//! One connection to a kernel's server, shared by every socket made on it.
//!
//! Calls from any number of threads go out on one stream, each frame
//! whole under a lock; a reader thread takes the replies and hands each
//! to the thread waiting for its id. When the stream ends every waiting
//! call fails with the stream's error. Dropping the last handle (the
//! `Client` and every socket made with it) hangs up, and the kernel then
//! closes every socket the client still had.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use sysproxy_proto::frame;
use sysproxy_proto::handshake::{Greeting, Hello, Limits};
use sysproxy_proto::types::ForkToken;
use sysproxy_proto::{Call, FrameReader, Status, Stubs};

use crate::Error;

/// A reply's body, or why none will come.
type Reply = Result<Vec<u8>, io::ErrorKind>;

/// What the reader thread shares with callers.
#[derive(Debug, Default)]
struct Pending {
    /// Callers waiting, by request id.
    waiting: HashMap<u64, SyncSender<Reply>>,
    /// Set when the stream ended: no reply will come.
    ended: Option<io::ErrorKind>,
}

#[derive(Debug)]
struct Inner {
    writer: Mutex<UnixStream>,
    pending: Arc<Mutex<Pending>>,
    next_id: AtomicU64,
    limits: Limits,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writer.shutdown(std::net::Shutdown::Both);
    }
}

/// A connection to a kernel's system-call server. Cheap to clone: the
/// clones share the connection.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Connects to the server at `address` (`unix:PATH`) without a key.
    ///
    /// # Errors
    /// [`Error::Address`], [`Error::Io`], [`Error::Handshake`].
    pub fn connect(address: &str) -> Result<Self, Error> {
        Self::connect_with_key(address, None)
    }

    /// Connects, presenting `key` in the handshake.
    ///
    /// # Errors
    /// As [`Client::connect`].
    pub fn connect_with_key(address: &str, key: Option<&[u8]>) -> Result<Self, Error> {
        Self::connect_with_hello(address, &Hello::new(key))
    }

    /// Connects as the child of a `fork`: the new client's descriptors
    /// are those its parent had when it called [`Stubs::fork`] and got
    /// `token` (the same sockets, at the same numbers).
    ///
    /// # Errors
    /// As [`Client::connect`]; [`Error::Handshake`] with
    /// `HandshakeRefusal::Fork` for an unknown, used or expired token.
    pub fn connect_forked(
        address: &str,
        key: Option<&[u8]>,
        token: ForkToken,
    ) -> Result<Self, Error> {
        Self::connect_with_hello(address, &Hello::forked(key, token))
    }

    fn connect_with_hello(address: &str, hello: &Hello) -> Result<Self, Error> {
        let path = address
            .strip_prefix("unix:")
            .filter(|path| !path.is_empty())
            .ok_or_else(|| Error::Address(address.into()))?;
        let mut stream = UnixStream::connect(path)?;
        stream.write_all(&frame::encode::<_, ()>(hello, None))?;
        let mut reader = FrameReader::new();
        let body = read_frame(&mut stream, &mut reader)?;
        let limits = match frame::decode::<Greeting>(&body) {
            Ok(Greeting::Welcome(limits)) => limits,
            Ok(Greeting::Refused(why)) => return Err(Error::Handshake(why)),
            Err(_) => return Err(Error::Protocol("the greeting does not decode")),
        };
        let pending = Arc::new(Mutex::new(Pending::default()));
        let replies = stream.try_clone()?;
        let shared = pending.clone();
        std::thread::Builder::new()
            .name("anykernel-client".into())
            .spawn(move || read_replies(replies, reader, &shared))?;
        let inner = Inner {
            writer: Mutex::new(stream),
            pending,
            next_id: AtomicU64::new(1),
            limits,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The limits the server gave this client.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Sends `request` (frame with `id`) and waits for its reply body.
    fn exchange(&self, id: u64, request: &[u8]) -> Result<Vec<u8>, Error> {
        let (sender, receiver) = sync_channel(1);
        {
            let mut pending = lock(&self.inner.pending);
            if let Some(kind) = pending.ended {
                return Err(Error::Io(kind.into()));
            }
            pending.waiting.insert(id, sender);
        }
        let written = lock(&self.inner.writer).write_all(request);
        if let Err(error) = written {
            lock(&self.inner.pending).waiting.remove(&id);
            return Err(Error::Io(error));
        }
        let reply = receiver.recv().unwrap_or(Err(io::ErrorKind::BrokenPipe));
        reply.map_err(|kind| Error::Io(kind.into()))
    }

    /// A fresh request id.
    pub fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Relaxed)
    }
}

impl Stubs for Client {
    type Error = Error;

    fn call<C: Call>(&self, call: C) -> Result<C::Output, Error> {
        let id = self.next_id();
        let body = self.exchange(id, &frame::request(id, &call))?;
        let (header, result) =
            frame::split_reply(&body).map_err(|_| Error::Protocol("a reply header"))?;
        match header.status {
            Status::Done => frame::decode(result).map_err(|_| Error::Protocol("a result")),
            Status::Failed(errno) => Err(Error::Errno(errno)),
            Status::Refused(why) => Err(Error::Refused(why)),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads until `reader` has a whole frame.
fn read_frame(stream: &mut UnixStream, reader: &mut FrameReader) -> io::Result<Vec<u8>> {
    loop {
        let next = reader.next_frame();
        let next =
            next.map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "frame too long"))?;
        if let Some(body) = next {
            return Ok(body);
        }
        let count = stream.read(reader.spare());
        let count = count.inspect_err(|_| reader.filled(0))?;
        reader.filled(count);
        if count == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// The reader thread: replies to their callers until the stream ends.
fn read_replies(mut stream: UnixStream, mut reader: FrameReader, pending: &Mutex<Pending>) {
    let ended = loop {
        let body = match read_frame(&mut stream, &mut reader) {
            Ok(body) => body,
            Err(error) => break error.kind(),
        };
        let Ok((header, _)) = frame::split_reply(&body) else {
            break io::ErrorKind::InvalidData;
        };
        if let Some(sender) = lock(pending).waiting.remove(&header.id) {
            let _ = sender.send(Ok(body));
        }
    };
    let mut pending = lock(pending);
    pending.ended = Some(ended);
    for (_, sender) in pending.waiting.drain() {
        let _ = sender.send(Err(ended));
    }
}
