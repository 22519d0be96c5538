//! The Linux tap backend: frames to and from a host tap interface.
//!
//! The NIC binds a `/dev/net/tun` descriptor to the named tap (IFF_TAP,
//! IFF_NO_PI: bare Ethernet frames). Unless the spec injects faults (which
//! model a wire the stack must check), it also asks for the virtio-net
//! header (IFF_VNET_HDR) and tells the tap it takes partial checksums and
//! 64 KiB TCP segments of both families (TUNSETOFFLOAD with TUN_F_CSUM,
//! TUN_F_TSO4, TUN_F_TSO6):
//! the host's stack then hands over coalesced segments and cuts ours, and
//! the NIC says so ([`VirtualNic::offloads`]); frames cross with the
//! header in front. A tap that refuses the offloads is used without them.
//! `send` is one write(2); receiving is a
//! non-blocking read, and a blocking receive sleeps in poll(2) on the tap
//! and on a pipe that `close` writes to, so a close wakes it at once.
//! Without CAP_NET_ADMIN only a persistent tap owned by this user can be
//! opened (`ip tuntap add dev NAME mode tap user USER`). All unsafe code
//! is in `device.rs`.

mod device;

use std::fs::File;
use std::io::{ErrorKind, PipeReader, PipeWriter, Read, Write};
use std::os::fd::AsFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hypercall::{MIN_FRAME, NicError, NicOffloads, VIRTIO_HEADER_LENGTH, VirtualNic};

use super::OpenFailure;
use super::receive::{NicStatistics, ReceiveQueue};
use super::spec::FaultSpec;
use crate::sync::lock;

/// The longest frame: a 1500-byte MTU plus the Ethernet header.
pub const TAP_MAX_FRAME: usize = 1514;
/// The longest frame with offloads: the virtio-net header, the Ethernet
/// header and a 64 KiB IP packet.
pub const TAP_MAX_OFFLOADED_FRAME: usize = VIRTIO_HEADER_LENGTH + 14 + 65_535;

/// A receiver's read buffer and queue, behind one lock.
#[derive(Debug)]
struct Receiver {
    /// One byte longer than a frame, so that a longer one shows.
    scratch: Vec<u8>,
    queue: ReceiveQueue,
}

/// One NIC bound to a Linux tap device.
#[derive(Debug)]
pub struct TapNic {
    device: File,
    name: String,
    mac: [u8; 6],
    offloads: NicOffloads,
    closed: AtomicBool,
    /// Becomes readable when `close` writes to `closer`.
    close_signal: PipeReader,
    closer: PipeWriter,
    receiver: Mutex<Receiver>,
}

/// Why opening the tap failed, for the log.
fn explain(name: &str, error: &std::io::Error) -> String {
    let hint = match error.kind() {
        ErrorKind::NotFound => " (no /dev/net/tun: is the tun driver loaded?)",
        ErrorKind::PermissionDenied => {
            " (needs CAP_NET_ADMIN, or a persistent tap owned by this user)"
        }
        ErrorKind::ResourceBusy => " (another process holds the tap)",
        _ => "",
    };
    format!("tap {name}: {error}{hint}")
}

impl TapNic {
    /// Binds a NIC with address `mac` to the tap `name` (created if it is
    /// missing and this process may), passing received frames through the
    /// faults of `faults` drawn from `seed`.
    ///
    /// # Errors
    /// [`NicError::Unavailable`] with the reason (no tun driver, no
    /// permission, a bad name, the tap busy).
    pub fn open(
        name: &str,
        mac: [u8; 6],
        faults: FaultSpec,
        seed: u64,
    ) -> Result<TapNic, OpenFailure> {
        Self::open_with(name, mac, (faults, seed), true)
    }

    /// [`TapNic::open`], with the offloads only if `offload` (and no fault
    /// is injected).
    ///
    /// # Errors
    /// As [`TapNic::open`].
    pub fn open_with(
        name: &str,
        mac: [u8; 6],
        (faults, seed): (FaultSpec, u64),
        offload: bool,
    ) -> Result<TapNic, OpenFailure> {
        let unavailable =
            |error: std::io::Error| OpenFailure::new(NicError::Unavailable, explain(name, &error));
        let (device, offloads) =
            open_offloading(name, offload && !faults.is_active()).map_err(unavailable)?;
        let (close_signal, closer) = std::io::pipe().map_err(unavailable)?;
        let receiver = Receiver {
            scratch: vec![0; longest(offloads) + 1],
            queue: ReceiveQueue::new(faults, seed),
        };
        Ok(TapNic {
            device,
            name: name.to_owned(),
            mac,
            offloads,
            closed: AtomicBool::new(false),
            close_signal,
            closer,
            receiver: Mutex::new(receiver),
        })
    }

    /// The tap's interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What this NIC delivered and dropped so far.
    pub fn statistics(&self) -> NicStatistics {
        lock(&self.receiver).queue.statistics()
    }

    fn check_open(&self) -> Result<(), NicError> {
        match self.closed.load(Ordering::SeqCst) {
            true => Err(NicError::Closed),
            false => Ok(()),
        }
    }

    /// How long a blocking receive may sleep: until a held frame is due.
    fn sleep_limit(&self) -> Option<Duration> {
        let deadline = lock(&self.receiver).queue.deadline()?;
        Some(deadline.saturating_duration_since(Instant::now()))
    }
}

/// Opens the tap, with the virtio-net header and offloads if `offloading`
/// and the tap takes them, else without.
fn open_offloading(name: &str, offloading: bool) -> std::io::Result<(File, NicOffloads)> {
    if offloading && let Ok(device) = device::open_tap(name, true) {
        let flags = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6;
        if device::set_offloads(&device, flags).is_ok() {
            let offloads = NicOffloads {
                virtio_header: true,
                segmentation: true,
                segmentation_ipv6: true,
            };
            return Ok((device, offloads));
        }
    }
    Ok((device::open_tap(name, false)?, NicOffloads::default()))
}

/// The longest frame a NIC with `offloads` carries.
fn longest(offloads: NicOffloads) -> usize {
    match offloads.virtio_header {
        true => TAP_MAX_OFFLOADED_FRAME,
        false => TAP_MAX_FRAME,
    }
}

/// One frame from the tap, `None` if none is waiting. Frames outside
/// MIN_FRAME..=`longest` are skipped.
fn read_frame(
    mut device: &File,
    scratch: &mut [u8],
    vessel: &mut Vec<u8>,
) -> Result<bool, NicError> {
    let longest = scratch.len() - 1;
    loop {
        match device.read(scratch) {
            Ok(length) if (MIN_FRAME..=longest).contains(&length) => {
                vessel.extend_from_slice(&scratch[..length]);
                return Ok(true);
            }
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err(NicError::Io),
        }
    }
}

impl VirtualNic for TapNic {
    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    fn max_frame(&self) -> usize {
        longest(self.offloads)
    }

    fn offloads(&self) -> NicOffloads {
        self.offloads
    }

    /// `Busy` also when the host interface is down (EIO): the frame is
    /// lost as on a link without carrier.
    fn send(&self, frame: &[u8]) -> Result<(), NicError> {
        self.check_open()?;
        if !(MIN_FRAME..=longest(self.offloads)).contains(&frame.len()) {
            return Err(NicError::BadLength);
        }
        match (&self.device).write(frame) {
            Ok(written) if written == frame.len() => Ok(()),
            Ok(_) => Err(NicError::Io),
            Err(error) if error.raw_os_error() == Some(libc::EIO) => Err(NicError::Busy),
            Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => Err(NicError::Busy),
            Err(error) if error.kind() == ErrorKind::WouldBlock => Err(NicError::Busy),
            Err(_) => Err(NicError::Io),
        }
    }

    fn receive(&self, buffer: &mut [u8]) -> Result<usize, NicError> {
        loop {
            if let Some(length) = self.try_receive(buffer)? {
                return Ok(length);
            }
            let descriptors = [self.device.as_fd(), self.close_signal.as_fd()];
            device::wait_readable(descriptors, self.sleep_limit()).map_err(|_| NicError::Io)?;
        }
    }

    fn try_receive(&self, buffer: &mut [u8]) -> Result<Option<usize>, NicError> {
        self.check_open()?;
        let mut receiver = lock(&self.receiver);
        let Receiver { scratch, queue } = &mut *receiver;
        queue.next(buffer, |vessel| read_frame(&self.device, scratch, vessel))
    }

    fn close(&self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            // One byte in an empty pipe cannot block; if it failed, the
            // closed flag still ends the receiver at its next wakeup.
            let _ = (&self.closer).write(&[1]);
        }
    }
}
