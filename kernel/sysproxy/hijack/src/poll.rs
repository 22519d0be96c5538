//! poll(2) over the program's descriptors, local and remote together.
//!
//! The `pollfd`s are sorted by where they are answered: negative ones
//! are skipped (as poll does), remote ones become one remote poll call,
//! and the rest one poll of Linux's. With no remote descriptor the call
//! is Linux's alone; with no local one it is the kernel's alone; with
//! both, [`crate::wait`] waits on the two at once. Requested events map
//! onto the kernel's readable and writable bits (POLLRDNORM and
//! POLLWRNORM too); hang-up, error and invalid are always reported.

use core::ffi::c_int;
use std::time::{Duration, Instant};

use anykernel_client::Stubs;
use anykernel_client::proto::types::{PollEntry, poll as bits};
use libc::pollfd;

use crate::errno::{self, Result};
use crate::remote::client;
use crate::table;

/// Readable as the program asks for it.
const READ_EVENTS: i16 = libc::POLLIN | libc::POLLRDNORM;
/// Writable as the program asks for it.
const WRITE_EVENTS: i16 = libc::POLLOUT | libc::POLLWRNORM;

/// A poll's time limit: none (wait for ever) or a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<Instant>);

impl Limit {
    /// The limit of a poll timeout in milliseconds (negative: none).
    pub fn of_milliseconds(timeout: c_int) -> Limit {
        let timeout = u64::try_from(timeout).ok();
        Limit::of(timeout.map(Duration::from_millis))
    }

    /// The limit `timeout` from now.
    pub fn of(timeout: Option<Duration>) -> Limit {
        Limit(timeout.map(|timeout| Instant::now() + timeout))
    }

    /// Milliseconds left, rounded up; none without a limit.
    pub fn left_ms(self) -> Option<u64> {
        self.0.map(|deadline| {
            let left = deadline.saturating_duration_since(Instant::now());
            u64::try_from(left.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
        })
    }

    /// The same, as poll(2)'s timeout argument.
    pub fn left_c(self) -> c_int {
        self.left_ms()
            .map_or(-1, |ms| c_int::try_from(ms).unwrap_or(c_int::MAX))
    }

    /// Whether the time is up.
    pub fn passed(self) -> bool {
        self.left_ms() == Some(0)
    }
}

/// The kernel's bits for the program's requested `events`.
pub fn wire_events(events: i16) -> u8 {
    let mut wire = 0;
    if events & READ_EVENTS != 0 {
        wire |= bits::READABLE;
    }
    if events & WRITE_EVENTS != 0 {
        wire |= bits::WRITABLE;
    }
    wire
}

/// The program's `revents` for the kernel's `wire` answer to `events`.
pub fn returned_events(wire: u8, events: i16) -> i16 {
    let mut returned = 0;
    if wire & bits::READABLE != 0 {
        returned |= events & READ_EVENTS;
    }
    if wire & bits::WRITABLE != 0 {
        returned |= events & WRITE_EVENTS;
    }
    for (bit, event) in [
        (bits::HANGUP, libc::POLLHUP),
        (bits::ERROR, libc::POLLERR),
        (bits::INVALID, libc::POLLNVAL),
    ] {
        if wire & bit != 0 {
            returned |= event;
        }
    }
    returned
}

/// Whether any of `fds` stands for a remote socket.
pub fn any_remote(fds: &[pollfd]) -> bool {
    fds.iter().any(|fd| table::is_remote(fd.fd))
}

/// poll(2) on `fds`, of which at least one is remote, until `limit`:
/// the number of entries with events.
///
/// # Errors
/// The kernel's or Linux's errno (EINTR from a signal while waiting).
pub fn poll(fds: &mut [pollfd], limit: Limit) -> Result<usize> {
    let mut remote = Vec::new();
    let mut local = Vec::new();
    for (index, fd) in fds.iter_mut().enumerate() {
        fd.revents = 0;
        match table::get(fd.fd) {
            Some(socket) => remote.push((
                index,
                PollEntry {
                    fd: socket.descriptor,
                    events: wire_events(fd.events),
                },
            )),
            None if fd.fd >= 0 => local.push(index),
            None => {}
        }
    }
    let entries: Vec<PollEntry> = remote.iter().map(|(_, entry)| *entry).collect();
    let mut locals: Vec<pollfd> = local.iter().map(|&index| fds[index]).collect();
    let answers = if locals.is_empty() {
        client()?.poll(entries, limit.left_ms())?
    } else {
        crate::wait::both(&entries, &mut locals, limit)?
    };
    for ((index, _), wire) in remote.iter().zip(answers) {
        fds[*index].revents = returned_events(wire, fds[*index].events);
    }
    for (index, answered) in local.iter().zip(&locals) {
        fds[*index].revents = answered.revents;
    }
    Ok(fds.iter().filter(|fd| fd.revents != 0).count())
}

/// Linux's poll on local `fds` until `limit`: how many have events.
///
/// # Errors
/// Linux's errno.
pub fn poll_local(fds: &mut [pollfd], limit: Limit) -> Result<usize> {
    // SAFETY: `fds` is a live slice of pollfds of that length.
    let ready = unsafe { crate::real::poll(fds.as_mut_ptr(), fds.len() as _, limit.left_c()) };
    errno::check(ready).map(|ready| ready as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_map_both_ways_with_what_is_always_reported() {
        let asked = libc::POLLIN | libc::POLLRDNORM;
        assert_eq!(wire_events(asked), bits::READABLE);
        assert_eq!(wire_events(libc::POLLOUT), bits::WRITABLE);
        assert_eq!(wire_events(0), 0);
        let wire = bits::READABLE | bits::WRITABLE | bits::HANGUP;
        assert_eq!(returned_events(wire, asked), asked | libc::POLLHUP);
        assert_eq!(returned_events(bits::ERROR, 0), libc::POLLERR);
    }

    #[test]
    fn limits_count_down_and_none_is_for_ever() {
        assert_eq!(Limit::of_milliseconds(-1).left_ms(), None);
        assert_eq!(Limit::of_milliseconds(-1).left_c(), -1);
        assert!(Limit::of_milliseconds(0).passed());
        let left = Limit::of_milliseconds(5_000).left_ms().unwrap();
        assert!((4_900..=5_000).contains(&left), "{left}");
    }
}
