//! Socket helpers of the simulated network: listen, connect, establish,
//! send and read on one host's engine.

use std::vec;
use std::vec::Vec;

use core::net::SocketAddr;

use super::network::{Network, SECOND};
use crate::address::unspecified_like;
use crate::{SocketHandle, TcpError};

impl Network {
    /// A listener on host `host` port `port`, at the wildcard of the
    /// host's family.
    pub fn listen(&mut self, host: usize, port: u16, backlog: usize) -> SocketHandle {
        let any = SocketAddr::new(unspecified_like(self.hosts[host].address), port);
        self.with(host, |tcp, _, _| {
            let handle = tcp.open().expect("a socket");
            tcp.bind(handle, any).expect("bind");
            tcp.listen(handle, backlog).expect("listen");
            handle
        })
    }

    /// Starts a connect from `from` to `to:port`.
    pub fn connect(&mut self, from: usize, to: usize, port: u16) -> SocketHandle {
        let remote = self.endpoint(to, port);
        self.with(from, |tcp, now, tx| {
            let handle = tcp.open().expect("a socket");
            tcp.connect(now, handle, remote, tx).expect("connect");
            handle
        })
    }

    /// A connection from host 0 to a listener on host 1: (client, listener,
    /// server side).
    pub fn establish(&mut self, port: u16) -> (SocketHandle, SocketHandle, SocketHandle) {
        let listener = self.listen(1, port, 8);
        let client = self.connect(0, 1, port);
        let mut server = None;
        let connected = self.run_until(10 * SECOND, |network| {
            if server.is_none() {
                server = network.with(1, |tcp, _, _| tcp.accept(listener).ok());
            }
            server.is_some() && network.status(0, client).connected
        });
        assert!(connected, "the handshake completes");
        (client, listener, server.expect("accepted"))
    }

    /// Sends what fits; returns how much was taken.
    pub fn send(
        &mut self,
        host: usize,
        handle: SocketHandle,
        data: &[u8],
    ) -> Result<usize, TcpError> {
        self.with(host, |tcp, now, tx| tcp.send(now, handle, data, tx))
    }

    /// Reads everything readable now.
    pub fn read(&mut self, host: usize, handle: SocketHandle) -> Result<Vec<u8>, TcpError> {
        let mut out = Vec::new();
        let mut buffer = vec![0u8; 64 << 10];
        loop {
            let result = self.with(host, |tcp, now, tx| tcp.recv(now, handle, &mut buffer, tx));
            match result {
                Ok(0) => return Ok(out),
                Ok(count) => out.extend_from_slice(&buffer[..count]),
                Err(TcpError::WouldBlock) => return Ok(out),
                Err(error) if out.is_empty() => return Err(error),
                Err(_) => return Ok(out),
            }
        }
    }
}
