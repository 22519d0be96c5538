//! A tmpfs file's data: pages where something was written, holes
//! elsewhere.
//!
//! Page `i` holds bytes `i * PAGE_SIZE ..`; a page that was never written,
//! or that a truncation dropped, is a hole and reads as zeros. A
//! truncation zeroes the rest of the page it ends in, so a later extension
//! reads zeros there too.

use hypercall::PAGE_SIZE;
use vfs::{Errno, NodeId};

use crate::node::{Content, FileData};
use crate::state::State;

const PAGE: u64 = PAGE_SIZE as u64;

/// The file `id`'s data, or EISDIR / EINVAL for other kinds.
fn file_mut(state: &mut State, id: NodeId) -> Result<&mut FileData, Errno> {
    match &mut state.node_mut(id)?.content {
        Content::File(data) => Ok(data),
        Content::Directory(_) => Err(Errno::IsDirectory),
        Content::Symlink(_) => Err(Errno::InvalidArgument),
    }
}

/// Copies from `offset` into `buffer`; 0 at or past the end.
pub(crate) fn read(
    state: &mut State,
    id: NodeId,
    offset: u64,
    buffer: &mut [u8],
) -> Result<usize, Errno> {
    let data = file_mut(state, id)?;
    if offset >= data.size {
        return Ok(0);
    }
    let length = buffer
        .len()
        .min(usize::try_from(data.size - offset).unwrap_or(usize::MAX));
    let mut done = 0;
    while done < length {
        let at = offset + done as u64;
        let within = (at % PAGE) as usize;
        let count = (PAGE_SIZE - within).min(length - done);
        let target = &mut buffer[done..done + count];
        match data.pages.get(&(at / PAGE)) {
            Some(page) => target.copy_from_slice(&page.as_slice()[within..within + count]),
            None => target.fill(0),
        }
        done += count;
    }
    Ok(length)
}

/// Writes `bytes` at `offset`, taking pages as needed; short (but not
/// empty) when space runs out part of the way.
pub(crate) fn write(
    state: &mut State,
    id: NodeId,
    offset: u64,
    bytes: &[u8],
) -> Result<usize, Errno> {
    file_mut(state, id)?;
    let mut done = 0;
    while done < bytes.len() {
        let at = offset + done as u64;
        let index = at / PAGE;
        let within = (at % PAGE) as usize;
        let count = (PAGE_SIZE - within).min(bytes.len() - done);
        if !file_mut(state, id)?.pages.contains_key(&index) {
            match state.page() {
                Ok(page) => {
                    file_mut(state, id)?.pages.insert(index, page);
                }
                Err(error) if done == 0 => return Err(error),
                Err(_) => break,
            }
        }
        let data = file_mut(state, id)?;
        let page = data.pages.get_mut(&index).expect("present or just added");
        page.as_mut_slice()[within..within + count].copy_from_slice(&bytes[done..done + count]);
        done += count;
        data.size = data.size.max(at + count as u64);
    }
    Ok(done)
}

/// Cuts or extends the file to `size`: pages past it go, the rest of the
/// last one is zeroed.
pub(crate) fn resize(state: &mut State, id: NodeId, size: u64) -> Result<(), Errno> {
    let data = file_mut(state, id)?;
    if size < data.size {
        let kept = size.div_ceil(PAGE);
        let dropped = data.pages.split_off(&kept);
        if let Some(page) = data.pages.get_mut(&(size / PAGE)) {
            page.as_mut_slice()[(size % PAGE) as usize..].fill(0);
        }
        data.size = size;
        let count = dropped.len();
        drop(dropped);
        state.pages_freed(count);
    } else {
        data.size = size;
    }
    Ok(())
}

/// The file's size and the pages it holds.
pub(crate) fn extent(data: &FileData) -> (u64, u64) {
    (data.size, data.pages.len() as u64)
}
