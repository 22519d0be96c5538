//! Watch sets: readiness of many sockets at a cost that follows the
//! sockets that changed, not the sockets watched (epoll(7)'s idea).
//!
//! A thread makes a set ([`Net::watch_set`]), adds descriptors to it with
//! the events it wants and a token of its own ([`Net::watch`]), and waits
//! ([`Net::wait_ready`]). Whenever a watched socket has an event (the
//! same events that wake callers blocked on it) the stack queues its
//! descriptor on the set, once. A wait looks only at queued descriptors:
//! one that is ready is returned with its token and stays queued, so that
//! the next wait looks again (level-triggered, like epoll's default); one
//! that is not leaves the queue until its next event. Hang-ups and errors
//! are always reported, as by `poll`. A descriptor is in one set at a
//! time; closing it takes it out. `poll` scans every descriptor it is
//! given under the stack lock; a set with 10,000 idle connections costs a
//! wait nothing for the idle ones.

mod sets;

use alloc::sync::Arc;
use alloc::vec::Vec;

use base::Context;
use base::sync::Condvar;

use super::Errno;
use super::poll::{PollEvents, readiness};
use super::table::{Fd, SocketTable};
use crate::net::Net;
use crate::stack::Stack;
pub use sets::MAX_WATCH_SETS;
pub(crate) use sets::{QUEUE_SLOT_BYTES, WatchSets, Watched};

/// A watch set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSet(crate::slab::SlabKey);

/// A ready descriptor: its token, and what is true of it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    /// The watcher's token for it.
    pub token: u64,
    /// The descriptor.
    pub fd: Fd,
    /// Its readiness, within what it is watched for (and the conditions
    /// always reported).
    pub events: PollEvents,
}

/// Conditions reported whatever a descriptor is watched for.
fn always() -> PollEvents {
    PollEvents::HANGUP | PollEvents::ERROR | PollEvents::INVALID
}

impl Net {
    /// A new, empty watch set.
    ///
    /// # Errors
    /// [`Errno::NoBuffers`] when memory is refused,
    /// [`Errno::TooManySockets`] past [`MAX_WATCH_SETS`].
    pub fn watch_set(&self, context: &Context<'_>) -> Result<WatchSet, Errno> {
        self.with_stack(context, |stack| {
            stack.sockets.watches.create().map(WatchSet)
        })
    }

    /// Closes `set`; its descriptors stay open, watched by nothing. A
    /// thread waiting on it returns [`Errno::BadDescriptor`].
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`] for a set that is not open.
    pub fn close_watch_set(&self, context: &Context<'_>, set: WatchSet) -> Result<(), Errno> {
        self.with_stack(context, |stack| {
            let wait = stack.sockets.watches.remove(set.0)?;
            wait.notify_all(context);
            Ok(())
        })
    }

    /// Watches `fd` in `set` for `events`, reported with `token`; on a
    /// descriptor `set` watches already, changes its events and token.
    /// Its readiness is looked at by the next wait.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`] for a closed descriptor or set,
    /// [`Errno::InvalidArgument`] for a descriptor another set watches.
    pub fn watch(
        &self,
        context: &Context<'_>,
        set: WatchSet,
        fd: Fd,
        events: PollEvents,
        token: u64,
    ) -> Result<(), Errno> {
        let wake = self.with_stack(context, |stack| watch(stack, set, fd, events, token))?;
        if let Some(wait) = wake {
            wait.notify_all(context);
        }
        Ok(())
    }

    /// Stops watching `fd`.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`] for a closed descriptor.
    pub fn unwatch(&self, context: &Context<'_>, fd: Fd) -> Result<(), Errno> {
        self.with_stack(context, |stack| {
            let entry = stack.sockets.get_mut(fd).ok_or(Errno::BadDescriptor)?;
            entry.watched = None;
            Ok(())
        })
    }

    /// Appends to `ready` up to `limit` descriptors of `set` that are
    /// ready, waiting for one until `timeout_ns` passes (`None`: no
    /// timeout; `Some(0)`: just look). Returns how many it appended.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`] for a set that is not open (or closed
    /// while waiting).
    pub fn wait_ready(
        &self,
        context: &Context<'_>,
        set: WatchSet,
        ready: &mut Vec<Ready>,
        limit: usize,
        timeout_ns: Option<u64>,
    ) -> Result<usize, Errno> {
        let deadline = timeout_ns.map(|t| context.now_ns().saturating_add(t));
        let mut stack = self.lock(context);
        loop {
            let found = collect(&mut stack, set, ready, limit)?;
            let expired = deadline.is_some_and(|d| context.now_ns() >= d);
            if found > 0 || expired || limit == 0 {
                return Ok(found);
            }
            let wait = stack.sockets.watches.sleep(set.0)?;
            stack = match deadline {
                Some(deadline) => wait.wait_until(stack, deadline).0,
                None => wait.wait(stack),
            };
            stack.sockets.watches.wake(set.0);
            stack.set_now(context.now_ns());
        }
    }
}

fn watch(
    stack: &mut Stack,
    set: WatchSet,
    fd: Fd,
    events: PollEvents,
    token: u64,
) -> Result<Option<Arc<Condvar>>, Errno> {
    let sockets = &mut stack.sockets;
    if !sockets.watches.is_open(set.0) {
        return Err(Errno::BadDescriptor);
    }
    let entry = sockets.get(fd).ok_or(Errno::BadDescriptor)?;
    let watched = match entry.watched {
        Some(old) if old.set == set.0 => Watched {
            events,
            token,
            ..old
        },
        Some(old) if sockets.watches.is_open(old.set) => return Err(Errno::InvalidArgument),
        _ => Watched::new(set.0, events, token, sockets.watches.stamp()),
    };
    if let Some(entry) = sockets.get_mut(fd) {
        entry.watched = Some(watched);
    }
    Ok(queue(sockets, fd))
}

/// Queues `fd` on the set that watches it, unless queued; the condition
/// variable to notify when someone waits on that set.
pub(crate) fn queue(sockets: &mut SocketTable, fd: Fd) -> Option<Arc<Condvar>> {
    let watched = sockets.get(fd)?.watched?;
    if watched.queued {
        return None;
    }
    let wake = sockets.watches.push(watched.set, fd, watched.stamp)?;
    if let Some(watched) = sockets.get_mut(fd).and_then(|entry| entry.watched.as_mut()) {
        watched.queued = true;
    }
    wake
}

/// One look at every descriptor queued on `set` now: the ready ones go
/// to `ready` (up to `limit`) and back to the queue's end, the others
/// leave it.
fn collect(
    stack: &mut Stack,
    set: WatchSet,
    ready: &mut Vec<Ready>,
    limit: usize,
) -> Result<usize, Errno> {
    let queued = stack.sockets.watches.queued(set.0)?;
    let mut found = 0;
    for _ in 0..queued {
        if found == limit {
            break;
        }
        let Some((fd, stamp)) = stack.sockets.watches.pop(set.0) else {
            break;
        };
        let Some(watched) = stack.sockets.get(fd).and_then(|entry| entry.watched) else {
            continue;
        };
        if watched.set != set.0 || watched.stamp != stamp {
            continue;
        }
        let events = readiness(stack, fd) & (watched.events | always());
        if events.is_empty() {
            let entry = stack.sockets.get_mut(fd);
            if let Some(watched) = entry.and_then(|entry| entry.watched.as_mut()) {
                watched.queued = false;
            }
            continue;
        }
        ready.push(Ready {
            token: watched.token,
            fd,
            events,
        });
        stack.sockets.watches.push_again(set.0, fd, stamp);
        found += 1;
    }
    Ok(found)
}
