//! One DNS exchange over TCP (RFC 1035 §4.2.2, RFC 7766): connect, the
//! query after its 16-bit length, the answer after its own, all before a
//! deadline. The socket is non-blocking and every wait is a `poll`.

use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;

use base::Context;

use crate::net::Net;
use crate::socket::{Errno, Fd, OptionName, PollEvents, PollFd, SocketOption, SocketType};

impl Net {
    /// Sends `query` to `server` over TCP and returns the answer, or the
    /// error that ended the exchange ([`Errno::TimedOut`] at `deadline`).
    pub(super) fn tcp_exchange(
        &self,
        context: &Context<'_>,
        server: SocketAddr,
        query: &[u8],
        deadline: u64,
    ) -> Result<Vec<u8>, Errno> {
        let fd = self.socket(context, SocketType::Stream)?;
        let result = self.exchange_on(context, fd, server, query, deadline);
        if result.is_err() {
            // Reset rather than linger over a connection that failed.
            let _ = self.set_option(context, fd, SocketOption::Linger(Some(0)));
        }
        let _ = self.close(context, fd);
        result
    }

    fn exchange_on(
        &self,
        context: &Context<'_>,
        fd: Fd,
        server: SocketAddr,
        query: &[u8],
        deadline: u64,
    ) -> Result<Vec<u8>, Errno> {
        self.set_option(context, fd, SocketOption::NonBlocking(true))?;
        match self.connect(context, fd, server) {
            Ok(()) | Err(Errno::InProgress) => {}
            Err(error) => return Err(error),
        }
        self.wait_until(context, fd, PollEvents::WRITABLE, deadline)?;
        if let SocketOption::Error(Some(error)) = self.option(context, fd, OptionName::Error)? {
            return Err(error);
        }
        let length = u16::try_from(query.len()).map_err(|_| Errno::MessageTooLong)?;
        let mut framed = Vec::with_capacity(2 + query.len());
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(query);
        self.write_all_by(context, fd, &framed, deadline)?;
        let mut length = [0u8; 2];
        self.read_exact_by(context, fd, &mut length, deadline)?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
        self.read_exact_by(context, fd, &mut answer, deadline)?;
        Ok(answer)
    }

    /// Sleeps until `fd` is ready for `events` (or has an error), or fails
    /// with [`Errno::TimedOut`] at `deadline`.
    fn wait_until(
        &self,
        context: &Context<'_>,
        fd: Fd,
        events: PollEvents,
        deadline: u64,
    ) -> Result<(), Errno> {
        let now = context.now_ns();
        if now >= deadline {
            return Err(Errno::TimedOut);
        }
        let mut poll = [PollFd::new(fd, events)];
        match self.poll(context, &mut poll, Some(deadline - now))? {
            0 => Err(Errno::TimedOut),
            _ => Ok(()),
        }
    }

    fn write_all_by(
        &self,
        context: &Context<'_>,
        fd: Fd,
        data: &[u8],
        deadline: u64,
    ) -> Result<(), Errno> {
        let mut written = 0;
        while written < data.len() {
            match self.write(context, fd, &data[written..]) {
                Ok(count) => written += count,
                Err(Errno::WouldBlock) => {
                    self.wait_until(context, fd, PollEvents::WRITABLE, deadline)?;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    fn read_exact_by(
        &self,
        context: &Context<'_>,
        fd: Fd,
        buffer: &mut [u8],
        deadline: u64,
    ) -> Result<(), Errno> {
        let mut filled = 0;
        while filled < buffer.len() {
            match self.read(context, fd, &mut buffer[filled..]) {
                Ok(0) => return Err(Errno::ConnectionReset),
                Ok(count) => filled += count,
                Err(Errno::WouldBlock) => {
                    self.wait_until(context, fd, PollEvents::READABLE, deadline)?;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}
