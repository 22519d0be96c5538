//! The socket calls with more to them than a descriptor's translation:
//! accept's new descriptor, data both ways, poll, ping.
//!
//! poll and ping are where a call could outlive its client: a poll on
//! descriptors wakes when they close (as the client's going closes them
//! all), but a poll on none only sleeps, and a ping waits for its reply.
//! So a poll on no descriptors sleeps in slices of [`SLICE_NS`] and ends
//! when its client has gone, and a ping waits at most [`MAX_PING_MS`].

use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;

use net::{PollEvents, PollFd};
use sysproxy_proto::Errno;
use sysproxy_proto::calls::call;
use sysproxy_proto::types::{Bytes, Descriptor, poll};

use crate::convert;
use crate::handler::{Caller, bounded, check_data, descriptor};

/// The longest a poll on no descriptors sleeps before it looks whether
/// its client is still there.
pub const SLICE_NS: u64 = 100_000_000;

/// The longest a ping waits for its reply.
pub const MAX_PING_MS: u32 = 10_000;

/// The wire's poll bits and the kernel's events, pairwise.
const EVENTS: [(u8, PollEvents); 5] = [
    (poll::READABLE, PollEvents::READABLE),
    (poll::WRITABLE, PollEvents::WRITABLE),
    (poll::HANGUP, PollEvents::HANGUP),
    (poll::ERROR, PollEvents::ERROR),
    (poll::INVALID, PollEvents::INVALID),
];

pub fn accept(caller: &Caller<'_>, call: call::Accept) -> Result<(Descriptor, SocketAddr), Errno> {
    caller.check_room()?;
    let (fd, peer) = caller.on(call.fd, |net, context, fd| net.accept(context, fd))?;
    Ok((descriptor(fd), peer))
}

pub fn send(caller: &Caller<'_>, call: call::Send) -> Result<u32, Errno> {
    let data = check_data(&call.data)?;
    let flags = convert::flags(call.flags);
    let sent = caller.on(call.fd, |net, context, fd| {
        net.send(context, fd, data, flags)
    })?;
    Ok(sent as u32)
}

pub fn receive(caller: &Caller<'_>, call: call::Receive) -> Result<Bytes, Errno> {
    let mut buffer = vec![0u8; bounded(call.length)];
    let flags = convert::flags(call.flags);
    let count = caller.on(call.fd, |net, context, fd| {
        net.recv(context, fd, &mut buffer, flags)
    })?;
    buffer.truncate(count);
    Ok(Bytes(buffer))
}

pub fn send_to(caller: &Caller<'_>, call: call::SendTo) -> Result<u32, Errno> {
    let data = check_data(&call.data)?;
    let address = call.address;
    let sent = caller.on(call.fd, |net, context, fd| {
        net.send_to(context, fd, data, address)
    })?;
    Ok(sent as u32)
}

pub fn receive_from(
    caller: &Caller<'_>,
    call: call::ReceiveFrom,
) -> Result<(Bytes, SocketAddr), Errno> {
    let mut buffer = vec![0u8; bounded(call.length)];
    let flags = convert::flags(call.flags);
    let (count, from) = caller.on(call.fd, |net, context, fd| {
        net.receive_from_with(context, fd, &mut buffer, flags)
    })?;
    buffer.truncate(count);
    Ok((Bytes(buffer), from))
}

fn kernel_events(bits: u8) -> PollEvents {
    let mut events = PollEvents::NONE;
    for (bit, event) in EVENTS {
        if bits & bit != 0 {
            events |= event;
        }
    }
    events
}

fn wire_events(events: PollEvents) -> u8 {
    EVENTS
        .iter()
        .filter(|(_, event)| events.contains(*event))
        .fold(0, |bits, (bit, _)| bits | bit)
}

pub fn poll(caller: &Caller<'_>, call: call::Poll) -> Result<Vec<u8>, Errno> {
    if call.entries.len() > caller.session.limits.max_descriptors {
        return Err(Errno::InvalidArgument);
    }
    let timeout_ns = call.timeout_ms.map(|ms| ms.saturating_mul(1_000_000));
    if call.entries.is_empty() {
        sleep_while_present(caller, timeout_ns)?;
        return Ok(Vec::new());
    }
    // A number the client has not open is ready (invalid) at once.
    let mut fds: Vec<PollFd> = call
        .entries
        .iter()
        .map(|entry| PollFd::new(Caller::fd(entry.fd), kernel_events(entry.events)))
        .collect();
    let context = caller.context;
    caller
        .net()
        .poll(context, &mut fds, timeout_ns)
        .map_err(convert::errno)?;
    Ok(fds.iter().map(|fd| wire_events(fd.returned)).collect())
}

/// poll(NULL, 0, timeout): sleeps `timeout_ns`, or less if the client
/// goes; without a timeout it would sleep for ever, which is refused.
fn sleep_while_present(caller: &Caller<'_>, timeout_ns: Option<u64>) -> Result<(), Errno> {
    let context = caller.context;
    let timeout_ns = timeout_ns.ok_or(Errno::InvalidArgument)?;
    let deadline = context.now_ns().saturating_add(timeout_ns);
    while context.now_ns() < deadline && !caller.session.is_closing(context) {
        let slice_end = context.now_ns().saturating_add(SLICE_NS);
        context.sleep_until(deadline.min(slice_end));
    }
    Ok(())
}

pub fn ping(caller: &Caller<'_>, call: call::Ping) -> Result<u64, Errno> {
    let timeout_ns = u64::from(call.timeout_ms.min(MAX_PING_MS)) * 1_000_000;
    let net = caller.net();
    let rtt = net.ping(caller.context, call.destination, call.sequence, timeout_ns);
    rtt.map_err(convert::errno)
}
