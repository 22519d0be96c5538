//! The tap backend's only unsafe code: TUNSETIFF, TUNSETOFFLOAD, poll(2).
//!
//! Reading and writing the device are plain `File` calls; what std lacks
//! are the ioctls that bind a `/dev/net/tun` descriptor to a named tap
//! (with the virtio-net header, `IFF_VNET_HDR`, when asked) and tell it
//! the offloads we take, and a poll over two descriptors. They are wrapped
//! here as safe functions.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

/// The clone device every tap is reached through.
const CLONE_DEVICE: &str = "/dev/net/tun";

/// Opens `/dev/net/tun` non-blocking and binds it to the tap `name`
/// (created if missing and allowed), frames without packet information,
/// each after a 10-byte virtio-net header if `virtio_header`.
///
/// # Errors
/// The error of open(2) (e.g. `NotFound` without the tun driver) or of the
/// ioctl (`PermissionDenied` without CAP_NET_ADMIN for a tap one does not
/// own, `InvalidInput` for a name Linux refuses, `Busy` if another
/// process holds the tap).
pub(crate) fn open_tap(name: &str, virtio_header: bool) -> io::Result<File> {
    let device = File::options()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(CLONE_DEVICE)?;
    let request = interface_request(name, virtio_header)?;
    // SAFETY: TUNSETIFF reads (and may update the name in) the `ifreq`
    // behind the pointer, a live, exclusively borrowed local of the right
    // type for the whole call; `device` is an open descriptor.
    let result = unsafe { libc::ioctl(device.as_raw_fd(), libc::TUNSETIFF, &raw const request) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(device)
}

/// Tells the tap which offloads we take (`TUN_F_*`): with `TUN_F_CSUM`
/// it may hand us partial checksums, with `TUN_F_TSO4` and `TUN_F_TSO6`
/// 64 KiB TCP/IPv4 and TCP/IPv6 segments; either way it takes ours.
///
/// # Errors
/// The ioctl's error (`InvalidInput` for flags the kernel does not know).
pub(crate) fn set_offloads(device: &File, flags: libc::c_uint) -> io::Result<()> {
    // SAFETY: TUNSETOFFLOAD takes its argument by value (an unsigned
    // long of TUN_F_* flags), no pointer; `device` is an open descriptor.
    let result = unsafe {
        libc::ioctl(
            device.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            libc::c_ulong::from(flags),
        )
    };
    match result {
        0.. => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// An `ifreq` naming `name` with the tap flags.
fn interface_request(name: &str, virtio_header: bool) -> io::Result<libc::ifreq> {
    // SAFETY: `ifreq` is a C struct of integers, arrays and a union of such;
    // all zeros is a valid value of it (the empty name, no flags).
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= request.ifr_name.len() || bytes.contains(&0) {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    for (slot, &byte) in request.ifr_name.iter_mut().zip(bytes) {
        *slot = byte as libc::c_char;
    }
    let header = if virtio_header { libc::IFF_VNET_HDR } else { 0 };
    request.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI | header) as libc::c_short;
    Ok(request)
}

/// Waits until one of `descriptors` is readable (or hung up), at most
/// `timeout` (`None`: without limit). Returns early on a signal.
///
/// # Errors
/// The error of poll(2) other than `EINTR`.
pub(crate) fn wait_readable(
    descriptors: [BorrowedFd<'_>; 2],
    timeout: Option<Duration>,
) -> io::Result<()> {
    let mut entries = descriptors.map(|descriptor| libc::pollfd {
        fd: descriptor.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    let milliseconds = timeout.map_or(-1, |timeout| {
        libc::c_int::try_from(timeout.as_millis().saturating_add(1)).unwrap_or(libc::c_int::MAX)
    });
    // SAFETY: `entries` is a live, exclusively borrowed array of two
    // `pollfd`s that poll may write the `revents` of; the count matches,
    // and the descriptors are borrowed, so open, for the call.
    let result = unsafe {
        libc::poll(
            entries.as_mut_ptr(),
            entries.len() as libc::nfds_t,
            milliseconds,
        )
    };
    let error = io::Error::last_os_error();
    match result {
        0.. => Ok(()),
        _ if error.kind() == io::ErrorKind::Interrupted => Ok(()),
        _ => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;

    #[test]
    fn names_linux_refuses_are_refused_before_the_ioctl() {
        for bad in ["", "sixteen-bytes-xx", "a\0b"] {
            let error = interface_request(bad, false).expect_err("refused");
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        let request = interface_request("akt0", true).expect("valid");
        // SAFETY: the union's flags member was the one written.
        let flags = unsafe { request.ifr_ifru.ifru_flags };
        assert_ne!(flags & libc::IFF_VNET_HDR as libc::c_short, 0);
        assert_eq!(
            request.ifr_name[..5],
            [b'a', b'k', b't', b'0', 0].map(|b| b as libc::c_char)
        );
    }

    #[test]
    fn wait_readable_wakes_for_either_descriptor_and_times_out() {
        let (first_reader, mut first_writer) = std::io::pipe().expect("pipe");
        let (second_reader, _second_writer) = std::io::pipe().expect("pipe");
        let both = || [first_reader.as_fd(), second_reader.as_fd()];
        wait_readable(both(), Some(Duration::from_millis(1))).expect("timed out cleanly");
        first_writer.write_all(b"x").expect("written");
        wait_readable(both(), None).expect("readable at once");
    }
}
