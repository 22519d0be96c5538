//! Waiting on remote and local descriptors at once (curl's poll on its
//! connection and its wake-up pipe; nc's on stdin, stdout and the net).
//!
//! First a look without waiting at both sides: most polls of a busy
//! program end there. Otherwise a helper thread makes the remote poll
//! while this thread makes Linux's, each with the program's time limit,
//! and whichever side answers first stops the other:
//!
//! - the remote side, by an eventfd among the local descriptors that the
//!   helper signals when its call returns;
//! - the local side, by the thread's *waker*: a UDP socket of its own in
//!   the kernel, bound to 127.0.0.1 (lo0), that the remote poll also
//!   waits on; a datagram to itself ends that poll. The protocol has no
//!   way to cancel a call, and this needs none. A datagram left over
//!   from a race is drained when it is next seen, and the poll goes on.
//!
//! Without a waker (a kernel without lo0) the two are polled in turn,
//! the remote side for at most [`SLICE`] at a time.

use core::ffi::c_int;
use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anykernel_client::proto::types::poll as bits;
use anykernel_client::proto::types::{
    Bytes, Descriptor, MessageFlags, PollEntry, SocketKind, SocketOption,
};
use anykernel_client::{Client, Stubs};
use libc::pollfd;

use crate::errno::{self, Errno, Result};
use crate::poll::{Limit, poll_local};
use crate::remote::client;

/// The longest the remote side is polled in turn without a waker.
pub const SLICE: Duration = Duration::from_millis(20);

/// Datagrams drained from a waker at most per look (only one is ever sent
/// per wait; more means many were left over, and the next look drains on).
const DRAIN_AT_MOST: usize = 64;

/// Polls `entries` (remote) and `locals` together until one is ready or
/// `limit`: the remote answers; `locals` get their `revents`.
///
/// # Errors
/// The kernel's or Linux's errno (EINTR from a signal while waiting).
pub fn both(entries: &[PollEntry], locals: &mut [pollfd], limit: Limit) -> Result<Vec<u8>> {
    let now = Limit::of(Some(Duration::ZERO));
    loop {
        let answers = client()?.poll(entries.to_vec(), Some(0))?;
        let ready = poll_local(locals, now)?;
        if ready > 0 || answers.iter().any(|&bits| bits != 0) || limit.passed() {
            return Ok(answers);
        }
        let waited = WAKER.try_with(|waker| match waker.try_borrow_mut() {
            Ok(mut waker) => match Waker::of_this_process(&mut waker) {
                Some(waker) => round(waker, entries, locals, limit),
                None => in_turn(entries, locals, limit),
            },
            // A signal handler's wait inside this thread's own.
            Err(_) => in_turn(entries, locals, limit),
        });
        // A thread in its exit (its waker gone) polls in turn.
        let waited = waited.unwrap_or_else(|_| in_turn(entries, locals, limit));
        if let Some(answers) = waited? {
            return Ok(answers);
        }
    }
}

/// One wait on both sides; `None` when it ended with nothing ready.
fn round(
    waker: &Waker,
    entries: &[PollEntry],
    locals: &mut [pollfd],
    limit: Limit,
) -> Result<Option<Vec<u8>>> {
    let client = client()?;
    let signal = Signal::new()?;
    let mut wanted = entries.to_vec();
    wanted.push(PollEntry {
        fd: waker.descriptor,
        events: bits::READABLE,
    });
    let mut watched = locals.to_vec();
    watched.push(pollfd {
        fd: signal.fd,
        events: libc::POLLIN,
        revents: 0,
    });
    let (remote, local) = std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            let answers = client.poll(wanted, limit.left_ms());
            signal.raise();
            answers
        });
        let local = poll_local(&mut watched, limit);
        if watched.last().is_some_and(|signal| signal.revents == 0) {
            waker.wake(client);
        }
        let remote = helper.join();
        (
            remote.unwrap_or(Err(anykernel_client::Error::Protocol("poll helper"))),
            local,
        )
    });
    let mut answers = remote?;
    if answers.pop().is_some_and(|bits| bits != 0) {
        waker.drain(client);
    }
    local?;
    watched.pop();
    locals.copy_from_slice(&watched);
    let ready = locals.iter().any(|fd| fd.revents != 0) || answers.iter().any(|&bits| bits != 0);
    Ok(ready.then_some(answers))
}

/// Without a waker: the remote side for a slice, then the local side.
fn in_turn(entries: &[PollEntry], locals: &mut [pollfd], limit: Limit) -> Result<Option<Vec<u8>>> {
    let slice = SLICE.as_millis() as u64;
    let wait = limit.left_ms().map_or(slice, |left| left.min(slice));
    let answers = client()?.poll(entries.to_vec(), Some(wait))?;
    let ready = poll_local(locals, Limit::of(Some(Duration::ZERO)))?;
    let any = ready > 0 || answers.iter().any(|&bits| bits != 0);
    Ok(any.then_some(answers))
}

thread_local! {
    /// This thread's waker, opened on its first mixed wait (`None` inside
    /// when the kernel could not give one).
    static WAKER: RefCell<Option<Option<Waker>>> = const { RefCell::new(None) };
}

/// A UDP socket in the kernel that ends a remote poll with a datagram.
#[derive(Debug)]
struct Waker {
    descriptor: Descriptor,
    address: SocketAddr,
    /// The process that opened it: a child of `fork` shares the parent's
    /// socket, and a wake-up one of them sent could end the other's poll,
    /// so a child opens its own (closing its copy of the parent's).
    process: u32,
}

impl Waker {
    /// This thread's waker in this process, opened if need be.
    fn of_this_process(slot: &mut Option<Option<Waker>>) -> Option<&Waker> {
        let stale = slot.as_ref().is_some_and(|waker| {
            waker
                .as_ref()
                .is_some_and(|w| w.process != std::process::id())
        });
        if stale {
            drop(slot.take());
        }
        slot.get_or_insert_with(Waker::open).as_ref()
    }

    fn open() -> Option<Waker> {
        let client = client().ok()?;
        let descriptor = client.socket(SocketKind::Datagram).ok()?;
        let mut waker = Waker {
            descriptor,
            address: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            process: std::process::id(),
        };
        client.bind(descriptor, waker.address).ok()?;
        let nonblocking = SocketOption::NonBlocking(true);
        client.set_option(descriptor, nonblocking).ok()?;
        waker.address = client.local_address(descriptor).ok()?;
        Some(waker)
    }

    /// Ends a remote poll that waits on this waker.
    fn wake(&self, client: &Client) {
        let _ = client.send_to(self.descriptor, Bytes(vec![1]), self.address);
    }

    /// Takes the datagrams that woke a poll.
    fn drain(&self, client: &Client) {
        for _ in 0..DRAIN_AT_MOST {
            let flags = MessageFlags::default();
            if client.receive_from(self.descriptor, 1, flags).is_err() {
                return;
            }
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        if let Ok(client) = client() {
            let _ = client.close(self.descriptor);
        }
    }
}

/// An eventfd the helper signals when its remote poll has returned.
struct Signal {
    fd: c_int,
}

impl Signal {
    fn new() -> Result<Signal> {
        // SAFETY: eventfd(2) with valid flags.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        errno::check(fd).map(|fd| Signal { fd })
    }

    fn raise(&self) {
        let one = 1u64;
        // SAFETY: write(2) of the 8 bytes of `one` to our eventfd.
        let written = unsafe { crate::real::write(self.fd, (&raw const one).cast(), 8) };
        debug_assert!(written == 8 || errno::last() == Errno(libc::EAGAIN));
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // SAFETY: close(2) of the eventfd this value owns.
        unsafe { crate::real::close(self.fd) };
    }
}
