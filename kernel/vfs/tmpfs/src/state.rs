//! tmpfs's state: its nodes and what they are charged.
//!
//! Every byte tmpfs holds is charged to the kernel's `tmpfs` account and
//! counted against the mount's size: pages of file data one by one, and
//! each node, directory entry and link target by its
//! [`charged_bytes`](crate::node::Node::charged_bytes) or
//! [`entry_bytes`]. A charge that the size or the kernel's limit refuses
//! is ENOSPC, and the operation changes nothing.

use alloc::collections::BTreeMap;

use base::memory::{Account, Pages};
use hypercall::PAGE_SIZE;
use vfs::{Errno, NodeId};

use crate::node::{Content, Node, entry_bytes};

/// The nodes and the counts.
pub(crate) struct State {
    pub(crate) nodes: BTreeMap<NodeId, Node>,
    next_node: NodeId,
    /// Bytes charged for nodes, entries and link targets.
    metadata: usize,
    /// Pages of file data held.
    pages: usize,
    /// The most bytes the mount may hold.
    limit: usize,
    account: Account,
}

impl State {
    pub(crate) fn new(account: Account, limit: usize) -> Self {
        Self {
            nodes: BTreeMap::new(),
            next_node: 1,
            metadata: 0,
            pages: 0,
            limit,
            account,
        }
    }

    /// Bytes held.
    pub(crate) fn used(&self) -> usize {
        self.metadata + self.pages * PAGE_SIZE
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Charges `bytes` of metadata, or ENOSPC.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), Errno> {
        if self.used().saturating_add(bytes) > self.limit {
            return Err(Errno::NoSpace);
        }
        self.account.charge(bytes).map_err(|_| Errno::NoSpace)?;
        self.metadata += bytes;
        Ok(())
    }

    /// Gives back `bytes` of metadata.
    pub(crate) fn release(&mut self, bytes: usize) {
        self.account.release(bytes);
        self.metadata -= bytes;
    }

    /// A zeroed page for file data, or ENOSPC.
    pub(crate) fn page(&mut self) -> Result<Pages, Errno> {
        if self.used().saturating_add(PAGE_SIZE) > self.limit {
            return Err(Errno::NoSpace);
        }
        let page = self.account.alloc_pages(1).map_err(|_| Errno::NoSpace)?;
        self.pages += 1;
        Ok(page)
    }

    /// Notes that `count` pages were dropped.
    pub(crate) fn pages_freed(&mut self, count: usize) {
        self.pages -= count;
    }

    /// Adds `node` (its bytes charged by the caller); its number.
    pub(crate) fn add(&mut self, node: Node) -> NodeId {
        let id = self.next_node;
        self.next_node += 1;
        self.nodes.insert(id, node);
        id
    }

    pub(crate) fn node(&self, id: NodeId) -> Result<&Node, Errno> {
        self.nodes.get(&id).ok_or(Errno::NotFound)
    }

    pub(crate) fn node_mut(&mut self, id: NodeId) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&id).ok_or(Errno::NotFound)
    }

    /// Drops `id` and gives back what it held, if nothing refers to it.
    pub(crate) fn free_if_unreferenced(&mut self, id: NodeId) {
        if !self.nodes.get(&id).is_some_and(Node::is_unreferenced) {
            return;
        }
        let node = self.nodes.remove(&id).expect("looked up just above");
        self.release(node.charged_bytes());
        if let Content::File(data) = node.content {
            self.pages_freed(data.pages.len());
        }
    }

    /// The entries of directory `id`, or ENOTDIR.
    pub(crate) fn directory(&self, id: NodeId) -> Result<&crate::node::Directory, Errno> {
        match &self.node(id)?.content {
            Content::Directory(directory) => Ok(directory),
            _ => Err(Errno::NotDirectory),
        }
    }

    pub(crate) fn directory_mut(
        &mut self,
        id: NodeId,
    ) -> Result<&mut crate::node::Directory, Errno> {
        match &mut self.node_mut(id)?.content {
            Content::Directory(directory) => Ok(directory),
            _ => Err(Errno::NotDirectory),
        }
    }

    /// Adds the entry `name` → `node` to `directory`, charged, and marks
    /// the directory changed.
    pub(crate) fn enter(
        &mut self,
        directory: NodeId,
        name: &[u8],
        node: NodeId,
        now: u64,
    ) -> Result<(), Errno> {
        self.directory(directory)?;
        self.charge(entry_bytes(name))?;
        self.insert_charged(directory, name, node, now);
        Ok(())
    }

    /// [`State::enter`] for an entry whose bytes are charged already, into
    /// a directory known to exist.
    pub(crate) fn insert_charged(
        &mut self,
        directory: NodeId,
        name: &[u8],
        node: NodeId,
        now: u64,
    ) {
        if let Ok(parent) = self.node_mut(directory) {
            parent.touch(now);
            if let Content::Directory(entries) = &mut parent.content {
                entries.insert(name, node);
            }
        }
    }

    /// Removes the entry `name` of `directory`; the node it named.
    pub(crate) fn leave(
        &mut self,
        directory: NodeId,
        name: &[u8],
        now: u64,
    ) -> Result<NodeId, Errno> {
        let parent = self.node_mut(directory)?;
        parent.touch(now);
        let Content::Directory(entries) = &mut parent.content else {
            return Err(Errno::NotDirectory);
        };
        let node = entries.remove(name).ok_or(Errno::NotFound)?;
        self.release(entry_bytes(name));
        Ok(node)
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.account.release(self.metadata);
    }
}
