//! A socket's role: who holds it, and which table or queue it sits in.
//!
//! One enum replaces what were six booleans and two options (`bound`,
//! `registered`, `user_owned`, `in_syn_queue`, `in_accept_queue`,
//! `passive`, `parent`, `listener`) and `connected`, whose legal
//! combinations were written nowhere. The engine's tables follow the role:
//! the connection map holds exactly the [`Role::Connection`] sockets, the
//! listener map exactly the [`Role::Listening`] ones.

use alloc::boxed::Box;
use alloc::collections::VecDeque;

use super::State;
use crate::SocketHandle;

/// What a socket is to the user and to the engine's tables.
///
/// ```text
///   open ──► Unbound ──bind──► Bound ──listen──► Listening ──close──► (freed)
///               │  ▲             │
///        connect│  │failed       │connect
///               ▼  │             ▼
///   Connection(User) ◄───────────┘          a listener's SYN
///      │        │                                  │
///      │close   │closed after the handshake        ▼
///      ▼        └──────────► Finished     Connection(SynQueue)
///   Connection(Released)                           │handshake done
///      │closed                                     ▼
///      ▼                                  Connection(AcceptQueue)
///   (freed)                                        │accept
///                                                  ▼
///                                         Connection(User)
/// ```
///
/// A child that fails its handshake or closes before `accept`, and every
/// child of a listener that closes, is freed. Closing an Unbound, Bound,
/// Listening or Finished socket frees it at once.
#[derive(Debug)]
pub enum Role {
    /// A user's socket that holds no port: fresh from `open`, or after a
    /// connect that failed before its handshake completed. CLOSED.
    Unbound,
    /// A user's socket holding its local port (bind), not connected. CLOSED.
    Bound,
    /// A user's listener, in the listener map. LISTEN. (Boxed: listeners
    /// are few, and the role of every connection stays two words.)
    Listening(Box<Listener>),
    /// A connection, in the connection map under its 4-tuple: SYN-SENT up
    /// to TIME-WAIT. At CLOSED (`arrival::close_connection`) the user's
    /// turns Finished or Unbound at once; the engine's `settle` then takes
    /// it out of the map, or frees a connection nobody holds, before the
    /// call returns.
    Connection(Owner),
    /// A user's socket whose connection ended after its handshake
    /// completed: it holds no port, `recv` reports end of file, and it
    /// cannot be bound or connected again. CLOSED.
    Finished,
}

/// Who holds a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A user's handle (connect, or a child `accept` took).
    User,
    /// Nobody: the user closed it and the engine finishes the close in the
    /// background, then frees it.
    Released,
    /// The listener named: a child in its SYN queue, in SYN-RECEIVED.
    SynQueue(SocketHandle),
    /// The listener named: a child whose handshake completed, in its
    /// accept queue until `accept` takes it.
    AcceptQueue(SocketHandle),
}

/// The accept side of a listening socket.
#[derive(Debug, Default)]
pub struct Listener {
    /// Connections accept may hold at most.
    pub backlog: usize,
    /// Established children waiting for accept, oldest first.
    pub accept_queue: VecDeque<SocketHandle>,
    /// Children in SYN-RECEIVED (those whose owner is its SYN queue; its
    /// policy is in `listen.rs`).
    pub syn_received: usize,
    /// When it last answered a SYN with a cookie: ACKs are checked as
    /// returning cookies for two minutes after.
    pub cookie_sent_ns: Option<u64>,
}

impl Listener {
    /// The heap bytes of a listener whose accept queue has room for
    /// `backlog`: what `listen` charges. The queue never grows past that
    /// room, because a listener admits no child beyond its backlog.
    pub const fn bytes_for(backlog: usize) -> usize {
        core::mem::size_of::<Self>() + backlog * core::mem::size_of::<SocketHandle>()
    }

    /// The heap bytes this listener holds.
    pub fn footprint(&self) -> usize {
        Self::bytes_for(self.accept_queue.capacity())
    }

    /// Makes room for `backlog` children, charging it; false if refused.
    pub fn make_room(&mut self, backlog: usize, charges: &mut crate::memory::Charges) -> bool {
        let capacity = self.accept_queue.capacity();
        if backlog <= capacity {
            return true;
        }
        let bytes = (backlog - capacity) * core::mem::size_of::<SocketHandle>();
        if !charges.charge(bytes) {
            return false;
        }
        let additional = backlog - self.accept_queue.len();
        if self.accept_queue.try_reserve_exact(additional).is_err() {
            charges.release(bytes);
            return false;
        }
        true
    }
}

/// How a child's move changes its listener's queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueChange {
    /// The handshake completed: out of the SYN queue, into the accept queue.
    Completed,
    /// The handshake failed: out of the SYN queue.
    Failed,
    /// Closed while waiting for accept: out of the accept queue.
    Dropped,
}

impl Role {
    /// A user handle names this socket.
    pub const fn is_user_held(&self) -> bool {
        !matches!(
            self,
            Self::Connection(Owner::Released | Owner::SynQueue(_) | Owner::AcceptQueue(_))
        )
    }

    /// The socket holds its local port.
    pub const fn holds_port(&self) -> bool {
        matches!(self, Self::Bound | Self::Listening(_) | Self::Connection(_))
    }

    /// The socket is in the connection map.
    pub const fn is_connection(&self) -> bool {
        matches!(self, Self::Connection(_))
    }

    /// A listener child still in the handshake (in the SYN queue).
    pub const fn in_syn_queue(&self) -> bool {
        matches!(self, Self::Connection(Owner::SynQueue(_)))
    }

    /// The listener of a child not yet accepted.
    pub const fn parent(&self) -> Option<SocketHandle> {
        match self {
            Self::Connection(Owner::SynQueue(listener) | Owner::AcceptQueue(listener)) => {
                Some(*listener)
            }
            _ => None,
        }
    }

    /// The accept side, for a listener.
    pub const fn listener(&self) -> Option<&Listener> {
        match self {
            Self::Listening(listener) => Some(listener),
            _ => None,
        }
    }

    /// Mutable [`Role::listener`].
    pub const fn listener_mut(&mut self) -> Option<&mut Listener> {
        match self {
            Self::Listening(listener) => Some(listener),
            _ => None,
        }
    }

    /// bind(): Unbound → Bound.
    pub fn bind(&mut self) {
        self.step(matches!(self, Self::Unbound), Self::Bound);
    }

    /// listen(): Bound → Listening with `listener`, an empty accept queue
    /// that [`Listener::make_room`] gave room for `backlog`.
    pub fn listen(&mut self, backlog: usize, mut listener: Listener) {
        listener.backlog = backlog;
        let listener = Box::new(listener);
        self.step(matches!(self, Self::Bound), Self::Listening(listener));
    }

    /// connect(): Unbound or Bound → a connection the user holds.
    pub fn connect(&mut self) {
        let from = matches!(self, Self::Unbound | Self::Bound);
        self.step(from, Self::Connection(Owner::User));
    }

    /// A listener took a SYN: a fresh socket becomes its child, in its SYN
    /// queue.
    pub fn adopt(&mut self, listener: SocketHandle) {
        let from = matches!(self, Self::Unbound);
        self.step(from, Self::Connection(Owner::SynQueue(listener)));
    }

    /// accept(): a child in the accept queue becomes the user's.
    pub fn accept(&mut self) {
        let from = matches!(self, Self::Connection(Owner::AcceptQueue(_)));
        self.step(from, Self::Connection(Owner::User));
    }

    /// close() or abort() of a connection the user holds: nobody holds it
    /// any more. (Other roles are freed at once by the caller.)
    pub fn release(&mut self) {
        if let Self::Connection(owner @ Owner::User) = self {
            *owner = Owner::Released;
        }
    }

    /// The listener closes: its child is nobody's.
    pub fn disown(&mut self) {
        if let Self::Connection(owner @ (Owner::SynQueue(_) | Owner::AcceptQueue(_))) = self {
            *owner = Owner::Released;
        }
    }

    /// The connection reached CLOSED (`handshake_completed`: it had been
    /// synchronized). The user's becomes Finished, or Unbound again after
    /// a failed connect; other owners' are freed by the engine.
    pub fn connection_closed(&mut self, handshake_completed: bool) {
        if matches!(self, Self::Connection(Owner::User)) {
            *self = if handshake_completed {
                Self::Finished
            } else {
                Self::Unbound
            };
        }
    }

    /// A child's state moved on: from the SYN queue into the accept queue
    /// once synchronized, out of either queue once CLOSED (to be freed).
    /// Returns the listener and what its queues must do.
    pub fn follow_child(&mut self, state: State) -> Option<(SocketHandle, QueueChange)> {
        let Self::Connection(owner) = self else {
            return None;
        };
        let closed = state == State::Closed;
        let (listener, next, change) = match *owner {
            Owner::SynQueue(listener) if state.is_synchronized() => (
                listener,
                Owner::AcceptQueue(listener),
                QueueChange::Completed,
            ),
            Owner::SynQueue(listener) if closed => (listener, Owner::Released, QueueChange::Failed),
            Owner::AcceptQueue(listener) if closed => {
                (listener, Owner::Released, QueueChange::Dropped)
            }
            _ => return None,
        };
        *owner = next;
        Some((listener, change))
    }

    /// Moves to `to` if `legal` (the role is one the move starts from); an
    /// illegal move is an engine bug, caught in debug builds and ignored
    /// in release ones.
    fn step(&mut self, legal: bool, to: Self) {
        debug_assert!(legal, "illegal role change from {self:?} to {to:?}");
        if legal {
            *self = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(index: u32) -> SocketHandle {
        SocketHandle {
            index,
            generation: 0,
        }
    }

    #[test]
    fn a_child_moves_from_the_syn_queue_through_the_accept_queue_to_the_user() {
        let listener = handle(1);
        let mut child = Role::Unbound;
        child.adopt(listener);
        assert!(child.in_syn_queue() && !child.is_user_held());
        assert_eq!(child.follow_child(State::SynReceived), None);
        let completed = child.follow_child(State::Established);
        assert_eq!(completed, Some((listener, QueueChange::Completed)));
        assert_eq!(child.parent(), Some(listener));
        assert_eq!(child.follow_child(State::CloseWait), None);
        child.accept();
        assert!(matches!(child, Role::Connection(Owner::User)));
        assert_eq!(child.parent(), None);
    }

    #[test]
    fn a_child_that_closes_leaves_its_queue_to_be_freed() {
        let listener = handle(1);
        let mut failed = Role::Unbound;
        failed.adopt(listener);
        let change = failed.follow_child(State::Closed);
        assert_eq!(change, Some((listener, QueueChange::Failed)));
        assert!(!failed.is_user_held() && failed.parent().is_none());

        let mut dropped = Role::Connection(Owner::AcceptQueue(listener));
        let change = dropped.follow_child(State::Closed);
        assert_eq!(change, Some((listener, QueueChange::Dropped)));
        assert!(matches!(dropped, Role::Connection(Owner::Released)));
    }

    #[test]
    fn a_user_connection_ends_finished_or_unbound_holding_no_port() {
        let mut connected = Role::Bound;
        connected.connect();
        assert!(connected.holds_port() && connected.is_user_held());
        connected.connection_closed(true);
        assert!(matches!(connected, Role::Finished) && !connected.holds_port());

        let mut failed = Role::Unbound;
        failed.connect();
        failed.connection_closed(false);
        assert!(matches!(failed, Role::Unbound));

        let mut released = Role::Connection(Owner::User);
        released.release();
        released.connection_closed(true);
        assert!(matches!(released, Role::Connection(Owner::Released)));
        assert!(!released.is_user_held());
    }

    #[test]
    #[should_panic(expected = "illegal role change")]
    fn an_illegal_move_is_caught_in_debug_builds() {
        let mut listening = Role::Bound;
        listening.listen(8, Listener::default());
        listening.connect();
    }
}
