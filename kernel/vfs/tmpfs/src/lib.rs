//! tmpfs: a file system in the kernel's memory, bounded by its limit.
//!
//! Files, directories, symbolic links, hard links and sparse files (holes
//! read as zeros), with timestamps from the kernel's time of day. Every
//! byte it holds is charged to the kernel's `tmpfs` account and counted
//! against the mount's size ([`Tmpfs::new`]); when either says no, the
//! operation fails with ENOSPC and changes nothing (a write that had
//! written some stops short). A node goes when its last name and its last
//! open file are gone.
//!
//! The `tmpfs` component mounts one at the root when nothing is mounted
//! there yet, sized by the boot parameter `tmpfs.size=` (e.g. `16M`), or
//! half the kernel's memory limit.
//!
//! One spin lock guards the state. It is held for one operation, never
//! across a sleep: nothing here blocks.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod data;
mod node;
mod operations;
mod state;

use alloc::sync::Arc;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use base::memory::Account;
use log::warn;
use vfs::{MountOptions, NodeId, Vfs};

use crate::node::{Content, Directory, NODE_BYTES, Node};
use crate::state::State;

/// The root directory's number.
const ROOT: NodeId = 1;

/// A tmpfs instance.
pub struct Tmpfs {
    state: spin::Mutex<State>,
}

/// The component: a tmpfs at the root, unless something is there.
pub static TMPFS: Component = Component {
    name: "tmpfs",
    level: InitLevel::Vfs,
    requires: &["vfs"],
    init: init_tmpfs,
};

fn init_tmpfs(context: &Context<'_>) -> Result<(), ComponentError> {
    let vfs = Vfs::of(context).ok_or(ComponentError::Failed("the vfs did not start"))?;
    if vfs.has_root() {
        return Ok(());
    }
    let kernel = context.kernel();
    let half = kernel.memory().stats().limit / 2;
    let size = kernel
        .params()
        .get_size("tmpfs.size")
        .unwrap_or_else(|error| {
            warn!("{error}; tmpfs takes half the memory limit");
            None
        });
    let tmpfs =
        Tmpfs::new(context, size.unwrap_or(half)).map_err(|_| ComponentError::OutOfMemory)?;
    vfs.mount(context, "/", tmpfs, MountOptions::default())
        .map_err(|_| ComponentError::Failed("cannot mount tmpfs at the root"))
}

impl Tmpfs {
    /// An empty tmpfs holding at most `size` bytes, charged to the
    /// kernel's `tmpfs` account.
    ///
    /// # Errors
    /// [`vfs::Errno::NoSpace`] when not even the root directory fits.
    pub fn new(context: &Context<'_>, size: usize) -> Result<Arc<Self>, vfs::Errno> {
        let account = context.kernel().memory().account("tmpfs");
        Self::with_account(context, account, size)
    }

    /// As [`Tmpfs::new`], charging `account`.
    ///
    /// # Errors
    /// As [`Tmpfs::new`].
    pub fn with_account(
        context: &Context<'_>,
        account: Account,
        size: usize,
    ) -> Result<Arc<Self>, vfs::Errno> {
        let mut state = State::new(account, size);
        state.charge(NODE_BYTES)?;
        let root = Node::new(
            Content::Directory(Directory::new(ROOT)),
            0o755,
            context.time_of_day_ns(),
        );
        let id = state.add(root);
        debug_assert_eq!(id, ROOT);
        Ok(Arc::new(Self {
            state: spin::Mutex::new(state),
        }))
    }

    /// Bytes it holds now (data pages, nodes, entries, link targets).
    pub fn used_bytes(&self) -> usize {
        self.state.lock().used()
    }

    /// Nodes it holds now, open unlinked ones included.
    pub fn node_count(&self) -> usize {
        self.state.lock().nodes.len()
    }
}

impl core::fmt::Debug for Tmpfs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Tmpfs")
            .field("nodes", &state.nodes.len())
            .field("used", &state.used())
            .field("limit", &state.limit())
            .finish()
    }
}
