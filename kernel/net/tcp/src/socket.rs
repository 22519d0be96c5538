//! The socket-facing calls, with BSD semantics: open, bind, listen,
//! accept, connect, send, recv, shutdown, close and abort (the queries
//! and options are in [`crate::query`]).
//!
//! None of them blocks: where a BSD call would sleep, these return
//! `WouldBlock` and the glue waits for the handle's next event.

use core::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::address::{Binding, scoped, unusable, zone_of};
use crate::arrival::close_connection;
use crate::config::Shutdown;
use crate::engine::Tcp;
use crate::handshake::prepare_open;
use crate::sender::{output, send_syn, window_update};
use crate::state::{Listener, Role, State};
use crate::table::{Endpoints, Entry, Table};
use crate::tcb::Tcb;
use crate::{SocketHandle, TcpError, Transmit};

/// The longest accept queue a listener may ask for.
const MAXIMUM_BACKLOG: usize = 4096;

impl Tcp {
    pub(crate) fn user(&self, handle: SocketHandle) -> Result<&Tcb, TcpError> {
        self.table
            .get(handle)
            .filter(|tcb| tcb.role.is_user_held())
            .ok_or(TcpError::InvalidHandle)
    }

    /// socket(): a new CLOSED socket.
    pub fn open(&mut self) -> Result<SocketHandle, TcpError> {
        let config = self.context.config;
        self.indexed(|tcp| {
            let memory = &mut tcp.context.memory;
            tcp.table.allocate(&config, config.maximum_sockets, memory)
        })
    }

    /// bind(): port 0 picks an ephemeral port, 0.0.0.0 is any IPv4
    /// address and :: any IPv6 one (and any IPv4 one too, unless
    /// IPV6_V6ONLY is set). An IPv4-mapped IPv6 address is refused: the
    /// caller binds its IPv4 address instead (the engine holds addresses
    /// in the family they travel in).
    pub fn bind(&mut self, handle: SocketHandle, local: SocketAddr) -> Result<(), TcpError> {
        self.indexed(|tcp| tcp.bind_local(handle, local))
    }

    fn bind_local(&mut self, handle: SocketHandle, local: SocketAddr) -> Result<(), TcpError> {
        let tcb = self.user(handle)?;
        if !matches!(tcb.role, Role::Unbound) {
            return Err(TcpError::InvalidState);
        }
        let reuse = tcb.options.reuse_address;
        let binding = Binding {
            address: local.ip(),
            v6_only: tcb.options.v6_only,
        };
        if unusable(local.ip()) && !local.ip().is_unspecified() {
            return Err(TcpError::AddressNotAvailable);
        }
        let port = match local.port() {
            0 => self
                .ephemeral_for_bind(handle, binding)
                .ok_or(TcpError::AddressNotAvailable)?,
            port if self.port_free(handle, binding, port, reuse) => port,
            _ => return Err(TcpError::AddressInUse),
        };
        let tcb = user_mut(&mut self.table, handle)?;
        tcb.local = scoped(local.ip(), port, zone_of(local));
        tcb.role.bind();
        Ok(())
    }

    /// listen(): accept connections, at most `backlog` waiting for accept.
    /// An unbound socket gets an ephemeral port on any address.
    pub fn listen(&mut self, handle: SocketHandle, backlog: usize) -> Result<(), TcpError> {
        self.indexed(|tcp| tcp.start_listening(handle, backlog))
    }

    fn start_listening(&mut self, handle: SocketHandle, backlog: usize) -> Result<(), TcpError> {
        let backlog = backlog.clamp(1, MAXIMUM_BACKLOG);
        let tcb = user_mut(&mut self.table, handle)?;
        match &mut tcb.role {
            Role::Listening(listener) => {
                if !listener.make_room(backlog, &mut self.context.memory) {
                    return Err(TcpError::NoBuffers);
                }
                listener.backlog = backlog;
                return Ok(());
            }
            Role::Unbound => {
                let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
                self.bind_local(handle, SocketAddr::V4(any))?;
            }
            Role::Bound => {}
            Role::Connection(_) | Role::Finished => return Err(TcpError::InvalidState),
        }
        let tcb = self.user(handle)?;
        let (binding, port) = (tcb.binding(), tcb.local.port());
        if self.listener_conflict(handle, binding, port) {
            return Err(TcpError::AddressInUse);
        }
        let listener = self.new_listener(backlog)?;
        let tcb = user_mut(&mut self.table, handle).expect("checked above");
        tcb.state = State::Listen;
        tcb.role.listen(backlog, listener);
        self.table.listen(handle.index);
        Ok(())
    }

    /// An accept side with room for `backlog`, charged; `NoBuffers` when
    /// the memory is refused.
    fn new_listener(&mut self, backlog: usize) -> Result<Listener, TcpError> {
        let memory = &mut self.context.memory;
        if !memory.charge(Listener::bytes_for(0)) {
            return Err(TcpError::NoBuffers);
        }
        let mut listener = Listener::default();
        if !listener.make_room(backlog, memory) {
            memory.release(Listener::bytes_for(0));
            return Err(TcpError::NoBuffers);
        }
        Ok(listener)
    }

    /// accept(): the oldest established connection, or `WouldBlock`.
    pub fn accept(&mut self, listener: SocketHandle) -> Result<SocketHandle, TcpError> {
        self.indexed(|tcp| tcp.take_connection(listener))
    }

    fn take_connection(&mut self, listener: SocketHandle) -> Result<SocketHandle, TcpError> {
        let tcb = user_mut(&mut self.table, listener)?;
        let queues = tcb.role.listener_mut().ok_or(TcpError::InvalidState)?;
        let child = queues
            .accept_queue
            .pop_front()
            .ok_or(TcpError::WouldBlock)?;
        let accepted = self
            .table
            .get_mut(child)
            .ok_or(TcpError::ConnectionAborted)?;
        accepted.role.accept();
        Ok(child)
    }

    /// connect(): sends the SYN and returns with the socket in SYN-SENT;
    /// the Connected (or error) event follows. An unbound socket gets the
    /// route's source address and an ephemeral port. A link-local IPv6
    /// peer without a scope id gets the zone the route chose.
    pub fn connect(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        remote: SocketAddr,
        tx: &mut dyn Transmit,
    ) -> Result<(), TcpError> {
        self.indexed(|tcp| tcp.open_connection(now_ns, handle, remote, tx))
    }

    fn open_connection(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        remote: SocketAddr,
        tx: &mut dyn Transmit,
    ) -> Result<(), TcpError> {
        self.context.now = now_ns;
        match self.user(handle)?.role {
            Role::Unbound | Role::Bound => {}
            Role::Listening(_) | Role::Finished => return Err(TcpError::InvalidState),
            Role::Connection(_) => return Err(TcpError::AlreadyConnected),
        }
        if unusable(remote.ip()) || remote.port() == 0 {
            return Err(TcpError::InvalidArgument);
        }
        let route = (tx.route(remote.ip(), zone_of(remote))).ok_or(TcpError::NoRoute)?;
        let remote = scoped(remote.ip(), remote.port(), route.zone);
        let local = self.choose_local(handle, remote, route.source)?;
        self.claim_tuple(handle, local, remote)?;
        let tcb = user_mut(&mut self.table, handle)?;
        tcb.local = local;
        tcb.remote = remote;
        tcb.role.connect();
        tcb.state = State::SynSent;
        tcb.error = None;
        prepare_open(tcb, &self.context, route.mtu);
        send_syn(tcb, &mut self.context, tx);
        self.context.stats.active_opens += 1;
        self.table.register(handle.index);
        Ok(())
    }

    /// Our end of a connection to `remote`: the bound address, or the
    /// route's `source` when bound to a wildcard (or not at all), and the
    /// bound port or an ephemeral one. A socket bound to one family
    /// cannot reach the other (`NoRoute`), but for a dual-stack wildcard.
    fn choose_local(
        &mut self,
        handle: SocketHandle,
        remote: SocketAddr,
        source: IpAddr,
    ) -> Result<SocketAddr, TcpError> {
        let tcb = self.user(handle)?;
        let bound = matches!(tcb.role, Role::Bound);
        if bound && !tcb.binding().reaches(remote.ip()) {
            return Err(TcpError::NoRoute);
        }
        let address = if tcb.local.ip().is_unspecified() {
            source
        } else {
            tcb.local.ip()
        };
        let zone = zone_of(remote);
        if bound {
            return Ok(scoped(address, tcb.local.port(), zone));
        }
        let port = self
            .ephemeral_for_connect(handle, address, remote)
            .ok_or(TcpError::AddressNotAvailable)?;
        Ok(scoped(address, port, zone))
    }

    /// Makes sure no connection holds (local, remote); a TIME-WAIT one
    /// (socket or record) gives way to a socket with ReuseAddress.
    fn claim_tuple(
        &mut self,
        handle: SocketHandle,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<(), TcpError> {
        let reuse = self.user(handle)?.options.reuse_address;
        let index = match self.table.find(&Endpoints::new(local, remote)) {
            None => return Ok(()),
            Some(Entry::Socket(index)) => index,
            Some(Entry::TimeWait(_)) if !reuse => return Err(TcpError::AddressInUse),
            Some(Entry::TimeWait(ticket)) => {
                self.table.end_time_wait(ticket, &mut self.context.memory);
                self.context.stats.time_wait_reuses += 1;
                return Ok(());
            }
        };
        let tcb = self.table.at(index).ok_or(TcpError::AddressInUse)?;
        if tcb.state != State::TimeWait || !reuse {
            return Err(TcpError::AddressInUse);
        }
        close_connection(tcb, &mut self.context, None);
        self.context.stats.time_wait_reuses += 1;
        self.settle(index);
        Ok(())
    }

    /// send(): copies into the send buffer and transmits what the windows
    /// and Nagle allow; `WouldBlock` when the buffer is full (or the
    /// handshake is still running).
    pub fn send(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        data: &[u8],
        tx: &mut dyn Transmit,
    ) -> Result<usize, TcpError> {
        self.indexed(|tcp| tcp.queue_data(now_ns, handle, data, tx))
    }

    fn queue_data(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        data: &[u8],
        tx: &mut dyn Transmit,
    ) -> Result<usize, TcpError> {
        self.context.now = now_ns;
        let tcb = user_mut(&mut self.table, handle)?;
        if let Some(error) = tcb.error.take() {
            return Err(error);
        }
        if tcb.fin_queued {
            return Err(TcpError::Shutdown);
        }
        match tcb.state {
            State::Established | State::CloseWait => {}
            State::SynSent | State::SynReceived => return Err(TcpError::WouldBlock),
            _ => return Err(TcpError::NotConnected),
        }
        if data.is_empty() {
            return Ok(0);
        }
        let count = tcb.send_buffer.push(data, &mut self.context.memory);
        if count == 0 && tcb.send_buffer.free() > 0 {
            // Room in the buffer, but no memory for it.
            return Err(TcpError::NoBuffers);
        }
        if count == 0 {
            return Err(TcpError::WouldBlock);
        }
        output(tcb, &mut self.context, tx);
        Ok(count)
    }

    /// recv(): `Ok(0)` is end of file (FIN received and everything read);
    /// `WouldBlock` when nothing is there yet. Sends a window update when
    /// reading opened the window a lot.
    pub fn recv(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        buffer: &mut [u8],
        tx: &mut dyn Transmit,
    ) -> Result<usize, TcpError> {
        self.indexed(|tcp| tcp.read_data(now_ns, handle, buffer, Some(tx)))
    }

    /// recv() with MSG_PEEK: the same answer, but the bytes stay to be
    /// read again and the window does not move.
    pub fn peek(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        buffer: &mut [u8],
    ) -> Result<usize, TcpError> {
        self.indexed(|tcp| tcp.read_data(now_ns, handle, buffer, None))
    }

    /// Reads into `buffer`, or peeks without `tx` (nothing to announce).
    fn read_data(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        buffer: &mut [u8],
        tx: Option<&mut dyn Transmit>,
    ) -> Result<usize, TcpError> {
        self.context.now = now_ns;
        let tcb = user_mut(&mut self.table, handle)?;
        if tcb.state == State::Listen {
            return Err(TcpError::NotConnected);
        }
        let count = match tx {
            Some(tx) => {
                let count = tcb.receive.read(buffer);
                if count > 0 {
                    window_update(tcb, &mut self.context, tx);
                }
                count
            }
            None => tcb.receive.peek(buffer),
        };
        if count > 0 {
            return Ok(count);
        }
        if let Some(error) = tcb.error.take() {
            return Err(error);
        }
        if tcb.receive.fin_received() || tcb.read_shutdown || buffer.is_empty() {
            return Ok(0);
        }
        match (tcb.state, &tcb.role) {
            (State::Closed, Role::Finished) => Ok(0),
            (State::Closed, _) => Err(TcpError::NotConnected),
            _ => Err(TcpError::WouldBlock),
        }
    }

    /// shutdown(): Read stops receiving (recv returns end of file), Write
    /// sends a FIN after the queued data.
    pub fn shutdown(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        how: Shutdown,
        tx: &mut dyn Transmit,
    ) -> Result<(), TcpError> {
        self.indexed(|tcp| tcp.shut_down(now_ns, handle, how, tx))
    }

    fn shut_down(
        &mut self,
        now_ns: u64,
        handle: SocketHandle,
        how: Shutdown,
        tx: &mut dyn Transmit,
    ) -> Result<(), TcpError> {
        self.context.now = now_ns;
        let tcb = user_mut(&mut self.table, handle)?;
        if matches!(tcb.state, State::Closed | State::Listen) {
            return Err(TcpError::NotConnected);
        }
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            tcb.read_shutdown = true;
            tcb.receive.discard();
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            crate::closing::queue_fin(tcb);
            output(tcb, &mut self.context, tx);
        }
        self.context
            .notify(self.table.get_mut(handle).ok_or(TcpError::InvalidHandle)?);
        Ok(())
    }
}

/// The socket a user handle names (not a closed or unaccepted one).
pub(crate) fn user_mut(table: &mut Table, handle: SocketHandle) -> Result<&mut Tcb, TcpError> {
    let tcb = table.get_mut(handle).filter(|tcb| tcb.role.is_user_held());
    tcb.ok_or(TcpError::InvalidHandle)
}
