//! One socket in the kernel, as the library holds it.
//!
//! [`client`] is this process's connection ([`crate::connection`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use anykernel_client::Stubs;
use anykernel_client::proto::types::{Descriptor, SocketKind, SocketOption};

pub use crate::connection::client;
use crate::errno::Result;

/// The address family a program opened a socket with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// AF_INET: `sockaddr_in`.
    Inet,
    /// AF_INET6: `sockaddr_in6`, IPv4 peers as mapped addresses.
    Inet6,
}

impl Family {
    /// The family of `domain`, if it is one the kernel serves.
    pub fn of_domain(domain: libc::c_int) -> Option<Family> {
        match domain {
            libc::AF_INET => Some(Family::Inet),
            libc::AF_INET6 => Some(Family::Inet6),
            _ => None,
        }
    }

    /// Its AF_ number.
    pub fn domain(self) -> libc::c_int {
        match self {
            Family::Inet => libc::AF_INET,
            Family::Inet6 => libc::AF_INET6,
        }
    }
}

/// A socket in the kernel. Every local descriptor that stands for it
/// (dups included) holds it; the last one to go closes it there.
#[derive(Debug)]
pub struct Remote {
    /// The kernel's descriptor for this client.
    pub descriptor: Descriptor,
    /// TCP or UDP.
    pub kind: SocketKind,
    /// The family the program gave `socket`.
    pub family: Family,
    /// O_NONBLOCK as the kernel's socket has it.
    nonblocking: AtomicBool,
    /// Whether `listen` succeeded (SO_ACCEPTCONN).
    pub listening: AtomicBool,
    /// SO_RCVTIMEO in microseconds; 0 for none.
    receive_timeout: AtomicU64,
    /// SO_SNDTIMEO in microseconds; 0 for none.
    send_timeout: AtomicU64,
}

/// Which of a socket's time limits: SO_RCVTIMEO (receives and accepts)
/// or SO_SNDTIMEO (sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    Receive,
    Send,
}

impl Remote {
    /// Opens a socket of `kind` in the kernel.
    ///
    /// # Errors
    /// The kernel's errno, or the connection's.
    pub fn open(kind: SocketKind, family: Family) -> Result<Remote> {
        let descriptor = client()?.socket(kind)?;
        let remote = Remote::adopt(descriptor, kind, family);
        if family == Family::Inet6 {
            // Linux's AF_INET6 sockets are dual-stack; the kernel's take
            // their family from the first address or this option.
            client()?.set_option(descriptor, SocketOption::V6Only(false))?;
        }
        Ok(remote)
    }

    /// Holds the kernel's socket `descriptor` (blocking, as the kernel
    /// makes new sockets).
    pub fn adopt(descriptor: Descriptor, kind: SocketKind, family: Family) -> Remote {
        Remote {
            descriptor,
            kind,
            family,
            nonblocking: AtomicBool::new(false),
            listening: AtomicBool::new(false),
            receive_timeout: AtomicU64::new(0),
            send_timeout: AtomicU64::new(0),
        }
    }

    fn timeout_slot(&self, which: Timeout) -> &AtomicU64 {
        match which {
            Timeout::Receive => &self.receive_timeout,
            Timeout::Send => &self.send_timeout,
        }
    }

    /// The time limit `which`, if set: a blocking call that would wait
    /// longer fails with EAGAIN. The library keeps it; the kernel's
    /// calls do not know it.
    pub fn timeout(&self, which: Timeout) -> Option<Duration> {
        let micros = self.timeout_slot(which).load(Relaxed);
        (micros != 0).then(|| Duration::from_micros(micros))
    }

    /// Sets the time limit `which` (`None` or zero: wait for ever).
    pub fn set_timeout(&self, which: Timeout, limit: Option<Duration>) {
        let micros = limit.map_or(0, |limit| {
            u64::try_from(limit.as_micros()).unwrap_or(u64::MAX)
        });
        self.timeout_slot(which).store(micros, Relaxed);
    }

    /// Whether calls on it fail with EAGAIN rather than wait.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Relaxed)
    }

    /// Sets O_NONBLOCK on the kernel's socket, if it changes.
    ///
    /// # Errors
    /// The kernel's errno.
    pub fn set_nonblocking(&self, on: bool) -> Result<()> {
        if self.nonblocking.load(Relaxed) != on {
            client()?.set_option(self.descriptor, SocketOption::NonBlocking(on))?;
            self.nonblocking.store(on, Relaxed);
        }
        Ok(())
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        if let Ok(client) = client() {
            let _ = client.close(self.descriptor);
        }
    }
}
