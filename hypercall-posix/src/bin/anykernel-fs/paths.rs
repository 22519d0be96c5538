//! Paths inside the image: split into components and resolved from the
//! root, following symlinks in all but the last component.

use ext2::{BlockDevice, Error, FileKind, Fs, InodeNumber};

/// Symlinks followed in one resolution before giving up (ELOOP).
const MAX_SYMLINKS: u32 = 40;

/// The components of `path`, without empty ones and `.`.
pub fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect()
}

/// The directory holding `path`'s last component, and that component
/// (`None` for the root itself).
pub fn parent<'a, D: BlockDevice>(
    fs: &Fs<D>,
    path: &'a str,
) -> Result<(InodeNumber, Option<&'a str>), Error> {
    let mut parts = components(path);
    let Some(last) = parts.pop() else {
        return Ok((fs.root(), None));
    };
    let mut budget = MAX_SYMLINKS;
    let directory = walk(fs, fs.root(), &parts, &mut budget)?;
    Ok((directory, Some(last)))
}

/// The inode `path` names; the last component is not followed if it is
/// a symlink.
pub fn resolve<D: BlockDevice>(fs: &Fs<D>, path: &str) -> Result<InodeNumber, Error> {
    match parent(fs, path)? {
        (directory, None) => Ok(directory),
        (directory, Some(name)) => fs.lookup(directory, name.as_bytes()),
    }
}

/// Walks `parts` from `start`, following every symlink met on the way.
fn walk<D: BlockDevice>(
    fs: &Fs<D>,
    start: InodeNumber,
    parts: &[&str],
    budget: &mut u32,
) -> Result<InodeNumber, Error> {
    let mut current = start;
    for part in parts {
        let parent = current;
        current = fs.lookup(current, part.as_bytes())?;
        if fs.getattr(current)?.kind != FileKind::Symlink {
            continue;
        }
        *budget = budget.checked_sub(1).ok_or(Error::Loop)?;
        let target = fs.readlink(current)?;
        let target = String::from_utf8_lossy(&target).into_owned();
        let from = if target.starts_with('/') {
            fs.root()
        } else {
            parent
        };
        current = walk(fs, from, &components(&target), budget)?;
    }
    Ok(current)
}
