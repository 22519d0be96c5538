//! cpiofs's vnode operations: lookups and reads; every change is EROFS.

use alloc::vec::Vec;

use base::Context;
use vfs::{
    Attributes, DirectoryEntry, EntrySink, Errno, FileSystem, NAME_MAX, NodeId, SetAttributes,
    StatVfs,
};

use crate::{Content, CpioFs};

/// The unit of `blocks` and `statvfs`.
const BLOCK: u64 = 512;

impl FileSystem for CpioFs {
    fn name(&self) -> &'static str {
        "cpiofs"
    }

    fn root(&self) -> NodeId {
        1
    }

    fn read_only(&self) -> bool {
        true
    }

    fn lookup(&self, _: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<NodeId, Errno> {
        let node = self.node(directory)?;
        let Content::Directory(entries) = &node.content else {
            return Err(Errno::NotDirectory);
        };
        if name == b".." {
            return Ok(node.parent);
        }
        let found = entries.binary_search_by(|entry| entry.0.cmp(name));
        found.map(|at| entries[at].1).map_err(|_| Errno::NotFound)
    }

    fn getattr(&self, _: &Context<'_>, id: NodeId) -> Result<Attributes, Errno> {
        let node = self.node(id)?;
        let (size, links) = match &node.content {
            Content::File(data) | Content::Symlink(data) => (data.len() as u64, 1),
            Content::Directory(entries) => (entries.len() as u64, 2),
        };
        Ok(Attributes {
            node: id,
            kind: node.kind(),
            permissions: node.permissions,
            links,
            size,
            blocks: size.div_ceil(BLOCK),
            block_size: 4096,
            accessed_ns: node.modified_ns,
            modified_ns: node.modified_ns,
            changed_ns: node.modified_ns,
            user: 0,
            group: 0,
        })
    }

    fn setattr(&self, _: &Context<'_>, _: NodeId, _: &SetAttributes) -> Result<Attributes, Errno> {
        Err(Errno::ReadOnly)
    }

    fn create(&self, _: &Context<'_>, _: NodeId, _: &[u8], _: u16) -> Result<NodeId, Errno> {
        Err(Errno::ReadOnly)
    }

    fn mkdir(&self, _: &Context<'_>, _: NodeId, _: &[u8], _: u16) -> Result<NodeId, Errno> {
        Err(Errno::ReadOnly)
    }

    fn symlink(&self, _: &Context<'_>, _: NodeId, _: &[u8], _: &[u8]) -> Result<NodeId, Errno> {
        Err(Errno::ReadOnly)
    }

    fn link(&self, _: &Context<'_>, _: NodeId, _: NodeId, _: &[u8]) -> Result<(), Errno> {
        Err(Errno::ReadOnly)
    }

    fn unlink(&self, _: &Context<'_>, _: NodeId, _: &[u8]) -> Result<(), Errno> {
        Err(Errno::ReadOnly)
    }

    fn rmdir(&self, _: &Context<'_>, _: NodeId, _: &[u8]) -> Result<(), Errno> {
        Err(Errno::ReadOnly)
    }

    fn rename(
        &self,
        _: &Context<'_>,
        _: NodeId,
        _: &[u8],
        _: NodeId,
        _: &[u8],
    ) -> Result<(), Errno> {
        Err(Errno::ReadOnly)
    }

    fn readlink(&self, _: &Context<'_>, id: NodeId) -> Result<Vec<u8>, Errno> {
        match &self.node(id)?.content {
            Content::Symlink(target) => Ok(target.to_vec()),
            _ => Err(Errno::InvalidArgument),
        }
    }

    fn read_at(
        &self,
        _: &Context<'_>,
        id: NodeId,
        offset: u64,
        buffer: &mut [u8],
    ) -> Result<usize, Errno> {
        let data = match &self.node(id)?.content {
            Content::File(data) => *data,
            Content::Directory(_) => return Err(Errno::IsDirectory),
            Content::Symlink(_) => return Err(Errno::InvalidArgument),
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let count = buffer.len().min(data.len() - start);
        buffer[..count].copy_from_slice(&data[start..start + count]);
        Ok(count)
    }

    fn write_at(&self, _: &Context<'_>, _: NodeId, _: u64, _: &[u8]) -> Result<usize, Errno> {
        Err(Errno::ReadOnly)
    }

    fn readdir(
        &self,
        _: &Context<'_>,
        directory: NodeId,
        cookie: u64,
        sink: &mut EntrySink<'_>,
    ) -> Result<(), Errno> {
        let Content::Directory(entries) = &self.node(directory)?.content else {
            return Err(Errno::NotDirectory);
        };
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        for (at, &(name, node)) in entries.iter().enumerate().skip(start) {
            let entry = DirectoryEntry {
                name,
                node,
                kind: self.node(node)?.kind(),
                next: at as u64 + 1,
            };
            if !sink(&entry) {
                break;
            }
        }
        Ok(())
    }

    fn statvfs(&self, _: &Context<'_>) -> Result<StatVfs, Errno> {
        let bytes: u64 = self
            .nodes
            .iter()
            .map(|node| match node.content {
                Content::File(data) => data.len() as u64,
                _ => 0,
            })
            .sum();
        Ok(StatVfs {
            block_size: BLOCK as u32,
            blocks: bytes.div_ceil(BLOCK),
            free_blocks: 0,
            available_blocks: 0,
            files: self.nodes.len() as u64,
            free_files: 0,
            name_max: NAME_MAX as u32,
            read_only: true,
        })
    }
}
