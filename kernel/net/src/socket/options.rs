//! Socket options: setsockopt and getsockopt.
//!
//! One enum carries a value ([`SocketOption`]); one names it
//! ([`OptionName`]). Options a transport does not have are
//! [`Errno::NoSuchOption`].

use base::Context;

use super::table::{Fd, Transport};
use super::{Errno, transport};
use crate::net::Net;
use crate::udp::UdpFlag;

/// An option with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketOption {
    /// O_NONBLOCK.
    NonBlocking(bool),
    /// SO_REUSEADDR.
    ReuseAddress(bool),
    /// SO_RCVBUF, bytes.
    ReceiveBuffer(usize),
    /// SO_SNDBUF, bytes.
    SendBuffer(usize),
    /// SO_KEEPALIVE.
    KeepAlive(bool),
    /// SO_LINGER: `Some(seconds)` to linger (0: reset on close).
    Linger(Option<u32>),
    /// TCP_NODELAY.
    NoDelay(bool),
    /// SO_ERROR (read only): the pending error, which reading clears.
    Error(Option<Errno>),
    /// SO_BROADCAST: datagrams may go to broadcast addresses.
    Broadcast(bool),
    /// SO_REUSEPORT: endpoints that all set it may bind one address.
    ReusePort(bool),
    /// IPV6_V6ONLY: bound to `::`, take IPv6 only (off by default: IPv4
    /// too, as IPv4-mapped addresses, as on Linux). Set before bind;
    /// setting it makes the socket AF_INET6.
    V6Only(bool),
}

/// An option's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionName {
    /// O_NONBLOCK.
    NonBlocking,
    /// SO_REUSEADDR.
    ReuseAddress,
    /// SO_RCVBUF.
    ReceiveBuffer,
    /// SO_SNDBUF.
    SendBuffer,
    /// SO_KEEPALIVE.
    KeepAlive,
    /// SO_LINGER.
    Linger,
    /// TCP_NODELAY.
    NoDelay,
    /// SO_ERROR.
    Error,
    /// SO_BROADCAST.
    Broadcast,
    /// SO_REUSEPORT.
    ReusePort,
    /// IPV6_V6ONLY.
    V6Only,
}

impl Net {
    /// Sets an option on `fd`.
    ///
    /// # Errors
    /// [`Errno::NoSuchOption`], [`Errno::BadDescriptor`],
    /// [`Errno::InvalidArgument`].
    pub fn set_option(
        &self,
        context: &Context<'_>,
        fd: Fd,
        option: SocketOption,
    ) -> Result<(), Errno> {
        self.with_stack(context, |stack| {
            let kind = transport(stack, fd)?;
            if matches!(option, SocketOption::V6Only(_)) {
                super::family::make_inet6(stack, fd);
            }
            match (option, kind) {
                (SocketOption::Error(_), _) => Err(Errno::InvalidArgument),
                (SocketOption::NonBlocking(on), _) => {
                    let entry = stack.sockets.get_mut(fd).ok_or(Errno::BadDescriptor)?;
                    entry.nonblocking = on;
                    Ok(())
                }
                (SocketOption::ReceiveBuffer(bytes), Transport::Udp(handle)) => {
                    Ok(stack.udp.set_receive_buffer(handle, bytes)?)
                }
                (option, Transport::Udp(handle)) => {
                    let (flag, on) = udp_flag(option).ok_or(Errno::NoSuchOption)?;
                    Ok(stack.udp.set_flag(handle, flag, on)?)
                }
                (option, Transport::Tcp(handle)) => {
                    let option = tcp_option(option).ok_or(Errno::NoSuchOption)?;
                    Ok(stack.tcp.set_option(handle, option)?)
                }
            }
        })
    }

    /// Reads an option of `fd`.
    ///
    /// # Errors
    /// [`Errno::NoSuchOption`], [`Errno::BadDescriptor`].
    pub fn option(
        &self,
        context: &Context<'_>,
        fd: Fd,
        name: OptionName,
    ) -> Result<SocketOption, Errno> {
        if name == OptionName::Error {
            return self.take_error(context, fd);
        }
        let stack = self.lock(context);
        let entry = stack.sockets.get(fd).ok_or(Errno::BadDescriptor)?;
        match (name, entry.transport) {
            (OptionName::NonBlocking, _) => Ok(SocketOption::NonBlocking(entry.nonblocking)),
            (OptionName::ReceiveBuffer, Transport::Udp(handle)) => stack
                .udp
                .receive_buffer(handle)
                .map(SocketOption::ReceiveBuffer)
                .ok_or(Errno::BadDescriptor),
            (name, Transport::Udp(handle)) => {
                let (flag, wrap) = udp_flag_name(name).ok_or(Errno::NoSuchOption)?;
                let on = stack.udp.flag(handle, flag).ok_or(Errno::BadDescriptor)?;
                Ok(wrap(on))
            }
            (name, Transport::Tcp(handle)) => {
                let name = tcp_option_name(name).ok_or(Errno::NoSuchOption)?;
                Ok(from_tcp_option(stack.tcp.option(handle, name)?))
            }
        }
    }
}

impl Net {
    /// SO_ERROR: takes the socket's pending error.
    fn take_error(&self, context: &Context<'_>, fd: Fd) -> Result<SocketOption, Errno> {
        self.with_stack(context, |stack| match transport(stack, fd)? {
            Transport::Tcp(handle) => Ok(SocketOption::Error(
                stack.tcp.take_error(handle).map(Errno::from),
            )),
            Transport::Udp(handle) => {
                let refused = stack.udp.take_refused(handle);
                Ok(SocketOption::Error(
                    refused.then_some(Errno::ConnectionRefused),
                ))
            }
        })
    }
}

/// The UDP flag an option sets, and its value.
fn udp_flag(option: SocketOption) -> Option<(UdpFlag, bool)> {
    match option {
        SocketOption::ReuseAddress(on) => Some((UdpFlag::ReuseAddress, on)),
        SocketOption::ReusePort(on) => Some((UdpFlag::ReusePort, on)),
        SocketOption::Broadcast(on) => Some((UdpFlag::Broadcast, on)),
        SocketOption::V6Only(on) => Some((UdpFlag::V6Only, on)),
        _ => None,
    }
}

/// How a flag's value becomes the option that names it.
type WrapFlag = fn(bool) -> SocketOption;

/// The UDP flag an option names, and how its value is wrapped.
fn udp_flag_name(name: OptionName) -> Option<(UdpFlag, WrapFlag)> {
    match name {
        OptionName::ReuseAddress => Some((UdpFlag::ReuseAddress, SocketOption::ReuseAddress)),
        OptionName::ReusePort => Some((UdpFlag::ReusePort, SocketOption::ReusePort)),
        OptionName::Broadcast => Some((UdpFlag::Broadcast, SocketOption::Broadcast)),
        OptionName::V6Only => Some((UdpFlag::V6Only, SocketOption::V6Only)),
        _ => None,
    }
}

fn tcp_option(option: SocketOption) -> Option<tcp::SocketOption> {
    Some(match option {
        SocketOption::NonBlocking(_)
        | SocketOption::Error(_)
        | SocketOption::Broadcast(_)
        | SocketOption::ReusePort(_) => return None,
        SocketOption::ReuseAddress(on) => tcp::SocketOption::ReuseAddress(on),
        SocketOption::ReceiveBuffer(bytes) => tcp::SocketOption::ReceiveBuffer(bytes),
        SocketOption::SendBuffer(bytes) => tcp::SocketOption::SendBuffer(bytes),
        SocketOption::KeepAlive(on) => tcp::SocketOption::KeepAlive(on),
        SocketOption::Linger(seconds) => tcp::SocketOption::Linger(seconds),
        SocketOption::NoDelay(on) => tcp::SocketOption::NoDelay(on),
        SocketOption::V6Only(on) => tcp::SocketOption::V6Only(on),
    })
}

fn tcp_option_name(name: OptionName) -> Option<tcp::OptionName> {
    Some(match name {
        OptionName::NonBlocking
        | OptionName::Error
        | OptionName::Broadcast
        | OptionName::ReusePort => return None,
        OptionName::ReuseAddress => tcp::OptionName::ReuseAddress,
        OptionName::ReceiveBuffer => tcp::OptionName::ReceiveBuffer,
        OptionName::SendBuffer => tcp::OptionName::SendBuffer,
        OptionName::KeepAlive => tcp::OptionName::KeepAlive,
        OptionName::Linger => tcp::OptionName::Linger,
        OptionName::NoDelay => tcp::OptionName::NoDelay,
        OptionName::V6Only => tcp::OptionName::V6Only,
    })
}

fn from_tcp_option(option: tcp::SocketOption) -> SocketOption {
    match option {
        tcp::SocketOption::ReuseAddress(on) => SocketOption::ReuseAddress(on),
        tcp::SocketOption::ReceiveBuffer(bytes) => SocketOption::ReceiveBuffer(bytes),
        tcp::SocketOption::SendBuffer(bytes) => SocketOption::SendBuffer(bytes),
        tcp::SocketOption::KeepAlive(on) => SocketOption::KeepAlive(on),
        tcp::SocketOption::Linger(seconds) => SocketOption::Linger(seconds),
        tcp::SocketOption::NoDelay(on) => SocketOption::NoDelay(on),
        tcp::SocketOption::V6Only(on) => SocketOption::V6Only(on),
    }
}
