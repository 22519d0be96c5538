//! The socket queries and options: status for poll, the pending error,
//! socket options and the two addresses.

use core::net::SocketAddr;

use crate::config::{MAXIMUM_BUFFER, OptionName, SocketOption, SocketStatus};
use crate::engine::Tcp;
use crate::socket::user_mut;
use crate::state::Role;
use crate::{SocketHandle, TcpError};

impl Tcp {
    /// A snapshot for poll.
    pub fn status(&self, handle: SocketHandle) -> Result<SocketStatus, TcpError> {
        let tcb = self.user(handle)?;
        let writable = if tcb.state.sends_data() && !tcb.fin_queued {
            tcb.send_buffer.free()
        } else {
            0
        };
        let acceptable = tcb
            .role
            .listener()
            .is_some_and(|listener| !listener.accept_queue.is_empty());
        let finished = matches!(tcb.role, Role::Finished);
        let end_of_file = tcb.receive.fin_received() || tcb.read_shutdown || finished;
        Ok(SocketStatus {
            state: tcb.state,
            readable: tcb.receive.readable(),
            end_of_file,
            writable,
            error: tcb.error,
            acceptable,
            connected: tcb.connected(),
        })
    }

    /// SO_ERROR: takes the pending error.
    pub fn take_error(&mut self, handle: SocketHandle) -> Option<TcpError> {
        self.indexed(|tcp| user_mut(&mut tcp.table, handle).ok()?.error.take())
    }

    /// setsockopt(). Buffer sizes are clamped to [`MAXIMUM_BUFFER`] and
    /// never shrink below what the buffer holds.
    pub fn set_option(
        &mut self,
        handle: SocketHandle,
        option: SocketOption,
    ) -> Result<(), TcpError> {
        self.indexed(|tcp| tcp.apply_option(handle, option))
    }

    fn apply_option(&mut self, handle: SocketHandle, option: SocketOption) -> Result<(), TcpError> {
        let keepalive_idle = self.context.config.keepalive_idle_ns;
        let tcb = user_mut(&mut self.table, handle)?;
        match option {
            SocketOption::NoDelay(on) => tcb.options.no_delay = on,
            SocketOption::KeepAlive(on) => {
                tcb.options.keep_alive = on;
                let armed = on && tcb.state.is_synchronized();
                tcb.timers.keepalive =
                    armed.then(|| tcb.last_received_ns.saturating_add(keepalive_idle));
            }
            SocketOption::ReuseAddress(on) => tcb.options.reuse_address = on,
            SocketOption::ReceiveBuffer(size) => {
                let size = size.clamp(1, MAXIMUM_BUFFER);
                tcb.options.receive_buffer = size;
                let promised = tcb.receive.readable() + tcb.receive_window() as usize;
                tcb.receive.set_limit(size.max(promised));
            }
            SocketOption::SendBuffer(size) => {
                let size = size.clamp(1, MAXIMUM_BUFFER);
                tcb.options.send_buffer = size;
                tcb.send_buffer.set_limit(size);
            }
            SocketOption::Linger(seconds) => tcb.options.linger = seconds,
            SocketOption::V6Only(_) if !matches!(tcb.role, Role::Unbound) => {
                return Err(TcpError::InvalidState);
            }
            SocketOption::V6Only(on) => tcb.options.v6_only = on,
        }
        Ok(())
    }

    /// getsockopt().
    pub fn option(&self, handle: SocketHandle, name: OptionName) -> Result<SocketOption, TcpError> {
        let options = self.user(handle)?.options;
        Ok(match name {
            OptionName::NoDelay => SocketOption::NoDelay(options.no_delay),
            OptionName::KeepAlive => SocketOption::KeepAlive(options.keep_alive),
            OptionName::ReuseAddress => SocketOption::ReuseAddress(options.reuse_address),
            OptionName::ReceiveBuffer => SocketOption::ReceiveBuffer(options.receive_buffer),
            OptionName::SendBuffer => SocketOption::SendBuffer(options.send_buffer),
            OptionName::Linger => SocketOption::Linger(options.linger),
            OptionName::V6Only => SocketOption::V6Only(options.v6_only),
        })
    }

    /// getsockname().
    pub fn local_address(&self, handle: SocketHandle) -> Result<SocketAddr, TcpError> {
        Ok(self.user(handle)?.local)
    }

    /// getpeername(): `NotConnected` before connect or accept.
    pub fn peer_address(&self, handle: SocketHandle) -> Result<SocketAddr, TcpError> {
        let tcb = self.user(handle)?;
        if tcb.remote.port() == 0 {
            return Err(TcpError::NotConnected);
        }
        Ok(tcb.remote)
    }
}
