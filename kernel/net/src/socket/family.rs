//! Address families at the socket edge: which addresses a socket speaks,
//! and the IPv4-mapped IPv6 addresses of dual-stack sockets.
//!
//! A socket has no family until an address gives it one (one `socket`
//! call serves both, as `std::net` has it): binding, connecting or sending
//! to an IPv6 address, or setting IPV6_V6ONLY, makes it AF_INET6, and an
//! accepted connection inherits its listener's. Inward, an IPv4-mapped
//! address (`::ffff:a.b.c.d`) becomes the IPv4 address the transports
//! use, refused on an IPV6_V6ONLY socket; outward, an AF_INET6 socket
//! reports IPv4 addresses mapped, as Linux's dual-stack sockets do. An
//! unbound AF_INET6 datagram socket binds to `::` before its first send,
//! so it can reach both families.

use core::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use super::table::{Fd, Transport};
use super::{Errno, transport};
use crate::stack::Stack;
use crate::udp::UdpFlag;

/// Whether `fd` is an AF_INET6 socket.
pub(super) fn is_inet6(stack: &Stack, fd: Fd) -> bool {
    stack.sockets.get(fd).is_some_and(|entry| entry.inet6)
}

/// Makes `fd` an AF_INET6 socket.
pub(super) fn make_inet6(stack: &mut Stack, fd: Fd) {
    if let Some(entry) = stack.sockets.get_mut(fd) {
        entry.inet6 = true;
    }
}

/// Whether `fd` set IPV6_V6ONLY.
fn v6_only(stack: &Stack, fd: Fd) -> bool {
    match transport(stack, fd) {
        Ok(Transport::Tcp(handle)) => matches!(
            stack.tcp.option(handle, tcp::OptionName::V6Only),
            Ok(tcp::SocketOption::V6Only(true))
        ),
        Ok(Transport::Udp(handle)) => stack.udp.flag(handle, UdpFlag::V6Only) == Some(true),
        Err(_) => false,
    }
}

/// `address` as the transports take it: an IPv6 address makes `fd`
/// AF_INET6, an IPv4-mapped one becomes IPv4.
///
/// # Errors
/// [`Errno::NetworkUnreachable`] for an IPv4-mapped address on an
/// IPV6_V6ONLY socket, [`Errno::BadDescriptor`].
pub(super) fn inward(stack: &mut Stack, fd: Fd, address: SocketAddr) -> Result<SocketAddr, Errno> {
    transport(stack, fd)?;
    let SocketAddr::V6(v6) = address else {
        return Ok(address);
    };
    make_inet6(stack, fd);
    let Some(v4) = v6.ip().to_ipv4_mapped() else {
        return Ok(address);
    };
    if v6_only(stack, fd) {
        return Err(Errno::NetworkUnreachable);
    }
    Ok(SocketAddr::new(IpAddr::V4(v4), v6.port()))
}

/// `address` as `fd` reports it: mapped into IPv6 on an AF_INET6 socket.
pub(super) fn outward(stack: &Stack, fd: Fd, address: SocketAddr) -> SocketAddr {
    match address {
        SocketAddr::V4(v4) if is_inet6(stack, fd) => {
            let mapped = v4.ip().to_ipv6_mapped();
            SocketAddr::V6(SocketAddrV6::new(mapped, v4.port(), 0, 0))
        }
        other => other,
    }
}

/// Binds an unbound AF_INET6 datagram socket to `::`, so it takes and
/// reaches both families (unless IPV6_V6ONLY).
///
/// # Errors
/// Those of the bind.
pub(super) fn bind_datagram_wildcard(stack: &mut Stack, fd: Fd) -> Result<(), Errno> {
    let Transport::Udp(handle) = transport(stack, fd)? else {
        return Ok(());
    };
    if !is_inet6(stack, fd) {
        return Ok(());
    }
    let Stack { ip, udp, ports, .. } = stack;
    let any = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    Ok(udp.bind_if_needed(ip, ports, handle, any)?)
}
