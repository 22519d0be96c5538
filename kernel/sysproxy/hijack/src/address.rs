//! Socket addresses between the program's `sockaddr` and the wire's
//! `SocketAddr`.
//!
//! Inward, the `sockaddr` must be of the socket's family and long enough
//! for it (Linux's rules: EAFNOSUPPORT, EINVAL). Outward, an AF_INET6
//! socket sees IPv4 addresses mapped (`::ffff:a.b.c.d`, and `::` for an
//! unbound one), as Linux's dual-stack sockets report them, and the
//! address is cut to the caller's buffer with the full length reported.
//! Ports and IPv4 addresses are in network byte order in a `sockaddr`.

use core::mem::size_of;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use libc::{sa_family_t, sockaddr, sockaddr_in, sockaddr_in6, socklen_t};

use crate::errno::{Errno, Result};
use crate::remote::Family;

/// Reads the address at `address` (`length` bytes) for a socket of `family`.
///
/// # Safety
/// `address` is null or valid for reading `length` bytes.
pub unsafe fn read(
    address: *const sockaddr,
    length: socklen_t,
    family: Family,
) -> Result<SocketAddr> {
    let length = length as usize;
    if address.is_null() || length < size_of::<sa_family_t>() {
        return Err(Errno(libc::EINVAL));
    }
    // SAFETY: the caller's buffer holds at least the family field.
    let given = unsafe { address.cast::<sa_family_t>().read_unaligned() };
    if libc::c_int::from(given) != family.domain() {
        return Err(Errno(libc::EAFNOSUPPORT));
    }
    match family {
        Family::Inet if length >= size_of::<sockaddr_in>() => {
            // SAFETY: the buffer is long enough for a sockaddr_in.
            let inet = unsafe { address.cast::<sockaddr_in>().read_unaligned() };
            let ip = Ipv4Addr::from(u32::from_be(inet.sin_addr.s_addr));
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(inet.sin_port),
            )))
        }
        Family::Inet6 if length >= size_of::<sockaddr_in6>() => {
            // SAFETY: the buffer is long enough for a sockaddr_in6.
            let inet6 = unsafe { address.cast::<sockaddr_in6>().read_unaligned() };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(inet6.sin6_addr.s6_addr),
                u16::from_be(inet6.sin6_port),
                u32::from_be(inet6.sin6_flowinfo),
                inet6.sin6_scope_id,
            )))
        }
        _ => Err(Errno(libc::EINVAL)),
    }
}

/// `address` as a socket of `family` reports it.
pub fn outward(address: SocketAddr, family: Family) -> SocketAddr {
    match (address, family) {
        (SocketAddr::V4(v4), Family::Inet6) => {
            let ip = match v4.ip() {
                ip if ip.is_unspecified() => Ipv6Addr::UNSPECIFIED,
                ip => ip.to_ipv6_mapped(),
            };
            SocketAddr::V6(SocketAddrV6::new(ip, v4.port(), 0, 0))
        }
        (SocketAddr::V6(v6), Family::Inet) => match v6.ip().to_ipv4_mapped() {
            Some(ip) => SocketAddr::new(IpAddr::V4(ip), v6.port()),
            None => address,
        },
        _ => address,
    }
}

/// `address` as the bytes of a `sockaddr_in` or `sockaddr_in6`.
fn encode(address: SocketAddr) -> Vec<u8> {
    match address {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_in is plain data; all zeroes is valid.
            let mut inet: sockaddr_in = unsafe { core::mem::zeroed() };
            inet.sin_family = libc::AF_INET as sa_family_t;
            inet.sin_port = v4.port().to_be();
            inet.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
            bytes_of(&inet)
        }
        SocketAddr::V6(v6) => {
            // SAFETY: sockaddr_in6 is plain data; all zeroes is valid.
            let mut inet6: sockaddr_in6 = unsafe { core::mem::zeroed() };
            inet6.sin6_family = libc::AF_INET6 as sa_family_t;
            inet6.sin6_port = v6.port().to_be();
            inet6.sin6_flowinfo = v6.flowinfo().to_be();
            inet6.sin6_addr.s6_addr = v6.ip().octets();
            inet6.sin6_scope_id = v6.scope_id();
            bytes_of(&inet6)
        }
    }
}

fn bytes_of<T>(value: &T) -> Vec<u8> {
    let pointer = (value as *const T).cast::<u8>();
    // SAFETY: `value` is a live, initialised `T` of size_of::<T>() bytes
    // (the sockaddr types have no padding).
    unsafe { core::slice::from_raw_parts(pointer, size_of::<T>()) }.to_vec()
}

/// Writes `address`, as a socket of `family` reports it, to `out`: at
/// most `*length` bytes, then the full length to `*length`. Nothing is
/// written when `out` is null (accept's "I do not want it").
///
/// # Safety
/// `out` is null, or `length` is valid and `out` valid for `*length` bytes.
pub unsafe fn write(
    address: SocketAddr,
    family: Family,
    out: *mut sockaddr,
    length: *mut socklen_t,
) -> Result<()> {
    if out.is_null() || length.is_null() {
        return Ok(());
    }
    let bytes = encode(outward(address, family));
    // SAFETY: the caller's `length` is valid.
    let room = unsafe { length.read() } as usize;
    let count = bytes.len().min(room);
    // SAFETY: `out` has room for `room` >= `count` bytes.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), out.cast::<u8>(), count) };
    // SAFETY: as above.
    unsafe { length.write(bytes.len() as socklen_t) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(address: SocketAddr, family: Family) -> SocketAddr {
        // SAFETY: sockaddr_storage is plain data.
        let mut storage: libc::sockaddr_storage = unsafe { core::mem::zeroed() };
        let mut length = size_of::<libc::sockaddr_storage>() as socklen_t;
        let out = (&raw mut storage).cast::<sockaddr>();
        // SAFETY: `out` and `length` describe `storage`.
        unsafe { write(address, family, out, &mut length) }.expect("written");
        // SAFETY: as above, `length` bytes of it written.
        unsafe { read(out, length, family) }.expect("read back")
    }

    #[test]
    fn addresses_survive_the_round_trip_in_network_order() {
        let v4: SocketAddr = "192.168.77.1:8080".parse().unwrap();
        assert_eq!(round_trip(v4, Family::Inet), v4);
        let v6: SocketAddr = "[fd00::1]:443".parse().unwrap();
        assert_eq!(round_trip(v6, Family::Inet6), v6);
        let bytes = encode(v4);
        assert_eq!(&bytes[2..8], &[0x1f, 0x90, 192, 168, 77, 1]);
    }

    #[test]
    fn inet6_sockets_see_ipv4_mapped() {
        let v4: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:80".parse().unwrap();
        assert_eq!(round_trip(v4, Family::Inet6), mapped);
        let unbound: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert_eq!(outward(unbound, Family::Inet6), "[::]:0".parse().unwrap());
        assert_eq!(outward(mapped, Family::Inet), v4);
    }

    #[test]
    fn wrong_family_or_short_addresses_are_refused() {
        let bytes = encode("10.0.0.2:80".parse().unwrap());
        let address = bytes.as_ptr().cast::<sockaddr>();
        // SAFETY: `bytes` is valid for its length.
        let wrong = unsafe { read(address, bytes.len() as socklen_t, Family::Inet6) };
        assert_eq!(wrong, Err(Errno(libc::EAFNOSUPPORT)));
        // SAFETY: as above, shorter.
        let short = unsafe { read(address, 8, Family::Inet) };
        assert_eq!(short, Err(Errno(libc::EINVAL)));
        // SAFETY: a null address is allowed and refused.
        let null = unsafe { read(core::ptr::null(), 16, Family::Inet) };
        assert_eq!(null, Err(Errno(libc::EINVAL)));
    }

    #[test]
    fn a_short_buffer_gets_the_start_and_the_full_length() {
        let mut buffer = [0u8; 4];
        let mut length = 4 as socklen_t;
        let address = "10.0.0.2:80".parse().unwrap();
        let out = buffer.as_mut_ptr().cast::<sockaddr>();
        // SAFETY: `out` has room for `length` bytes.
        unsafe { write(address, Family::Inet, out, &mut length) }.unwrap();
        assert_eq!(length as usize, size_of::<sockaddr_in>());
        assert_eq!(buffer, [libc::AF_INET as u8, 0, 0, 80]);
    }
}
