//! epoll over remote sockets: the program's interests in them, kept here,
//! and waits that join them with Linux's own epoll.
//!
//! Linux's epoll cannot watch a remote socket (it would watch the
//! placeholder, never ready), so epoll_ctl on one records the interest
//! here, by epoll descriptor and descriptor number. epoll_wait on a set
//! with remote interests becomes one wait on both sides
//! ([`crate::wait::both`]): a remote poll of those interests, and Linux's
//! poll of the epoll descriptor itself, which is readable while Linux's
//! part of the set has events. The remote answers fill the events first;
//! Linux's epoll_wait, without waiting, fills the rest.
//!
//! Differences from Linux's epoll, all on the safe side:
//! - EPOLLET is served level-triggered: a program written for edge
//!   triggering reads until EAGAIN, so it sees the same data, only
//!   perhaps woken more often;
//! - an interest goes with its descriptor number's close (Linux keeps it
//!   while a duplicate of the same open file lives) or its set's;
//! - EPOLLEXCLUSIVE and EPOLLWAKEUP are accepted and have no effect.
//!
//! EPOLLONESHOT is served: after one report the interest is off until
//! EPOLL_CTL_MOD.

use core::ffi::c_int;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use anykernel_client::proto::types::{PollEntry, poll as bits};
use libc::{epoll_event, pollfd};

use crate::errno::{Errno, Result};
use crate::poll::{Limit, returned_events, wire_events};
use crate::table;

/// One interest of the program in a remote descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest {
    /// The events asked for, with their flags (EPOLLONESHOT, EPOLLET).
    pub events: u32,
    /// The program's data, given back with each event.
    pub data: u64,
    /// Off after a one-shot report, until EPOLL_CTL_MOD.
    pub spent: bool,
}

/// Interests in remote descriptors, by epoll descriptor, then descriptor.
type Sets = BTreeMap<c_int, BTreeMap<c_int, Interest>>;

static SETS: RwLock<Sets> = RwLock::new(BTreeMap::new());

/// Whether any interest was ever recorded: until then every close and
/// wait passes by without a lock.
static IN_USE: AtomicBool = AtomicBool::new(false);

/// epoll_ctl(2) of `operation` on remote `fd` in `epoll`, with `event`'s
/// events and data for an add or a modification.
///
/// # Errors
/// EINVAL (`fd` is the set itself, an unknown operation, or `epoll` is
/// not an epoll descriptor), EEXIST (added twice), ENOENT (not there),
/// EFAULT (no event for an add or a modification).
pub fn control(epoll: c_int, operation: c_int, fd: c_int, event: Option<(u32, u64)>) -> Result<()> {
    if epoll == fd || !is_epoll(epoll) {
        return Err(Errno(libc::EINVAL));
    }
    let mut sets = SETS.write().unwrap_or_else(PoisonError::into_inner);
    IN_USE.store(true, Ordering::Release);
    let set = sets.entry(epoll).or_default();
    let interest = |(events, data)| Interest {
        events,
        data,
        spent: false,
    };
    match (operation, set.contains_key(&fd)) {
        (libc::EPOLL_CTL_ADD, true) => Err(Errno(libc::EEXIST)),
        (libc::EPOLL_CTL_MOD | libc::EPOLL_CTL_DEL, false) => Err(Errno(libc::ENOENT)),
        (libc::EPOLL_CTL_ADD | libc::EPOLL_CTL_MOD, _) => {
            let event = event.ok_or(Errno(libc::EFAULT))?;
            set.insert(fd, interest(event));
            Ok(())
        }
        (libc::EPOLL_CTL_DEL, true) => {
            set.remove(&fd);
            Ok(())
        }
        _ => Err(Errno(libc::EINVAL)),
    }
}

/// Whether `fd` is one of Linux's epoll descriptors.
fn is_epoll(fd: c_int) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .is_ok_and(|target| target.as_os_str() == "anon_inode:[eventpoll]")
}

/// `fd` was closed: its interests go, and its set if it was one.
pub fn forget(fd: c_int) {
    if !IN_USE.load(Ordering::Acquire) {
        return;
    }
    let mut sets = SETS.write().unwrap_or_else(PoisonError::into_inner);
    sets.remove(&fd);
    for set in sets.values_mut() {
        set.remove(&fd);
    }
}

/// `first..=last` were closed: as [`forget`] for each.
pub fn forget_range(first: c_int, last: c_int) {
    if !IN_USE.load(Ordering::Acquire) || first > last {
        return;
    }
    let mut sets = SETS.write().unwrap_or_else(PoisonError::into_inner);
    sets.retain(|&epoll, _| !(first..=last).contains(&epoll));
    for set in sets.values_mut() {
        set.retain(|&fd, _| !(first..=last).contains(&fd));
    }
}

/// The live interests of `epoll` in descriptors that are still remote,
/// each with its entry for the remote poll (none: the set is Linux's
/// alone).
pub fn interests(epoll: c_int) -> Vec<(c_int, Interest, PollEntry)> {
    if !IN_USE.load(Ordering::Acquire) {
        return Vec::new();
    }
    let sets = SETS.read().unwrap_or_else(PoisonError::into_inner);
    let Some(set) = sets.get(&epoll) else {
        return Vec::new();
    };
    let live = set.iter().filter(|(_, interest)| !interest.spent);
    live.filter_map(|(&fd, &interest)| {
        let socket = table::get(fd)?;
        let events = wire_events(interest.events as i16);
        let entry = PollEntry {
            fd: socket.descriptor,
            events,
        };
        Some((fd, interest, entry))
    })
    .collect()
}

/// The events epoll reports for a remote answer `wire` to `asked`.
pub fn reported_events(wire: u8, asked: u32) -> u32 {
    let mut reported = returned_events(wire, asked as i16) as u16 as u32;
    if wire & bits::HANGUP != 0 && asked & libc::EPOLLRDHUP as u32 != 0 {
        reported |= libc::EPOLLRDHUP as u32;
    }
    reported
}

/// epoll_wait(2) on `epoll`, whose set has the remote `interests` (from
/// [`interests`]), into `events` until `limit`: how many were filled.
///
/// # Errors
/// The kernel's or Linux's errno (EINTR from a signal while waiting).
pub fn wait(
    epoll: c_int,
    interests: &[(c_int, Interest, PollEntry)],
    events: &mut [epoll_event],
    limit: Limit,
) -> Result<usize> {
    let entries: Vec<PollEntry> = interests.iter().map(|(_, _, entry)| *entry).collect();
    let mut locals = [pollfd {
        fd: epoll,
        events: libc::POLLIN,
        revents: 0,
    }];
    let answers = crate::wait::both(&entries, &mut locals, limit)?;
    let mut filled = 0;
    for ((fd, interest, _), wire) in interests.iter().zip(answers) {
        let reported = reported_events(wire, interest.events);
        if reported == 0 || filled == events.len() {
            continue;
        }
        events[filled] = epoll_event {
            events: reported,
            u64: interest.data,
        };
        filled += 1;
        if interest.events & libc::EPOLLONESHOT as u32 != 0 {
            spend(epoll, *fd);
        }
    }
    if locals[0].revents != 0 && filled < events.len() {
        filled += local_events(epoll, &mut events[filled..])?;
    }
    Ok(filled)
}

/// Turns a one-shot interest off after its report.
fn spend(epoll: c_int, fd: c_int) {
    let mut sets = SETS.write().unwrap_or_else(PoisonError::into_inner);
    let interest = sets.get_mut(&epoll).and_then(|set| set.get_mut(&fd));
    if let Some(interest) = interest {
        interest.spent = true;
    }
}

/// Linux's ready events of `epoll`, without waiting.
fn local_events(epoll: c_int, events: &mut [epoll_event]) -> Result<usize> {
    let room = c_int::try_from(events.len()).unwrap_or(c_int::MAX);
    // SAFETY: `events` is a live array of `room` epoll_events at least.
    let ready = unsafe { crate::real::epoll_wait(epoll, events.as_mut_ptr(), room, 0) };
    crate::errno::check(ready).map(|ready| ready as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_events_follow_what_was_asked_and_always_hang_ups() {
        let asked = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
        let wire = bits::READABLE | bits::WRITABLE | bits::HANGUP;
        let expected = (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLRDHUP) as u32;
        assert_eq!(reported_events(wire, asked), expected);
        assert_eq!(reported_events(bits::ERROR, 0), libc::EPOLLERR as u32);
        assert_eq!(reported_events(bits::WRITABLE, libc::EPOLLIN as u32), 0);
    }

    #[test]
    fn control_keeps_linux_rules_for_adds_modifications_and_removals() {
        // SAFETY: epoll_create1(2) with valid flags.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epoll >= 0);
        let event = Some((libc::EPOLLIN as u32, 7));
        assert_eq!(
            control(epoll, libc::EPOLL_CTL_MOD, 900, event),
            Err(Errno(libc::ENOENT))
        );
        assert_eq!(control(epoll, libc::EPOLL_CTL_ADD, 900, event), Ok(()));
        assert_eq!(
            control(epoll, libc::EPOLL_CTL_ADD, 900, event),
            Err(Errno(libc::EEXIST))
        );
        assert_eq!(
            control(epoll, libc::EPOLL_CTL_MOD, 900, None),
            Err(Errno(libc::EFAULT))
        );
        assert_eq!(control(epoll, libc::EPOLL_CTL_DEL, 900, None), Ok(()));
        assert_eq!(
            control(epoll, libc::EPOLL_CTL_DEL, 900, None),
            Err(Errno(libc::ENOENT))
        );
        assert_eq!(control(epoll, 99, 900, event), Err(Errno(libc::EINVAL)));
        assert_eq!(
            control(epoll, libc::EPOLL_CTL_ADD, epoll, event),
            Err(Errno(libc::EINVAL))
        );
        assert_eq!(
            control(1, libc::EPOLL_CTL_ADD, 900, event),
            Err(Errno(libc::EINVAL))
        );
        control(epoll, libc::EPOLL_CTL_ADD, 901, event).expect("added");
        forget(epoll);
        assert_eq!(
            control(epoll, libc::EPOLL_CTL_DEL, 901, None),
            Err(Errno(libc::ENOENT))
        );
        // SAFETY: close(2) of the set this test opened.
        unsafe { libc::close(epoll) };
    }
}
