//! The bytes a session owes its client: text it wrote, values it shares.
//!
//! Replies are a queue of pieces. Text (status lines, headers, small
//! values) is appended to the last text piece; a large value goes in as a
//! reference to the store's own bytes ([`Value`]), so a `get` of a 1 MiB
//! item costs a few words here, not a copy. The caller drains the queue
//! from the front with [`Output::front`] and [`Output::consume`].

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::store::Value;

/// Values shorter than this are copied: a reference would cost more.
const SHARE_FROM: usize = 512;

#[derive(Debug)]
enum Piece {
    Text(Vec<u8>),
    Shared(Value),
}

impl Piece {
    fn bytes(&self) -> &[u8] {
        match self {
            Piece::Text(text) => text,
            Piece::Shared(value) => value.as_bytes(),
        }
    }
}

/// A queue of reply bytes.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pieces: VecDeque<Piece>,
    /// Bytes of the front piece already taken by the caller.
    front_offset: usize,
    /// Bytes not yet taken, over all pieces.
    pending: usize,
}

impl Output {
    /// Appends text.
    pub(crate) fn text(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.pending += bytes.len();
        if let Some(Piece::Text(last)) = self.pieces.back_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.pieces.push_back(Piece::Text(bytes.to_vec()));
        }
    }

    /// Appends a value: copied if small, shared if large.
    pub(crate) fn value(&mut self, value: Value) {
        if value.len() < SHARE_FROM {
            self.text(&value);
        } else {
            self.pending += value.len();
            self.pieces.push_back(Piece::Shared(value));
        }
    }

    /// Bytes not yet taken.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// The next bytes to send: the rest of the front piece (empty if none).
    pub(crate) fn front(&self) -> &[u8] {
        let bytes = self.pieces.front().map_or(&[][..], Piece::bytes);
        bytes.get(self.front_offset..).unwrap_or(&[])
    }

    /// Marks `count` bytes from the front as sent (more than
    /// [`Output::front`] holds is allowed: whole pieces go).
    pub(crate) fn consume(&mut self, mut count: usize) {
        count = count.min(self.pending);
        self.pending -= count;
        while count > 0 {
            let Some(front) = self.pieces.front() else {
                return;
            };
            let left = front.bytes().len() - self.front_offset;
            if count < left {
                self.front_offset += count;
                return;
            }
            count -= left;
            self.pieces.pop_front();
            self.front_offset = 0;
        }
        if self.pending == 0 {
            self.pieces.clear();
            self.front_offset = 0;
        }
    }

    /// Everything pending, concatenated (tests, and callers that copy).
    pub(crate) fn copy_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.front());
        for piece in self.pieces.iter().skip(1) {
            out.extend_from_slice(piece.bytes());
        }
    }
}
