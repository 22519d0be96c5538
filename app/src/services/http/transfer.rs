//! Bodies on their way: a file going out, an upload coming in.
//!
//! A GET's file is read in pieces into the event loop's scratch buffer
//! and written as the socket takes it ([`Io::write_with`]): a connection
//! holds an open file and an offset, never the file's contents. An
//! upload's body is written to its file as it arrives, and answered when
//! the last byte is in and the file is on stable storage (fsync: a 201 or
//! 204 means the upload survives a crash). A file that shrinks under a GET, or a write that
//! fails (ENOSPC: 507), ends the connection: its length was promised, or
//! the rest of its body cannot be taken.

use alloc::sync::Arc;

use kernel::vfs::{Errno, OpenFile, Vfs};
use serve::{Io, Want};

use super::{Reply, send};

/// A body in progress.
pub(super) enum Transfer {
    /// A file going out from `offset` to `end`.
    Sending {
        vfs: Arc<Vfs>,
        file: Arc<OpenFile>,
        offset: u64,
        end: u64,
        keep_alive: bool,
    },
    /// An upload: `remaining` bytes still to come, then `status` (201 or
    /// 204) answers it.
    Receiving {
        vfs: Arc<Vfs>,
        file: Arc<OpenFile>,
        offset: u64,
        remaining: u64,
        status: u16,
        keep_alive: bool,
    },
}

impl Transfer {
    /// Moves on, taking body bytes from `input` for an upload: how many
    /// it took, and `Some(want)` while unfinished (or ended: `Close`),
    /// `None` once done with the connection going on.
    pub(super) fn advance(&mut self, input: &[u8], io: &mut Io<'_, '_>) -> (usize, Option<Want>) {
        match self {
            Self::Sending {
                vfs,
                file,
                offset,
                end,
                keep_alive,
            } => (0, pump(vfs, file, offset, *end, *keep_alive, io)),
            Self::Receiving { remaining, .. } => {
                let take = input
                    .len()
                    .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                (take, self.receive(&input[..take], io))
            }
        }
    }

    fn receive(&mut self, body: &[u8], io: &mut Io<'_, '_>) -> Option<Want> {
        let Self::Receiving {
            vfs,
            file,
            offset,
            remaining,
            status,
            keep_alive,
        } = self
        else {
            return Some(Want::Close);
        };
        if let Err(errno) = write_all(vfs, file, *offset, body, io) {
            let (status, text) = match errno {
                Errno::NoSpace => (507, "no space left\n"),
                _ => (500, "write failed\n"),
            };
            send(io, &Reply::error(status, text));
            return Some(Want::Close);
        }
        *offset += body.len() as u64;
        *remaining -= body.len() as u64;
        if *remaining > 0 {
            return Some(Want::Input);
        }
        if let Err(errno) = vfs.fsync_file(io.context(), file) {
            log::warn!("http: an upload could not be synced: {errno}");
            send(io, &Reply::error(500, "sync failed\n"));
            return Some(Want::Close);
        }
        let reply = Reply {
            status: *status,
            kind: "text/plain",
            body: "",
            keep_alive: *keep_alive,
            head_only: false,
        };
        send(io, &reply);
        (!*keep_alive).then_some(Want::Close)
    }
}

/// Writes all of `body` at `offset`.
fn write_all(
    vfs: &Vfs,
    file: &OpenFile,
    mut offset: u64,
    mut body: &[u8],
    io: &Io<'_, '_>,
) -> Result<(), Errno> {
    while !body.is_empty() {
        let count = vfs.write_file_at(io.context(), file, body, offset)?;
        offset += count as u64;
        body = &body[count..];
    }
    Ok(())
}

/// Sends the file from `offset` as far as the socket takes it.
fn pump(
    vfs: &Vfs,
    file: &OpenFile,
    offset: &mut u64,
    end: u64,
    keep_alive: bool,
    io: &mut Io<'_, '_>,
) -> Option<Want> {
    let context = io.context();
    while *offset < end {
        let left = end - *offset;
        let mut read_failed = false;
        let sent = io.write_with(|buffer| {
            let length = buffer
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            let read = vfs.read_file_at(context, file, &mut buffer[..length], *offset);
            let count = read.unwrap_or(0);
            read_failed = count == 0;
            count
        });
        if read_failed || io.broken() {
            return Some(Want::Close);
        }
        if sent == 0 {
            return Some(Want::Resume);
        }
        *offset += sent as u64;
    }
    (!keep_alive).then_some(Want::Close)
}
