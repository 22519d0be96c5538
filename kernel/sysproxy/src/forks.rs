//! Forks of a client (the seeds' prefork): a copy of its descriptor table
//! kept under an unguessable token until the child connects with it.
//!
//! A remote program that forks shares its sockets with the child, as
//! Linux's fork does: the `fork` call copies the caller's descriptor
//! table (the same sockets at the same numbers; a socket closes when the
//! last table holding it lets go), and the child's first connection
//! presents the token in its hello to take the copy as its own process's
//! table. A copy that no child claims within
//! [`FORK_CLAIM_SECONDS`] is dropped, closing what only it held; expired
//! copies are dropped whenever a fork is prepared or claimed and whenever
//! a client ends. A client may have at most [`MOST_PENDING`] copies
//! waiting, the server [`MOST_PENDING_IN_ALL`].

use alloc::collections::BTreeMap;

use base::descriptor::DescriptorTable;
use base::{Context, Process};
use net::Net;
use sysproxy_proto::Errno;
use sysproxy_proto::handshake::{FORK_CLAIM_SECONDS, HandshakeRefusal};
use sysproxy_proto::types::ForkToken;

use crate::handler::Caller;

/// Prepared forks waiting per client at most.
pub const MOST_PENDING: usize = 16;
/// Prepared forks waiting in the whole server at most.
pub const MOST_PENDING_IN_ALL: usize = 256;

/// One prepared fork.
struct Pending {
    table: DescriptorTable,
    /// The client that prepared it.
    parent: u64,
    /// When it stops waiting, in the kernel's nanoseconds.
    deadline_ns: u64,
}

/// The prepared forks of a server, by token.
#[derive(Default)]
pub(crate) struct Forks {
    pending: spin::Mutex<BTreeMap<[u8; 16], Pending>>,
}

impl Forks {
    /// Prepares a fork of `caller`'s client: its token.
    ///
    /// # Errors
    /// [`Errno::WouldBlock`] past the limits (fork's EAGAIN),
    /// [`Errno::NoBuffers`] when memory or randomness is refused.
    pub fn prepare(&self, caller: &Caller<'_>) -> Result<ForkToken, Errno> {
        let context = caller.context;
        let session = caller.session;
        let table = session
            .process
            .fork_descriptors()
            .map_err(|_| Errno::NoBuffers)?;
        let mut token = [0u8; 16];
        let random = context.kernel().hypercalls().random_fill(&mut token);
        random.map_err(|_| Errno::NoBuffers)?;
        let deadline_ns = context.now_ns() + FORK_CLAIM_SECONDS * 1_000_000_000;
        let expired = {
            let mut pending = self.pending.lock();
            let expired = take_expired(&mut pending, context.now_ns());
            let mine = pending.values().filter(|p| p.parent == session.number);
            if mine.count() >= MOST_PENDING || pending.len() >= MOST_PENDING_IN_ALL {
                return Err(Errno::WouldBlock);
            }
            let parent = session.number;
            let fork = Pending {
                table,
                parent,
                deadline_ns,
            };
            pending.insert(token, fork);
            expired
        };
        let net = caller.net();
        close(context, net, expired);
        Ok(ForkToken(token))
    }

    /// Gives `child` (a new client's process, with no descriptors yet)
    /// the descriptors prepared under `token`.
    ///
    /// # Errors
    /// [`HandshakeRefusal::Fork`]: no such token (unknown, used, expired),
    /// or the copy does not fit the child's limits.
    pub fn claim(
        &self,
        context: &Context<'_>,
        net: &Net,
        token: ForkToken,
        child: &Process,
    ) -> Result<(), HandshakeRefusal> {
        let (fork, expired) = {
            let mut pending = self.pending.lock();
            let expired = take_expired(&mut pending, context.now_ns());
            (pending.remove(&token.0), expired)
        };
        close(context, net, expired);
        let fork = fork.ok_or(HandshakeRefusal::Fork)?;
        let inherited = child.inherit_descriptors(&fork.table);
        close(context, net, alloc::vec![fork]);
        inherited.map_err(|_| HandshakeRefusal::Fork)
    }

    /// Drops the copies whose time is up (called as clients end).
    pub fn expire(&self, context: &Context<'_>, net: &Net) {
        let expired = take_expired(&mut self.pending.lock(), context.now_ns());
        close(context, net, expired);
    }

    /// Copies waiting now.
    pub fn waiting(&self) -> usize {
        self.pending.lock().len()
    }
}

/// Drops `forks` with no lock held; sockets only they held close, and
/// the stack is told at once (it would otherwise notice at its next turn).
fn close(context: &Context<'_>, net: &Net, forks: alloc::vec::Vec<Pending>) {
    if !forks.is_empty() {
        drop(forks);
        net.with_stack(context, |_| ());
    }
}

impl core::fmt::Debug for Forks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Forks")
            .field("waiting", &self.waiting())
            .finish()
    }
}

/// Takes the copies past their deadline out of `pending`, for the caller
/// to drop once the lock is released (dropping closes sockets).
fn take_expired(
    pending: &mut BTreeMap<[u8; 16], Pending>,
    now_ns: u64,
) -> alloc::vec::Vec<Pending> {
    let tokens: alloc::vec::Vec<[u8; 16]> = pending
        .iter()
        .filter(|(_, fork)| fork.deadline_ns <= now_ns)
        .map(|(token, _)| *token)
        .collect();
    tokens
        .iter()
        .filter_map(|token| pending.remove(token))
        .collect()
}
