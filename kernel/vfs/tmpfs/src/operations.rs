//! tmpfs's vnode operations: the [`FileSystem`] implementation.

use alloc::vec::Vec;

use base::Context;
use hypercall::PAGE_SIZE;
use vfs::{
    Attributes, DirectoryEntry, EntrySink, Errno, FileSystem, NAME_MAX, NodeId, NodeKind,
    SetAttributes, StatVfs,
};

use crate::node::{Content, Directory, FileData, NODE_BYTES, Node, entry_bytes};
use crate::state::State;
use crate::{ROOT, Tmpfs, data};

impl Tmpfs {
    /// Makes a node of `content` named `name` in `directory`.
    fn make(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        content: Content,
        permissions: u16,
    ) -> Result<NodeId, Errno> {
        let now = context.time_of_day_ns();
        let mut state = self.state.lock();
        if state.directory(directory)?.get(name).is_some() {
            return Err(Errno::Exists);
        }
        let node = Node::new(content, permissions, now);
        let is_directory = node.kind() == NodeKind::Directory;
        let bytes = node.charged_bytes();
        state.charge(bytes)?;
        let id = state.add(node);
        if let Err(error) = state.enter(directory, name, id, now) {
            state.nodes.remove(&id);
            state.release(bytes);
            return Err(error);
        }
        if is_directory {
            state.node_mut(directory)?.links += 1;
        }
        Ok(id)
    }

    /// The node `name` in `directory`.
    fn entry(state: &State, directory: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        state.directory(directory)?.get(name).ok_or(Errno::NotFound)
    }
}

/// Takes the name `name` off `directory` and one link off the node it
/// named (all of a directory's), freeing the node if it is unreferenced.
fn remove_name(state: &mut State, directory: NodeId, name: &[u8], now: u64) -> Result<(), Errno> {
    let id = state.leave(directory, name, now)?;
    let node = state.node_mut(id)?;
    let was_directory = node.kind() == NodeKind::Directory;
    node.links = if was_directory { 0 } else { node.links - 1 };
    node.changed_ns = now;
    if was_directory {
        state.node_mut(directory)?.links -= 1;
    }
    state.free_if_unreferenced(id);
    Ok(())
}

impl FileSystem for Tmpfs {
    fn name(&self) -> &'static str {
        "tmpfs"
    }

    fn root(&self) -> NodeId {
        ROOT
    }

    fn lookup(&self, _: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let state = self.state.lock();
        let entries = state.directory(directory)?;
        if name == b".." {
            return Ok(entries.parent);
        }
        entries.get(name).ok_or(Errno::NotFound)
    }

    fn getattr(&self, _: &Context<'_>, node: NodeId) -> Result<Attributes, Errno> {
        let state = self.state.lock();
        let record = state.node(node)?;
        let (size, pages) = match &record.content {
            Content::File(data) => data::extent(data),
            Content::Directory(entries) => (entries.by_name.len() as u64, 0),
            Content::Symlink(target) => (target.len() as u64, 0),
        };
        Ok(Attributes {
            node,
            kind: record.kind(),
            permissions: record.permissions,
            links: record.links,
            size,
            blocks: pages * (PAGE_SIZE as u64 / 512),
            block_size: PAGE_SIZE as u32,
            accessed_ns: record.accessed_ns,
            modified_ns: record.modified_ns,
            changed_ns: record.changed_ns,
            user: 0,
            group: 0,
        })
    }

    fn setattr(
        &self,
        context: &Context<'_>,
        node: NodeId,
        changes: &SetAttributes,
    ) -> Result<Attributes, Errno> {
        let now = context.time_of_day_ns();
        {
            let mut state = self.state.lock();
            if let Some(size) = changes.size {
                data::resize(&mut state, node, size)?;
                state.node_mut(node)?.touch(now);
            }
            let record = state.node_mut(node)?;
            if let Some(permissions) = changes.permissions {
                record.permissions = permissions & 0o7777;
            }
            if let Some(accessed) = changes.accessed_ns {
                record.accessed_ns = accessed;
            }
            if let Some(modified) = changes.modified_ns {
                record.modified_ns = modified;
            }
            record.changed_ns = now;
        }
        self.getattr(context, node)
    }

    fn create(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        permissions: u16,
    ) -> Result<NodeId, Errno> {
        let content = Content::File(FileData::default());
        self.make(context, directory, name, content, permissions)
    }

    fn mkdir(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        permissions: u16,
    ) -> Result<NodeId, Errno> {
        let content = Content::Directory(Directory::new(directory));
        self.make(context, directory, name, content, permissions)
    }

    fn symlink(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        target: &[u8],
    ) -> Result<NodeId, Errno> {
        let content = Content::Symlink(target.to_vec());
        self.make(context, directory, name, content, 0o777)
    }

    fn link(
        &self,
        context: &Context<'_>,
        node: NodeId,
        directory: NodeId,
        name: &[u8],
    ) -> Result<(), Errno> {
        let now = context.time_of_day_ns();
        let mut state = self.state.lock();
        if state.directory(directory)?.get(name).is_some() {
            return Err(Errno::Exists);
        }
        let record = state.node(node)?;
        if record.kind() == NodeKind::Directory {
            return Err(Errno::NotPermitted);
        }
        if record.links == 0 || record.links == u32::MAX {
            return Err(if record.links == 0 {
                Errno::NotFound
            } else {
                Errno::TooManyLinks
            });
        }
        state.enter(directory, name, node, now)?;
        let record = state.node_mut(node)?;
        record.links += 1;
        record.changed_ns = now;
        Ok(())
    }

    fn unlink(&self, context: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<(), Errno> {
        let now = context.time_of_day_ns();
        let mut state = self.state.lock();
        let id = Self::entry(&state, directory, name)?;
        if state.node(id)?.kind() == NodeKind::Directory {
            return Err(Errno::IsDirectory);
        }
        remove_name(&mut state, directory, name, now)
    }

    fn rmdir(&self, context: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<(), Errno> {
        let now = context.time_of_day_ns();
        let mut state = self.state.lock();
        let id = Self::entry(&state, directory, name)?;
        if !state.directory(id)?.is_empty() {
            return Err(Errno::NotEmpty);
        }
        remove_name(&mut state, directory, name, now)
    }

    fn rename(
        &self,
        context: &Context<'_>,
        from_directory: NodeId,
        from_name: &[u8],
        to_directory: NodeId,
        to_name: &[u8],
    ) -> Result<(), Errno> {
        let now = context.time_of_day_ns();
        let mut state = self.state.lock();
        let moving = Self::entry(&state, from_directory, from_name)?;
        let replaced = state.directory(to_directory)?.get(to_name);
        if replaced == Some(moving) {
            return Ok(());
        }
        if let Some(replaced) = replaced
            && state
                .directory(replaced)
                .is_ok_and(|entries| !entries.is_empty())
        {
            return Err(Errno::NotEmpty);
        }
        // Charged first: a refusal changes nothing.
        state.charge(entry_bytes(to_name))?;
        if replaced.is_some() {
            remove_name(&mut state, to_directory, to_name, now)?;
        }
        state.leave(from_directory, from_name, now)?;
        state.insert_charged(to_directory, to_name, moving, now);
        move_directory(&mut state, moving, from_directory, to_directory);
        state.node_mut(moving)?.changed_ns = now;
        Ok(())
    }

    fn readlink(&self, _: &Context<'_>, node: NodeId) -> Result<Vec<u8>, Errno> {
        match &self.state.lock().node(node)?.content {
            Content::Symlink(target) => Ok(target.clone()),
            _ => Err(Errno::InvalidArgument),
        }
    }

    fn read_at(
        &self,
        _: &Context<'_>,
        node: NodeId,
        offset: u64,
        buffer: &mut [u8],
    ) -> Result<usize, Errno> {
        data::read(&mut self.state.lock(), node, offset, buffer)
    }

    fn write_at(
        &self,
        context: &Context<'_>,
        node: NodeId,
        offset: u64,
        bytes: &[u8],
    ) -> Result<usize, Errno> {
        let now = context.time_of_day_ns();
        let mut state = self.state.lock();
        let written = data::write(&mut state, node, offset, bytes)?;
        state.node_mut(node)?.touch(now);
        Ok(written)
    }

    fn readdir(
        &self,
        _: &Context<'_>,
        directory: NodeId,
        cookie: u64,
        sink: &mut EntrySink<'_>,
    ) -> Result<(), Errno> {
        let state = self.state.lock();
        let entries = state.directory(directory)?;
        for (&order, name) in entries.by_order.range(cookie..) {
            let node = entries.get(name).expect("both indexes agree");
            let entry = DirectoryEntry {
                name,
                node,
                kind: state.node(node)?.kind(),
                next: order + 1,
            };
            if !sink(&entry) {
                break;
            }
        }
        Ok(())
    }

    fn statvfs(&self, _: &Context<'_>) -> Result<StatVfs, Errno> {
        let state = self.state.lock();
        let free = state.limit().saturating_sub(state.used());
        Ok(StatVfs {
            block_size: PAGE_SIZE as u32,
            blocks: (state.limit() / PAGE_SIZE) as u64,
            free_blocks: (free / PAGE_SIZE) as u64,
            available_blocks: (free / PAGE_SIZE) as u64,
            files: (state.limit() / NODE_BYTES) as u64,
            free_files: (free / NODE_BYTES) as u64,
            name_max: NAME_MAX as u32,
            read_only: false,
        })
    }

    fn opened(&self, node: NodeId) {
        if let Ok(record) = self.state.lock().node_mut(node) {
            record.opened += 1;
        }
    }

    fn released(&self, node: NodeId) {
        let mut state = self.state.lock();
        if let Ok(record) = state.node_mut(node) {
            record.opened = record.opened.saturating_sub(1);
            state.free_if_unreferenced(node);
        }
    }
}

/// Re-parents a directory moved from `from` to `to` (and their links).
fn move_directory(state: &mut State, moving: NodeId, from: NodeId, to: NodeId) {
    let Ok(entries) = state.directory_mut(moving) else {
        return;
    };
    entries.parent = to;
    if from != to {
        if let Ok(record) = state.node_mut(from) {
            record.links -= 1;
        }
        if let Ok(record) = state.node_mut(to) {
            record.links += 1;
        }
    }
}
