//! select(2) as poll: the three descriptor sets become `pollfd`s and the
//! answers become sets again.
//!
//! Readable is POLLIN, hang-up or error (select reports a socket whose
//! read would not block); writable is POLLOUT or error; exceptional is
//! POLLPRI, which the kernel never reports. A descriptor that is not open
//! fails the whole call with EBADF, as select does.

use core::ffi::c_int;

use libc::{FD_ISSET, FD_SET, FD_SETSIZE, FD_ZERO, fd_set, pollfd};

use crate::errno::{Errno, Result};

/// The program's three sets (each may be null).
#[derive(Debug, Clone, Copy)]
pub struct Sets {
    /// Descriptors checked: 0 to `count - 1`.
    pub count: c_int,
    /// Readable.
    pub read: *mut fd_set,
    /// Writable.
    pub write: *mut fd_set,
    /// Exceptional.
    pub except: *mut fd_set,
}

impl Sets {
    /// The `pollfd`s for the descriptors in any set.
    ///
    /// # Safety
    /// Each set pointer is null or points to a valid `fd_set`.
    pub unsafe fn pollfds(&self) -> Vec<pollfd> {
        let count = self.count.clamp(0, FD_SETSIZE as c_int);
        let mut fds = Vec::new();
        for fd in 0..count {
            let mut events = 0;
            for (set, event) in self.with_events() {
                // SAFETY: the caller's set, and `fd` below FD_SETSIZE.
                if !set.is_null() && unsafe { FD_ISSET(fd, set) } {
                    events |= event;
                }
            }
            if events != 0 {
                fds.push(pollfd {
                    fd,
                    events,
                    revents: 0,
                });
            }
        }
        fds
    }

    fn with_events(&self) -> [(*mut fd_set, i16); 3] {
        [
            (self.read, libc::POLLIN),
            (self.write, libc::POLLOUT),
            (self.except, libc::POLLPRI),
        ]
    }

    /// Writes the answers in `fds` back into the sets: how many bits are
    /// set in all.
    ///
    /// # Errors
    /// EBADF when a descriptor is not open.
    ///
    /// # Safety
    /// As [`Sets::pollfds`].
    pub unsafe fn answer(&self, fds: &[pollfd]) -> Result<c_int> {
        if fds.iter().any(|fd| fd.revents & libc::POLLNVAL != 0) {
            return Err(Errno(libc::EBADF));
        }
        for (set, _) in self.with_events() {
            if !set.is_null() {
                // SAFETY: the caller's set.
                unsafe { FD_ZERO(set) };
            }
        }
        let readable = libc::POLLIN | libc::POLLHUP | libc::POLLERR;
        let writable = libc::POLLOUT | libc::POLLERR;
        let mut bits = 0;
        for fd in fds {
            let answers = [
                (
                    self.read,
                    fd.events & libc::POLLIN != 0 && fd.revents & readable != 0,
                ),
                (
                    self.write,
                    fd.events & libc::POLLOUT != 0 && fd.revents & writable != 0,
                ),
                (self.except, fd.revents & libc::POLLPRI != 0),
            ];
            for (set, ready) in answers {
                if ready && !set.is_null() {
                    // SAFETY: the caller's set, and `fd` below FD_SETSIZE.
                    unsafe { FD_SET(fd.fd, set) };
                    bits += 1;
                }
            }
        }
        Ok(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> fd_set {
        // SAFETY: fd_set is plain data; FD_ZERO makes it empty.
        let mut set: fd_set = unsafe { core::mem::zeroed() };
        // SAFETY: a valid set.
        unsafe { FD_ZERO(&mut set) };
        set
    }

    #[test]
    fn sets_become_pollfds_and_answers_become_sets() {
        let (mut read, mut write) = (empty(), empty());
        // SAFETY: valid sets, descriptors below FD_SETSIZE.
        unsafe {
            FD_SET(3, &mut read);
            FD_SET(3, &mut write);
            FD_SET(9, &mut read);
        }
        let sets = Sets {
            count: 10,
            read: &mut read,
            write: &mut write,
            except: core::ptr::null_mut(),
        };
        // SAFETY: as above.
        let mut fds = unsafe { sets.pollfds() };
        let events: Vec<(c_int, i16)> = fds.iter().map(|fd| (fd.fd, fd.events)).collect();
        assert_eq!(
            events,
            [(3, libc::POLLIN | libc::POLLOUT), (9, libc::POLLIN)]
        );
        fds[0].revents = libc::POLLOUT;
        fds[1].revents = libc::POLLHUP;
        // SAFETY: as above.
        assert_eq!(unsafe { sets.answer(&fds) }, Ok(2));
        // SAFETY: as above.
        let bits = unsafe { [FD_ISSET(3, &read), FD_ISSET(3, &write), FD_ISSET(9, &read)] };
        assert_eq!(bits, [false, true, true]);
        fds[0].revents = libc::POLLNVAL;
        // SAFETY: as above.
        assert_eq!(unsafe { sets.answer(&fds) }, Err(Errno(libc::EBADF)));
    }
}
