//! The kernel's side of the call table: [`Caller`] implements the
//! protocol's `Handler` on the net faction, for one client.
//!
//! Every call runs on an lwp of the client's own process, so the wire's
//! descriptor numbers are the kernel's numbers in that process's table:
//! nothing to translate, and another client's sockets are out of reach. Bulk data is bounded by
//! [`MAX_DATA`] per call. The socket calls' bodies are in
//! [`crate::sockets`], the interface, route and stack calls' in
//! [`crate::admin`].

use alloc::string::String;
use alloc::vec::Vec;
use core::net::SocketAddr;

use base::Context;
use net::{Fd, Net};
use sysproxy_proto::calls::call;
use sysproxy_proto::types::SocketOption;
use sysproxy_proto::types::{
    Bytes, Descriptor, DirectoryEntry, FileStatus, ForkToken, Interface, Neighbor, Route,
    SocketSummary,
};
use sysproxy_proto::{Errno, Handler, MAX_DATA};

use crate::convert;
use crate::session::Session;

/// One call's view of the kernel and of its client.
pub struct Caller<'a> {
    /// The calling thread's context.
    pub context: &'a Context<'a>,
    /// The client.
    pub session: &'a Session,
}

impl<'a> Caller<'a> {
    /// A caller for `session` on this thread.
    pub fn new(context: &'a Context<'a>, session: &'a Session) -> Self {
        Self { context, session }
    }

    /// The net faction.
    pub fn net(&self) -> &Net {
        &self.session.net
    }

    /// The socket behind the client's `descriptor`.
    /// The kernel's number for `descriptor`: the same, in the client's
    /// process (the thread making the call is one of its lwps).
    pub fn fd(descriptor: Descriptor) -> Fd {
        Fd(descriptor.0)
    }

    /// Refuses to open more once the client is going (its process's own
    /// limit bounds how many it holds).
    pub fn check_room(&self) -> Result<(), Errno> {
        if self.session.is_closing(self.context) {
            return Err(Errno::TooManySockets);
        }
        Ok(())
    }

    pub fn on<T>(
        &self,
        descriptor: Descriptor,
        call: impl FnOnce(&Net, &Context<'_>, Fd) -> Result<T, net::Errno>,
    ) -> Result<T, Errno> {
        call(self.net(), self.context, Self::fd(descriptor)).map_err(convert::errno)
    }
}

/// The wire's number for the kernel's.
pub fn descriptor(fd: Fd) -> Descriptor {
    Descriptor(fd.0)
}

pub fn bounded(length: u32) -> usize {
    (length as usize).min(MAX_DATA)
}

/// Fails with `MessageTooLong` for data over [`MAX_DATA`].
pub fn check_data(data: &Bytes) -> Result<&[u8], Errno> {
    if data.0.len() > MAX_DATA {
        return Err(Errno::MessageTooLong);
    }
    Ok(&data.0)
}

impl Handler for Caller<'_> {
    fn null(&self, _: call::Null) -> Result<(), Errno> {
        Ok(())
    }
    fn socket(&self, call: call::Socket) -> Result<Descriptor, Errno> {
        self.check_room()?;
        let kind = convert::socket_type(call.kind);
        let fd = self.net().socket(self.context, kind);
        fd.map(descriptor).map_err(convert::errno)
    }
    fn bind(&self, call: call::Bind) -> Result<(), Errno> {
        self.on(call.fd, |net, context, fd| {
            net.bind(context, fd, call.address)
        })
    }
    fn listen(&self, call: call::Listen) -> Result<(), Errno> {
        let backlog = call.backlog as usize;
        self.on(call.fd, |net, context, fd| net.listen(context, fd, backlog))
    }
    fn open(&self, call: call::Open) -> Result<Descriptor, Errno> {
        crate::files::open(self, call)
    }
    fn read(&self, call: call::Read) -> Result<Bytes, Errno> {
        crate::files::read(self, call)
    }
    fn write(&self, call: call::Write) -> Result<u32, Errno> {
        crate::files::write(self, call)
    }
    fn stat(&self, call: call::Stat) -> Result<FileStatus, Errno> {
        crate::files::stat(self, call)
    }
    fn read_directory(&self, call: call::ReadDirectory) -> Result<Vec<DirectoryEntry>, Errno> {
        crate::files::read_directory(self, call)
    }
    fn fork(&self, _: call::Fork) -> Result<ForkToken, Errno> {
        self.session.server.forks.prepare(self)
    }
    fn accept(&self, call: call::Accept) -> Result<(Descriptor, SocketAddr), Errno> {
        crate::sockets::accept(self, call)
    }
    fn connect(&self, call: call::Connect) -> Result<(), Errno> {
        self.on(call.fd, |net, context, fd| {
            net.connect(context, fd, call.address)
        })
    }
    fn send(&self, call: call::Send) -> Result<u32, Errno> {
        crate::sockets::send(self, call)
    }
    fn receive(&self, call: call::Receive) -> Result<Bytes, Errno> {
        crate::sockets::receive(self, call)
    }
    fn send_to(&self, call: call::SendTo) -> Result<u32, Errno> {
        crate::sockets::send_to(self, call)
    }
    fn receive_from(&self, call: call::ReceiveFrom) -> Result<(Bytes, SocketAddr), Errno> {
        crate::sockets::receive_from(self, call)
    }
    fn shutdown(&self, call: call::Shutdown) -> Result<(), Errno> {
        let how = convert::shutdown(call.how);
        self.on(call.fd, |net, context, fd| net.shutdown(context, fd, how))
    }
    fn close(&self, call: call::Close) -> Result<(), Errno> {
        let closed = self.net().close(self.context, Self::fd(call.fd));
        closed.map_err(convert::errno)
    }
    fn set_option(&self, call: call::SetOption) -> Result<(), Errno> {
        let option = convert::option(call.option);
        self.on(call.fd, |net, context, fd| {
            net.set_option(context, fd, option)
        })
    }
    fn option(&self, call: call::GetOption) -> Result<SocketOption, Errno> {
        let name = convert::option_name(call.name);
        let option = self.on(call.fd, |net, context, fd| net.option(context, fd, name))?;
        Ok(convert::wire_option(option))
    }
    fn local_address(&self, call: call::LocalAddress) -> Result<SocketAddr, Errno> {
        self.on(call.fd, |net, context, fd| net.local_address(context, fd))
    }
    fn peer_address(&self, call: call::PeerAddress) -> Result<SocketAddr, Errno> {
        self.on(call.fd, |net, context, fd| net.peer_address(context, fd))
    }
    fn poll(&self, call: call::Poll) -> Result<Vec<u8>, Errno> {
        crate::sockets::poll(self, call)
    }
    fn interfaces(&self, _: call::Interfaces) -> Result<Vec<Interface>, Errno> {
        Ok(crate::admin::interfaces(self))
    }
    fn set_interface_up(&self, call: call::SetInterfaceUp) -> Result<(), Errno> {
        let set = self
            .net()
            .set_interface_up(self.context, &call.name, call.up);
        set.map_err(crate::admin::interface_errno)
    }
    fn set_interface_address(&self, call: call::SetInterfaceAddress) -> Result<(), Errno> {
        crate::admin::set_interface_address(self, call)
    }
    fn add_interface_address6(&self, call: call::AddInterfaceAddress6) -> Result<(), Errno> {
        let net = self.net();
        let added =
            net.add_interface_address6(self.context, &call.name, call.address, call.prefix_length);
        added.map_err(crate::admin::interface_errno)
    }
    fn remove_interface_address6(&self, call: call::RemoveInterfaceAddress6) -> Result<(), Errno> {
        let net = self.net();
        let removed = net.remove_interface_address6(self.context, &call.name, call.address);
        removed.map_err(crate::admin::interface_errno)
    }
    fn routes(&self, _: call::Routes) -> Result<Vec<Route>, Errno> {
        Ok(crate::admin::routes(self))
    }
    fn add_route(&self, call: call::AddRoute) -> Result<(), Errno> {
        crate::admin::add_route(self, call)
    }
    fn remove_route(&self, call: call::RemoveRoute) -> Result<(), Errno> {
        let net = self.net();
        let removed = net.remove_route(self.context, call.destination, call.prefix_length);
        removed.map_err(crate::admin::interface_errno)
    }
    fn set_default_gateway(&self, call: call::SetDefaultGateway) -> Result<(), Errno> {
        let set = self.net().set_default_gateway(self.context, call.gateway);
        set.map_err(crate::admin::interface_errno)
    }
    fn neighbors(&self, _: call::Neighbors) -> Result<Vec<Neighbor>, Errno> {
        Ok(crate::admin::neighbors(self))
    }
    fn sockets(&self, _: call::Sockets) -> Result<Vec<SocketSummary>, Errno> {
        Ok(crate::admin::sockets(self))
    }
    fn statistics(&self, _: call::Statistics) -> Result<String, Errno> {
        Ok(crate::admin::statistics(self))
    }
    fn ping(&self, call: call::Ping) -> Result<u64, Errno> {
        crate::sockets::ping(self, call)
    }
}
