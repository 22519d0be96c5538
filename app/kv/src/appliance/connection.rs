//! One client connection: bytes from the socket into the session, its
//! replies back out, until the client leaves, falls silent or says quit.
//!
//! The loop honours the session's back-pressure: while
//! [`kv::Session::wants_input`] is false (too many replies waiting) it
//! stops reading the socket, sends, and resumes the session with no new
//! bytes; so a client that pipelines requests but never reads cannot make
//! the appliance buffer without bound. A client that vanishes mid-value
//! leaves the store as it was: the half value is dropped with the session.

use alloc::vec;

use kernel::Context;
use kernel::net::{Errno, Fd, Net, SocketOption};
use kv::{Session, Status};

use super::{Shared, clock};

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 << 10;
/// How long a connection may stay silent (memcached has no limit; two
/// minutes frees the place of a client that vanished without a FIN).
const IDLE_TIMEOUT_NS: u64 = 120_000_000_000;

/// Serves `connection` (the caller closes it).
pub(crate) fn serve(context: &Context<'_>, shared: &Shared, connection: Fd) {
    // A reply goes out in pieces (line, value, END): with Nagle the last
    // waits for the client's delayed ACK, 25 ms a get. memcached sets it too.
    let _ = shared
        .net
        .set_option(context, connection, SocketOption::NoDelay(true));
    let mut session = Session::new();
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        if send(context, &shared.net, connection, &mut session).is_err() {
            return;
        }
        if session.status() == Status::Close {
            return;
        }
        let received = if session.wants_input() {
            match serve::read_or_idle(
                context,
                &shared.net,
                connection,
                &mut buffer,
                IDLE_TIMEOUT_NS,
            ) {
                Ok(0) | Err(_) => return,
                Ok(count) => count,
            }
        } else {
            0
        };
        let mut store = shared.store.lock(context);
        session.input(&buffer[..received], &mut store, clock(context));
    }
}

/// Writes everything the session has queued.
fn send(
    context: &Context<'_>,
    net: &Net,
    connection: Fd,
    session: &mut Session,
) -> Result<(), Errno> {
    while !session.output().is_empty() {
        let written = net.write(context, connection, session.output())?;
        session.consume_output(written);
    }
    Ok(())
}
