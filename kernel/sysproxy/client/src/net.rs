//! `std::net`-like sockets whose state lives in the remote kernel.
//!
//! [`TcpStream`], [`TcpListener`] and [`UdpSocket`] behave as their
//! `std::net` namesakes (blocking by default, `Read` and `Write` on
//! streams, errors as `io::Error`) but each call is a remote call on a
//! [`Client`]: the connection is made by the kernel's TCP/IP stack, not
//! Linux's. A socket holds its client; dropping it closes the remote
//! descriptor. Addresses are IPv4 (`ToSocketAddrs` takes the first).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};

use sysproxy_proto::types::{Bytes, Descriptor, Direction, MessageFlags, SocketKind, SocketOption};
use sysproxy_proto::{MAX_DATA, Stubs};

use crate::Client;

/// The flags of a peek.
const PEEK: MessageFlags = MessageFlags {
    dont_wait: false,
    wait_all: false,
    peek: true,
};

/// The first address of `address` (the kernel speaks IPv4 and IPv6).
fn first_address(address: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    let found = address.to_socket_addrs()?.next();
    found.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))
}

/// A remote descriptor, closed on drop.
#[derive(Debug)]
struct Socket {
    client: Client,
    fd: Descriptor,
}

impl Socket {
    fn open(client: &Client, kind: SocketKind) -> io::Result<Self> {
        let fd = client.socket(kind)?;
        Ok(Self {
            client: client.clone(),
            fd,
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.client.local_address(self.fd)?)
    }

    fn set(&self, option: SocketOption) -> io::Result<()> {
        Ok(self.client.set_option(self.fd, option)?)
    }

    fn receive(&self, buffer: &mut [u8], flags: MessageFlags) -> io::Result<usize> {
        let length = buffer.len().min(MAX_DATA) as u32;
        let data = self.client.receive(self.fd, length, flags)?;
        buffer[..data.0.len()].copy_from_slice(&data.0);
        Ok(data.0.len())
    }

    fn receive_from(
        &self,
        buffer: &mut [u8],
        flags: MessageFlags,
    ) -> io::Result<(usize, SocketAddr)> {
        let length = buffer.len().min(MAX_DATA) as u32;
        let (data, from) = self.client.receive_from(self.fd, length, flags)?;
        buffer[..data.0.len()].copy_from_slice(&data.0);
        Ok((data.0.len(), from))
    }

    fn send(&self, data: &[u8]) -> io::Result<usize> {
        let data = Bytes(data[..data.len().min(MAX_DATA)].to_vec());
        let sent = self.client.send(self.fd, data, MessageFlags::default())?;
        Ok(sent as usize)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = self.client.close(self.fd);
    }
}

/// A TCP connection made by the remote kernel.
#[derive(Debug)]
pub struct TcpStream(Socket);

impl TcpStream {
    /// Connects to `address` from the kernel of `client`.
    ///
    /// # Errors
    /// The remote errno as an `io::Error` (refused, unreachable, …).
    pub fn connect(client: &Client, address: impl ToSocketAddrs) -> io::Result<Self> {
        let address = first_address(address)?;
        let socket = Socket::open(client, SocketKind::Stream)?;
        client.connect(socket.fd, address)?;
        Ok(Self(socket))
    }

    /// The remote kernel's descriptor number.
    pub fn descriptor(&self) -> Descriptor {
        self.0.fd
    }

    /// The peer's address.
    ///
    /// # Errors
    /// `NotConnected`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.0.client.peer_address(self.0.fd)?)
    }

    /// The local address.
    ///
    /// # Errors
    /// The remote errno.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// Ends reading, writing or both.
    ///
    /// # Errors
    /// The remote errno.
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        let how = match how {
            std::net::Shutdown::Read => Direction::Read,
            std::net::Shutdown::Write => Direction::Write,
            std::net::Shutdown::Both => Direction::Both,
        };
        Ok(self.0.client.shutdown(self.0.fd, how)?)
    }

    /// TCP_NODELAY.
    ///
    /// # Errors
    /// The remote errno.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.0.set(SocketOption::NoDelay(on))
    }

    /// O_NONBLOCK: calls that would wait fail with `WouldBlock`.
    ///
    /// # Errors
    /// The remote errno.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.0.set(SocketOption::NonBlocking(on))
    }

    /// Reads what a `read` would, leaving it to be read again (MSG_PEEK).
    ///
    /// # Errors
    /// The remote errno.
    pub fn peek(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.0.receive(buffer, PEEK)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.0.receive(buffer, MessageFlags::default())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        self.0.send(data)
    }

    /// Nothing to do: written data is in the kernel's send buffer.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buffer)
    }
}

impl Write for TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        (&*self).write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A TCP listener in the remote kernel.
#[derive(Debug)]
pub struct TcpListener(Socket);

impl TcpListener {
    /// Listens on `address` (port 0: an ephemeral port) in the kernel of
    /// `client`, with SO_REUSEADDR as `std::net` sets it.
    ///
    /// # Errors
    /// The remote errno (address in use, …).
    pub fn bind(client: &Client, address: impl ToSocketAddrs) -> io::Result<Self> {
        let address = first_address(address)?;
        let socket = Socket::open(client, SocketKind::Stream)?;
        socket.set(SocketOption::ReuseAddress(true))?;
        client.bind(socket.fd, address)?;
        client.listen(socket.fd, 128)?;
        Ok(Self(socket))
    }

    /// The next connection and its peer; waits for one.
    ///
    /// # Errors
    /// The remote errno.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, peer) = self.0.client.accept(self.0.fd)?;
        let socket = Socket {
            client: self.0.client.clone(),
            fd,
        };
        Ok((TcpStream(socket), peer))
    }

    /// The local address (with the port the kernel chose).
    ///
    /// # Errors
    /// The remote errno.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// O_NONBLOCK: `accept` fails with `WouldBlock` instead of waiting.
    ///
    /// # Errors
    /// The remote errno.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.0.set(SocketOption::NonBlocking(on))
    }
}

/// A UDP socket in the remote kernel.
#[derive(Debug)]
pub struct UdpSocket(Socket);

impl UdpSocket {
    /// Binds to `address` in the kernel of `client`.
    ///
    /// # Errors
    /// The remote errno.
    pub fn bind(client: &Client, address: impl ToSocketAddrs) -> io::Result<Self> {
        let address = first_address(address)?;
        let socket = Socket::open(client, SocketKind::Datagram)?;
        client.bind(socket.fd, address)?;
        Ok(Self(socket))
    }

    /// Sends one datagram to `address`.
    ///
    /// # Errors
    /// The remote errno (too long, unreachable, …).
    pub fn send_to(&self, data: &[u8], address: impl ToSocketAddrs) -> io::Result<usize> {
        let address = first_address(address)?;
        let data = Bytes(data.to_vec());
        Ok(self.0.client.send_to(self.0.fd, data, address)? as usize)
    }

    /// Receives one datagram (truncated to `buffer`) and its sender.
    ///
    /// # Errors
    /// The remote errno.
    pub fn recv_from(&self, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.0.receive_from(buffer, MessageFlags::default())
    }

    /// As [`UdpSocket::recv_from`], but the datagram stays queued, to be
    /// received again.
    ///
    /// # Errors
    /// The remote errno.
    pub fn peek_from(&self, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.0.receive_from(buffer, PEEK)
    }

    /// Sets the default peer of `send` and `recv`.
    ///
    /// # Errors
    /// The remote errno.
    pub fn connect(&self, address: impl ToSocketAddrs) -> io::Result<()> {
        let address = first_address(address)?;
        Ok(self.0.client.connect(self.0.fd, address)?)
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    /// The remote errno.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.0.send(data)
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    /// The remote errno.
    pub fn recv(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.0.receive(buffer, MessageFlags::default())
    }

    /// As [`UdpSocket::recv`], but the datagram stays queued.
    ///
    /// # Errors
    /// The remote errno.
    pub fn peek(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.0.receive(buffer, PEEK)
    }

    /// The local address.
    ///
    /// # Errors
    /// The remote errno.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
