//! Requests with more segments than their driver takes, joined for it.
//!
//! A request's bytes may come in many segments (the buffer cache reads a
//! run of blocks into one buffer per block). A driver that takes fewer
//! ([`crate::BlockDriver::max_segments`]) gets the request with its
//! segments joined into one buffer; when it is over, a read's bytes are
//! split back into the segments, and the submitter gets its own segments
//! back either way. Only such requests pay for the copy.

use alloc::vec;
use alloc::vec::Vec;

use crate::driver::{Completion, Operation, Refused, Request, Segments};
use crate::error::BlockError;

/// `request` as a driver taking `most` segments can take it.
///
/// # Errors
/// [`Refused`] with [`BlockError::NoMemory`] when the joined buffer
/// cannot be had (the request unchanged, its completion not run).
pub(crate) fn fit(request: Request, most: usize) -> Result<Request, Refused> {
    if request.buffers.len() <= most.max(1) {
        return Ok(request);
    }
    let Some(joined) = joined(&request.buffers) else {
        return Err(Refused {
            error: BlockError::NoMemory,
            request,
        });
    };
    let Request {
        operation,
        sector,
        buffers,
        completion,
    } = request;
    let split_back = Completion::new(move |context, back, result| {
        let mut buffers = buffers;
        if let (Operation::Read, Ok(()), [filled]) = (operation, result, &back[..]) {
            split(filled, &mut buffers);
        }
        completion.complete(context, buffers, result);
    });
    Ok(Request {
        operation,
        sector,
        buffers: vec![joined],
        completion: split_back,
    })
}

/// The segments one after the other in one buffer, or `None` when memory
/// is short.
pub(crate) fn joined(segments: &[Vec<u8>]) -> Option<Vec<u8>> {
    let length = segments.iter().map(Vec::len).sum();
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(length).ok()?;
    for segment in segments {
        bytes.extend_from_slice(segment);
    }
    Some(bytes)
}

/// Copies the bytes of `joined` (what the driver filled) into `segments`
/// in order, as far as they reach.
fn split(joined: &[u8], segments: &mut Segments) {
    let mut rest = joined;
    for segment in segments.iter_mut() {
        let take = segment.len().min(rest.len());
        segment[..take].copy_from_slice(&rest[..take]);
        rest = &rest[take..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_fills_segments_of_odd_sizes_in_order() {
        let joined = [1, 2, 3, 4, 5, 6, 7];
        let mut segments = vec![vec![0; 2], vec![0; 1], vec![0; 4]];
        split(&joined, &mut segments);
        assert_eq!(segments, [vec![1, 2], vec![3], vec![4, 5, 6, 7]]);
        let mut longer = vec![vec![0; 8]];
        split(&joined, &mut longer);
        assert_eq!(longer, [vec![1, 2, 3, 4, 5, 6, 7, 0]]);
    }

    #[test]
    fn joined_holds_the_segments_in_order() {
        let segments = [vec![1, 2], vec![], vec![3]];
        assert_eq!(joined(&segments), Some(vec![1, 2, 3]));
    }
}
