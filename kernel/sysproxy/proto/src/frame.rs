//! Frames: a length, then a header and the call's arguments or result.
//!
//! ```text
//! | length: u32, little endian | body: `length` bytes                  |
//! request body:  postcard(RequestHeader { id, call }) postcard(arguments)
//! reply body:    postcard(ReplyHeader { id, status }) postcard(result)?
//! ```
//!
//! The result follows only when the status is [`Status::Done`]. A body
//! longer than [`MAX_FRAME`] is refused before it is read: the server
//! answers [`Refusal::FrameTooLong`] and hangs up, since the stream can
//! no longer be trusted to be in step. [`FrameReader`] is the sans-IO
//! reader both sides use: bytes in, whole frames out.

use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Call, Errno};

/// The longest body a frame may have, either way.
pub const MAX_FRAME: usize = 256 * 1024;

/// The bytes of the length prefix.
pub const LENGTH_BYTES: usize = 4;

/// The most data one send or receive call carries; larger transfers take
/// several calls (as with any `write` that returns less than asked).
pub const MAX_DATA: usize = 64 * 1024;

/// What starts a request's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestHeader {
    /// The client's number for this request; its reply carries it back.
    pub id: u64,
    /// The call's number in the table.
    pub call: u16,
}

/// What starts a reply's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyHeader {
    /// The request's id (0 for a refusal of a frame without one).
    pub id: u64,
    /// How the call went.
    pub status: Status,
}

/// How a request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// The call ran; its result follows.
    Done,
    /// The call ran and failed.
    Failed(Errno),
    /// The server did not run the call.
    Refused(Refusal),
}

/// Why the server did not run a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No call has this number.
    UnknownCall,
    /// The header or the arguments do not decode.
    Malformed,
    /// The frame's length is over [`MAX_FRAME`]; the server hangs up.
    FrameTooLong,
    /// The client has as many calls in flight as it may.
    TooManyCalls,
    /// The client's calls in flight hold as many bytes as it may.
    TooManyBytes,
    /// The result would not fit in a frame.
    ReplyTooLong,
}

/// A frame the reader will not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The length prefix says more than [`MAX_FRAME`].
    TooLong(u32),
}

/// A frame holding `header` and then `payload` (if any).
pub fn encode<H: Serialize, P: Serialize>(header: &H, payload: Option<&P>) -> Vec<u8> {
    let mut frame = Vec::with_capacity(64);
    frame.extend_from_slice(&[0; LENGTH_BYTES]);
    let mut frame = postcard::to_extend(header, frame).expect("a Vec takes any header");
    if let Some(payload) = payload {
        frame = postcard::to_extend(payload, frame).expect("a Vec takes any payload");
    }
    let length = u32::try_from(frame.len() - LENGTH_BYTES).unwrap_or(u32::MAX);
    frame[..LENGTH_BYTES].copy_from_slice(&length.to_le_bytes());
    frame
}

/// The request frame of call `call` with id `id`.
pub fn request<C: Call>(id: u64, call: &C) -> Vec<u8> {
    let header = RequestHeader {
        id,
        call: C::NUMBER,
    };
    encode(&header, Some(call))
}

/// A reply frame refusing request `id`.
pub fn refusal(id: u64, why: Refusal) -> Vec<u8> {
    reply_frame::<()>(id, Status::Refused(why), None)
}

fn reply_frame<T: Serialize>(id: u64, status: Status, result: Option<&T>) -> Vec<u8> {
    encode(&ReplyHeader { id, status }, result)
}

/// Decodes `arguments` as call `C`'s, runs `handler` and encodes the
/// reply frame; a result too long for a frame is refused.
pub fn run<C: Call>(
    id: u64,
    arguments: &[u8],
    handler: impl FnOnce(C) -> Result<C::Output, Errno>,
) -> Vec<u8> {
    let Ok(call) = postcard::from_bytes::<C>(arguments) else {
        return refusal(id, Refusal::Malformed);
    };
    let frame = match handler(call) {
        Ok(output) => reply_frame(id, Status::Done, Some(&output)),
        Err(errno) => reply_frame::<()>(id, Status::Failed(errno), None),
    };
    if frame.len() - LENGTH_BYTES > MAX_FRAME {
        return refusal(id, Refusal::ReplyTooLong);
    }
    frame
}

/// Splits a request body into its header and its arguments.
///
/// # Errors
/// [`Refusal::Malformed`] when the header does not decode.
pub fn split_request(body: &[u8]) -> Result<(RequestHeader, &[u8]), Refusal> {
    postcard::take_from_bytes(body).map_err(|_| Refusal::Malformed)
}

/// Splits a reply body into its header and its result bytes.
///
/// # Errors
/// [`Refusal::Malformed`] when the header does not decode.
pub fn split_reply(body: &[u8]) -> Result<(ReplyHeader, &[u8]), Refusal> {
    postcard::take_from_bytes(body).map_err(|_| Refusal::Malformed)
}

/// Decodes a whole body (a handshake message) or a call's result.
///
/// # Errors
/// [`Refusal::Malformed`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    postcard::from_bytes(bytes).map_err(|_| Refusal::Malformed)
}

/// Reassembles frames from a byte stream read in any pieces.
#[derive(Debug, Default)]
pub struct FrameReader {
    buffer: Vec<u8>,
    start: usize,
}

/// The least room [`FrameReader::spare`] offers for one read.
pub const READ_CHUNK: usize = 16 * 1024;

impl FrameReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room to read into: at least [`READ_CHUNK`] bytes, after what is
    /// buffered. Pass the count read to [`FrameReader::filled`].
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let used = self.buffer.len();
        self.buffer.resize(used + READ_CHUNK, 0);
        &mut self.buffer[used..]
    }

    /// `count` bytes of the last [`FrameReader::spare`] were read.
    pub fn filled(&mut self, count: usize) {
        let unused = READ_CHUNK - count.min(READ_CHUNK);
        self.buffer.truncate(self.buffer.len() - unused);
    }

    /// Bytes buffered and not yet taken as frames.
    pub fn buffered(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// The next whole frame's body, if one is buffered.
    ///
    /// # Errors
    /// [`FrameError::TooLong`] when the next length is over
    /// [`MAX_FRAME`]; the stream is then out of step for good.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let pending = &self.buffer[self.start..];
        let Some(prefix) = pending.first_chunk::<LENGTH_BYTES>() else {
            return Ok(None);
        };
        let length = u32::from_le_bytes(*prefix);
        let body = usize::try_from(length).unwrap_or(usize::MAX);
        if body > MAX_FRAME {
            return Err(FrameError::TooLong(length));
        }
        let Some(frame) = pending.get(LENGTH_BYTES..LENGTH_BYTES + body) else {
            return Ok(None);
        };
        let frame = frame.to_vec();
        self.start += LENGTH_BYTES + body;
        Ok(Some(frame))
    }
}
