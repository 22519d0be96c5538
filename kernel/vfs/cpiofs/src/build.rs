//! The tree of names of an archive.
//!
//! Directories may come before or after what they hold; one made for the
//! paths below it takes the attributes of its own entry when that comes.

use alloc::vec::Vec;

use vfs::{Errno, NAME_MAX, NodeId};

use crate::{Content, Node};

/// The file type bits of a cpio mode, and the three kinds kept.
const TYPE_MASK: u32 = 0o170_000;
const DIRECTORY: u32 = 0o040_000;
const REGULAR: u32 = 0o100_000;
const SYMLINK: u32 = 0o120_000;

const ROOT: NodeId = 1;

/// The nodes of `archive`, root first, directories' entries sorted.
pub(crate) fn tree(archive: &'static [u8]) -> Result<Vec<Node>, Errno> {
    let mut nodes = alloc::vec![directory(ROOT, 0o755, 0)];
    for entry in cpio_reader::iter_files(archive) {
        let mode = entry.mode().bits();
        let modified_ns = entry.mtime().saturating_mul(1_000_000_000);
        let permissions = (mode & 0o7777) as u16;
        let content = match mode & TYPE_MASK {
            DIRECTORY => Content::Directory(Vec::new()),
            REGULAR => Content::File(entry.file()),
            SYMLINK => Content::Symlink(entry.file()),
            _ => continue,
        };
        let names = components(entry.name())?;
        let Some((last, parents)) = names.split_last() else {
            // The archive's own "." sets the root's attributes.
            nodes[0].permissions = permissions;
            nodes[0].modified_ns = modified_ns;
            continue;
        };
        let parent = make_parents(&mut nodes, parents)?;
        if let Some(existing) = find(&nodes, parent, last)?
            && matches!(content, Content::Directory(_))
            && matches!(nodes[index(existing)].content, Content::Directory(_))
        {
            // A directory listed after what it holds (`find -depth`).
            nodes[index(existing)].permissions = permissions;
            nodes[index(existing)].modified_ns = modified_ns;
            continue;
        }
        let node = Node {
            content,
            permissions,
            modified_ns,
            parent,
        };
        add(&mut nodes, parent, last, node)?;
    }
    for node in &mut nodes {
        if let Content::Directory(entries) = &mut node.content {
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
    }
    Ok(nodes)
}

/// `name`'s components: `.` and empty ones dropped, `..` refused.
fn components(name: &'static str) -> Result<Vec<&'static [u8]>, Errno> {
    let mut names = Vec::new();
    for component in name.as_bytes().split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => return Err(Errno::InvalidArgument),
            _ if component.len() > NAME_MAX => return Err(Errno::InvalidArgument),
            _ => names.push(component),
        }
    }
    Ok(names)
}

fn directory(parent: NodeId, permissions: u16, modified_ns: u64) -> Node {
    Node {
        content: Content::Directory(Vec::new()),
        permissions,
        modified_ns,
        parent,
    }
}

/// The directory `parents` names, made where missing.
fn make_parents(nodes: &mut Vec<Node>, parents: &[&'static [u8]]) -> Result<NodeId, Errno> {
    let mut at = ROOT;
    for &name in parents {
        at = match find(nodes, at, name)? {
            Some(existing) => existing,
            None => {
                let node = directory(at, 0o755, nodes[0].modified_ns);
                add(nodes, at, name, node)?
            }
        };
    }
    Ok(at)
}

/// The entry `name` of directory `at` (unsorted while building).
fn find(nodes: &[Node], at: NodeId, name: &[u8]) -> Result<Option<NodeId>, Errno> {
    match &nodes[index(at)].content {
        Content::Directory(entries) => Ok(entries.iter().find(|e| e.0 == name).map(|e| e.1)),
        _ => Err(Errno::InvalidArgument),
    }
}

/// Adds `node` as `name` in `parent`; a name given twice is refused.
fn add(
    nodes: &mut Vec<Node>,
    parent: NodeId,
    name: &'static [u8],
    node: Node,
) -> Result<NodeId, Errno> {
    if find(nodes, parent, name)?.is_some() {
        return Err(Errno::InvalidArgument);
    }
    nodes.push(node);
    let id = nodes.len() as NodeId;
    if let Content::Directory(entries) = &mut nodes[index(parent)].content {
        entries.push((name, id));
    }
    Ok(id)
}

fn index(id: NodeId) -> usize {
    (id - 1) as usize
}

/// Bytes of the directories' entry lists.
pub(crate) fn name_bytes(nodes: &[Node]) -> usize {
    let entry = core::mem::size_of::<(&[u8], NodeId)>();
    nodes
        .iter()
        .map(|node| match &node.content {
            Content::Directory(entries) => entries.len() * entry,
            _ => 0,
        })
        .sum()
}
