//! tmpfs nodes: a file's pages, a directory's entries, a link's target.
//!
//! A directory lists its entries twice: by name, for lookups, and by the
//! sequence number each got when it was added, for listings that continue
//! from a cookie (a removed entry does not shift the ones after it).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use base::memory::Pages;
use vfs::{NodeId, NodeKind};

/// What a node holds besides its content: its record, ids and times.
pub(crate) const NODE_BYTES: usize = core::mem::size_of::<Node>() + 64;

/// What one directory entry holds besides its name (stored twice).
pub(crate) const ENTRY_BYTES: usize = 96;

/// What a directory entry of `name` costs.
pub(crate) fn entry_bytes(name: &[u8]) -> usize {
    ENTRY_BYTES + 2 * name.len()
}

/// A regular file: a length and the pages that are not holes.
#[derive(Default)]
pub(crate) struct FileData {
    pub(crate) size: u64,
    pub(crate) pages: BTreeMap<u64, Pages>,
}

/// A directory's entries.
pub(crate) struct Directory {
    pub(crate) parent: NodeId,
    pub(crate) by_name: BTreeMap<Vec<u8>, (NodeId, u64)>,
    pub(crate) by_order: BTreeMap<u64, Vec<u8>>,
    /// The sequence number (and listing cookie) of the next entry; 0 is
    /// the start of a listing, so entries count from 1.
    next: u64,
}

impl Directory {
    pub(crate) fn new(parent: NodeId) -> Self {
        Self {
            parent,
            by_name: BTreeMap::new(),
            by_order: BTreeMap::new(),
            next: 1,
        }
    }

    pub(crate) fn get(&self, name: &[u8]) -> Option<NodeId> {
        self.by_name.get(name).map(|&(node, _)| node)
    }

    pub(crate) fn insert(&mut self, name: &[u8], node: NodeId) {
        let order = self.next;
        self.next += 1;
        self.by_name.insert(name.to_vec(), (node, order));
        self.by_order.insert(order, name.to_vec());
    }

    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<NodeId> {
        let (node, order) = self.by_name.remove(name)?;
        self.by_order.remove(&order);
        Some(node)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// A node's content.
pub(crate) enum Content {
    File(FileData),
    Directory(Directory),
    Symlink(Vec<u8>),
}

/// A node.
pub(crate) struct Node {
    pub(crate) content: Content,
    pub(crate) permissions: u16,
    /// Names (for a directory: 2 plus its subdirectories, as on Linux).
    pub(crate) links: u32,
    /// Open files referring to it: an unlinked node stays until 0.
    pub(crate) opened: u32,
    pub(crate) accessed_ns: u64,
    pub(crate) modified_ns: u64,
    pub(crate) changed_ns: u64,
}

impl Node {
    pub(crate) fn new(content: Content, permissions: u16, now: u64) -> Self {
        let links = match content {
            Content::Directory(_) => 2,
            _ => 1,
        };
        Self {
            content,
            permissions,
            links,
            opened: 0,
            accessed_ns: now,
            modified_ns: now,
            changed_ns: now,
        }
    }

    pub(crate) fn kind(&self) -> NodeKind {
        match self.content {
            Content::File(_) => NodeKind::File,
            Content::Directory(_) => NodeKind::Directory,
            Content::Symlink(_) => NodeKind::Symlink,
        }
    }

    /// Whether nothing refers to it any more.
    pub(crate) fn is_unreferenced(&self) -> bool {
        self.links == 0 && self.opened == 0
    }

    /// Bytes charged for it besides its pages.
    pub(crate) fn charged_bytes(&self) -> usize {
        match &self.content {
            Content::Symlink(target) => NODE_BYTES + target.len(),
            _ => NODE_BYTES,
        }
    }

    /// Marks a change of the data.
    pub(crate) fn touch(&mut self, now: u64) {
        self.modified_ns = now;
        self.changed_ns = now;
    }
}
