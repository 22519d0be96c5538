//! The epoll calls: epoll_ctl on a remote socket records the interest in
//! [`crate::epoll`]; epoll_wait and its variants on a set with remote
//! interests wait on both sides there. Everything else is Linux's,
//! unchanged.

use core::ffi::c_int;

use anykernel_client::proto::types::PollEntry;
use libc::{epoll_event, sigset_t, timespec};

use super::done;
use super::waiting::{limit_of, masked};
use crate::errno::{Errno, Result};
use crate::poll::Limit;
use crate::{epoll, real, table};

/// epoll_ctl(2).
///
/// # Safety
/// `event` is null or valid, as epoll_ctl(2) requires for `operation`.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn epoll_ctl(
    set: c_int,
    operation: c_int,
    fd: c_int,
    event: *mut epoll_event,
) -> c_int {
    if !table::is_remote(fd) {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::epoll_ctl(set, operation, fd, event) };
    }
    // SAFETY: the caller's event, if any; copied (the type is packed).
    let event = unsafe { event.as_ref() }.map(|event| (event.events, event.u64));
    let result = epoll::control(set, operation, fd, event);
    done("epoll_ctl", fd, result.map(|()| 0))
}

/// The remote-aware wait behind every variant: `most` events into
/// `events` until `limit`, with `mask` in force.
///
/// # Safety
/// `events` is valid for `most` epoll_events; `mask` is null or valid.
unsafe fn remote_wait(
    set: c_int,
    interests: &[(c_int, epoll::Interest, PollEntry)],
    events: *mut epoll_event,
    most: c_int,
    limit: Result<Limit>,
    mask: *const sigset_t,
) -> c_int {
    let room = usize::try_from(most).ok().filter(|&room| room > 0);
    let Some(room) = room.filter(|_| !events.is_null()) else {
        return done("epoll_wait", set, Err(Errno(libc::EINVAL)));
    };
    // SAFETY: the caller's array of `room` events.
    let events = unsafe { core::slice::from_raw_parts_mut(events, room) };
    // SAFETY: the caller's mask.
    let filled = limit
        .and_then(|limit| unsafe { masked(mask, || epoll::wait(set, interests, events, limit)) });
    done("epoll_wait", set, filled.map(|filled| filled as c_int))
}

/// epoll_wait(2).
///
/// # Safety
/// `events` is valid for `most` epoll_events.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn epoll_wait(
    set: c_int,
    events: *mut epoll_event,
    most: c_int,
    timeout: c_int,
) -> c_int {
    let interests = epoll::interests(set);
    if interests.is_empty() {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::epoll_wait(set, events, most, timeout) };
    }
    let limit = Ok(Limit::of_milliseconds(timeout));
    // SAFETY: the caller's array; no mask.
    unsafe { remote_wait(set, &interests, events, most, limit, core::ptr::null()) }
}

/// epoll_pwait(2).
///
/// # Safety
/// `events` is valid for `most` epoll_events; `mask` is null or valid.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn epoll_pwait(
    set: c_int,
    events: *mut epoll_event,
    most: c_int,
    timeout: c_int,
    mask: *const sigset_t,
) -> c_int {
    let interests = epoll::interests(set);
    if interests.is_empty() {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::epoll_pwait(set, events, most, timeout, mask) };
    }
    let limit = Ok(Limit::of_milliseconds(timeout));
    // SAFETY: the caller's array and mask.
    unsafe { remote_wait(set, &interests, events, most, limit, mask) }
}

/// epoll_pwait2(2).
///
/// # Safety
/// `events` is valid for `most` epoll_events; `timeout` and `mask` are
/// null or valid.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn epoll_pwait2(
    set: c_int,
    events: *mut epoll_event,
    most: c_int,
    timeout: *const timespec,
    mask: *const sigset_t,
) -> c_int {
    let interests = epoll::interests(set);
    if interests.is_empty() {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::epoll_pwait2(set, events, most, timeout, mask) };
    }
    // SAFETY: the caller's timeout.
    let limit = unsafe { limit_of(timeout) };
    // SAFETY: the caller's array and mask.
    unsafe { remote_wait(set, &interests, events, most, limit, mask) }
}
