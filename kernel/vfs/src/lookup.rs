//! Path lookup (namei): from a path to a node, across mounts and links.
//!
//! Paths are bytes; relative paths start at the root (a process has no
//! working directory yet). Repeated slashes count as one and `.` is the
//! directory itself; `..` is the parent, across a mount point to the
//! covered directory's parent, and the root's own at the root. Symbolic
//! links are followed inside a path always and at its end when asked (or
//! when a trailing slash says the end must be a directory); more than
//! [`SYMLINK_MAX`] on one walk give ELOOP. A path of [`PATH_MAX`] bytes or
//! more, or a name longer than [`NAME_MAX`], gives ENAMETOOLONG; a NUL
//! byte EINVAL; an empty path ENOENT.

use alloc::vec::Vec;

use base::Context;

use crate::errno::Errno;
use crate::filesystem::{NAME_MAX, NodeKind};
use crate::mount::Location;
use crate::vfs::Vfs;

/// The longest path accepted is one byte shorter (Linux counts the NUL).
pub const PATH_MAX: usize = 4096;
/// Symbolic links one lookup may follow (Linux's MAXSYMLINKS).
pub const SYMLINK_MAX: u32 = 40;

/// A path's last name and the directory holding it.
pub(crate) struct Parent {
    /// The directory.
    pub(crate) directory: Location,
    /// The last name; empty when the path names the root.
    pub(crate) name: Vec<u8>,
    /// Whether the path ended in a slash.
    pub(crate) trailing_slash: bool,
}

/// Components still to walk, the next one last.
struct Walk {
    pending: Vec<Vec<u8>>,
    links: u32,
}

impl Walk {
    fn push(&mut self, path: &[u8]) {
        let names = path
            .split(|&byte| byte == b'/')
            .filter(|name| !name.is_empty());
        let at = self.pending.len();
        self.pending.extend(names.map(<[u8]>::to_vec));
        self.pending[at..].reverse();
    }
}

/// ENOENT, ENAMETOOLONG or EINVAL for a path no lookup may start.
pub(crate) fn check_path(path: &[u8]) -> Result<(), Errno> {
    if path.is_empty() {
        return Err(Errno::NotFound);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::NameTooLong);
    }
    if path.contains(&0) {
        return Err(Errno::InvalidArgument);
    }
    Ok(())
}

impl Vfs {
    /// The root of the namespace.
    pub(crate) fn root(&self) -> Result<Location, Errno> {
        self.table().root().ok_or(Errno::NoFileSystem)
    }

    /// The node `path` names, its last link followed when `follow`.
    pub(crate) fn resolve(
        &self,
        context: &Context<'_>,
        path: &[u8],
        follow: bool,
    ) -> Result<Location, Errno> {
        check_path(path)?;
        let trailing = path.ends_with(b"/");
        let mut walk = Walk {
            pending: Vec::new(),
            links: 0,
        };
        walk.push(path);
        let mut current = self.root()?;
        self.walk(context, &mut current, &mut walk, follow || trailing)?;
        if trailing && current.kind(context)? != NodeKind::Directory {
            return Err(Errno::NotDirectory);
        }
        Ok(current)
    }

    /// The directory holding `path`'s last name, and that name.
    pub(crate) fn resolve_parent(
        &self,
        context: &Context<'_>,
        path: &[u8],
    ) -> Result<Parent, Errno> {
        check_path(path)?;
        let end = path.iter().rposition(|&b| b != b'/').map_or(0, |at| at + 1);
        let trimmed = &path[..end];
        let split = trimmed.iter().rposition(|&b| b == b'/');
        let (directory_path, name) = match split {
            Some(at) => (&path[..=at], &trimmed[at + 1..]),
            None => (&b""[..], trimmed),
        };
        if name.len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        let directory = if directory_path.is_empty() {
            self.root()?
        } else {
            self.resolve(context, directory_path, true)?
        };
        if directory.kind(context)? != NodeKind::Directory {
            return Err(Errno::NotDirectory);
        }
        Ok(Parent {
            directory,
            name: name.to_vec(),
            trailing_slash: end < path.len() && end > 0,
        })
    }

    fn walk(
        &self,
        context: &Context<'_>,
        current: &mut Location,
        walk: &mut Walk,
        follow_last: bool,
    ) -> Result<(), Errno> {
        while let Some(name) = walk.pending.pop() {
            if current.kind(context)? != NodeKind::Directory {
                return Err(Errno::NotDirectory);
            }
            match name.as_slice() {
                b"." => continue,
                b".." => {
                    *current = self.parent(context, current)?;
                    continue;
                }
                _ if name.len() > NAME_MAX => return Err(Errno::NameTooLong),
                _ => {}
            }
            let next = self.child(context, current, &name)?;
            let last = walk.pending.is_empty();
            if (!last || follow_last) && next.kind(context)? == NodeKind::Symlink {
                walk.links += 1;
                if walk.links > SYMLINK_MAX {
                    return Err(Errno::Loop);
                }
                let target = next.fs().readlink(context, next.node)?;
                if target.first() == Some(&b'/') {
                    *current = self.root()?;
                } else if target.is_empty() {
                    return Err(Errno::NotFound);
                }
                walk.push(&target);
                continue;
            }
            *current = next;
        }
        Ok(())
    }

    /// The node `name` in `directory`, and what is mounted on it if any.
    pub(crate) fn child(
        &self,
        context: &Context<'_>,
        directory: &Location,
        name: &[u8],
    ) -> Result<Location, Errno> {
        let node = directory.fs().lookup(context, directory.node, name)?;
        Ok(self.cross(Location {
            mount: directory.mount.clone(),
            node,
        }))
    }

    /// `at`, or the root of what is mounted on it (repeatedly).
    fn cross(&self, mut at: Location) -> Location {
        let table = self.table();
        while let Some(mount) = table.covering(&at) {
            let node = mount.fs().root();
            at = Location { mount, node };
        }
        at
    }

    /// Whether something is mounted on `at`.
    pub(crate) fn is_covered(&self, at: &Location) -> bool {
        self.table().covering(at).is_some()
    }

    /// `..` of `at`: across mount points, the root's own at the root.
    pub(crate) fn parent(&self, context: &Context<'_>, at: &Location) -> Result<Location, Errno> {
        let mut at = at.clone();
        while at.is_mount_root() {
            let Some((mount, node)) = at.mount.covered() else {
                return Ok(at);
            };
            at = Location {
                mount: mount.clone(),
                node: *node,
            };
        }
        let node = at.fs().lookup(context, at.node, b"..")?;
        Ok(Location {
            mount: at.mount,
            node,
        })
    }
}
