//! Fuzz targets for the remote system-call server's request decoder:
//! the frame reader, the request header, the call table's decoder and
//! the handshake, on bytes a hostile client writes in any pieces.
//!
//! Properties: nothing panics; a frame is never longer than the limit,
//! and a longer length is refused, not buffered; a header's call is
//! decoded iff the table has it; a decoded call encodes back to a frame
//! that decodes to the same call; the handshake accepts only this
//! protocol's magic and version with the right key.

use bolero::check;
use sysproxy_proto::frame::{self, FrameError};
use sysproxy_proto::{FrameReader, MAX_FRAME, Refusal, handshake, mode_of};

/// Checks one request body the way the server's reader takes it.
fn check_request(body: &[u8]) {
    let Ok((header, arguments)) = frame::split_request(body) else {
        return;
    };
    let decoded = sysproxy_proto::decode(header.call, arguments);
    match (&decoded, mode_of(header.call)) {
        (Err(Refusal::UnknownCall), None) => {}
        (Err(Refusal::Malformed), Some(_)) => {}
        (Ok(request), Some(_)) => {
            assert_eq!(request.number(), header.call);
            let again = request.frame(header.id);
            let (round, rest) =
                frame::split_request(&again[frame::LENGTH_BYTES..]).expect("a header");
            assert_eq!((round.id, round.call), (header.id, header.call));
            assert_eq!(
                sysproxy_proto::decode(round.call, rest).as_ref(),
                Ok(request)
            );
        }
        (result, mode) => panic!("call {} ({mode:?}) decoded as {result:?}", header.call),
    }
}

#[test]
fn any_stream_is_framed_and_decoded_without_panicking() {
    check!().for_each(|bytes: &[u8]| {
        let mut reader = FrameReader::new();
        let pieces = bytes.first().map_or(1, |first| usize::from(*first % 7) + 1);
        for piece in bytes.chunks(pieces) {
            reader.spare()[..piece.len()].copy_from_slice(piece);
            reader.filled(piece.len());
            loop {
                match reader.next_frame() {
                    Ok(Some(body)) => {
                        assert!(body.len() <= MAX_FRAME);
                        check_request(&body);
                    }
                    Ok(None) => break,
                    Err(FrameError::TooLong(length)) => {
                        assert!(length as usize > MAX_FRAME);
                        return;
                    }
                }
            }
        }
    });
}

#[test]
fn any_first_frame_is_a_welcome_only_with_the_magic_version_and_key() {
    check!().for_each(|bytes: &[u8]| {
        let key: &[u8] = b"fuzzed key";
        let _ = handshake::check(bytes, None);
        if let Ok(hello) = handshake::check(bytes, Some(key)) {
            assert_eq!(hello.magic, handshake::MAGIC);
            assert_eq!(hello.version, handshake::VERSION);
            assert_eq!(hello.key.map(|key| key.0).as_deref(), Some(key));
        }
        check_request(bytes);
    });
}
