//! One client: its handshake, its frames, its calls, and its end.
//!
//! A client is served by its own kernel thread, the *reader*: it reads
//! frames, answers the handshake, runs quick calls itself and hands
//! blocking ones to the client's workers ([`crate::workers`]), within the
//! client's limits. Everything a client does wrong is answered on its own
//! stream: a frame whose header does not decode or whose call is unknown
//! gets a refusal and the next frame is read; a frame longer than the
//! limit gets a refusal and the end of the connection, since the stream is
//! then out of step.
//!
//! The reader and the workers are lwps of the client's own process
//! context (the seeds' lwproc), made when it connects. When the stream
//! ends (the client hung up, a read failed, the server is shutting down)
//! the reader closes every descriptor of that process, which
//! wakes its calls blocked in the kernel (they fail with a bad
//! descriptor), closes the stream, which fails their replies, waits for
//! the workers to end and gives back every byte it charged.

use alloc::sync::Arc;
use alloc::vec::Vec;

use base::memory::Account;
use base::sync::{Condvar, Mutex};
use base::{Context, Process};
use log::debug;
use net::Net;
use sysproxy_proto::frame::{self, FrameError, RequestHeader};
use sysproxy_proto::handshake::{self, Greeting, HandshakeRefusal};
use sysproxy_proto::{FrameReader, Mode, Refusal};

use crate::handler::Caller;
use crate::transport::Connection;
use crate::workers::{Job, Work};
use crate::{Limits, ServerShared};

/// What the reader keeps charged for a client besides its calls: its
/// frame buffer at its largest and its bookkeeping.
pub const SESSION_BYTES: usize = sysproxy_proto::MAX_FRAME + 32 * 1024;

/// One client's state, shared by its reader and its workers.
pub struct Session {
    /// The client's stream.
    pub connection: Arc<dyn Connection>,
    /// The net faction whose calls it makes.
    pub net: Arc<Net>,
    /// Its process context: the reader and the workers are its lwps, so
    /// its descriptors are the client's own.
    pub process: Arc<Process>,
    /// Its queued and running blocking calls.
    pub work: Mutex<Work>,
    /// Workers wait here for jobs; the reader for the workers' end.
    pub work_changed: Condvar,
    /// Its limits.
    pub limits: Limits,
    /// Where its bytes are charged.
    pub account: Account,
    /// Its number, for the log.
    pub number: u64,
    /// The server it belongs to.
    pub server: Arc<ServerShared>,
}

impl Session {
    /// Whether the client has gone.
    pub fn is_closing(&self, context: &Context<'_>) -> bool {
        self.work.lock(context).closing
    }

    /// Sends `frame`; a failure means the client is going, which the
    /// reader finds out by itself.
    pub fn reply(&self, context: &Context<'_>, frame: &[u8]) {
        if let Err(error) = self.connection.send(context, frame) {
            debug!("client {}: reply not sent: {error}", self.number);
        }
    }
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

/// Serves one client until its stream ends, then frees all it held.
pub fn serve(context: &Context<'_>, shared: &ServerShared, session: Arc<Session>) {
    let mut reader = FrameReader::new();
    if welcome(context, shared, &session, &mut reader) {
        while let Some(body) = next_frame(context, &session, &mut reader) {
            request(context, &session, body);
        }
    }
    finish(context, &session);
}

/// Reads until a whole frame is buffered; `None` when the stream ended
/// or the frame is too long (refused first).
fn next_frame(
    context: &Context<'_>,
    session: &Session,
    reader: &mut FrameReader,
) -> Option<Vec<u8>> {
    loop {
        match reader.next_frame() {
            Ok(Some(body)) => return Some(body),
            Ok(None) => {}
            Err(FrameError::TooLong(_)) => {
                session.reply(context, &frame::refusal(0, Refusal::FrameTooLong));
                return None;
            }
        }
        let count = session.connection.read(context, reader.spare());
        match count {
            Ok(count) if count > 0 => reader.filled(count),
            _ => {
                reader.filled(0);
                return None;
            }
        }
    }
}

/// The handshake: true when the client may call.
fn welcome(
    context: &Context<'_>,
    shared: &ServerShared,
    session: &Session,
    reader: &mut FrameReader,
) -> bool {
    let Some(body) = next_frame(context, session, reader) else {
        return false;
    };
    let key = shared.key.as_deref();
    let verdict = handshake::check(&body, key).and_then(|hello| match hello.fork {
        Some(token) => shared
            .forks
            .claim(context, &session.net, token, &session.process),
        None => Ok(()),
    });
    let verdict = verdict.map(|()| Greeting::Welcome(session.limits.wire()));
    let greeting = verdict.unwrap_or_else(Greeting::Refused);
    session.reply(context, &frame::encode::<_, ()>(&greeting, None));
    if let Greeting::Refused(why) = greeting {
        debug!("client {} refused: {why:?}", session.number);
        if why == HandshakeRefusal::Key {
            shared
                .refused_keys
                .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        }
        return false;
    }
    true
}

/// One request: refused, run here, or queued for a worker.
fn request(context: &Context<'_>, session: &Arc<Session>, body: Vec<u8>) {
    let Ok((header, arguments)) = frame::split_request(&body) else {
        session.reply(context, &frame::refusal(0, Refusal::Malformed));
        return;
    };
    let RequestHeader { id, call } = header;
    match sysproxy_proto::mode_of(call) {
        None => session.reply(context, &frame::refusal(id, Refusal::UnknownCall)),
        Some(Mode::Quick) => {
            let caller = Caller::new(context, session);
            let reply = sysproxy_proto::dispatch(&caller, id, call, arguments);
            session.reply(context, &reply);
        }
        Some(Mode::Blocking) => {
            let offset = body.len() - arguments.len();
            let job = Job {
                id,
                call,
                body,
                offset,
            };
            if let Err(why) = crate::workers::submit(context, session, job) {
                session.reply(context, &frame::refusal(id, why));
            }
        }
    }
}

/// The client is gone: close its sockets (waking its blocked calls) and
/// its stream, wait for its workers, release its charges.
fn finish(context: &Context<'_>, session: &Session) {
    session.work.lock(context).closing = true;
    session.work_changed.notify_all(context);
    for fd in session.process.open_numbers() {
        let _ = session.net.close(context, fd);
    }
    session.connection.close();
    crate::workers::wait_for_all(context, session);
    // Whatever a call opened while the client was going.
    for fd in session.process.open_numbers() {
        let _ = session.net.close(context, fd);
    }
    session.server.forks.expire(context, &session.net);
    debug!("client {} gone", session.number);
}
