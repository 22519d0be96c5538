//! The protocol on its own: frames in pieces, dispatch, refusals, the
//! handshake.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddr};
use std::collections::BTreeSet;

use crate::calls::call;
use crate::frame::{self, FrameError, FrameReader, RequestHeader};
use crate::handshake::{self, HandshakeRefusal, Hello};
use crate::types::{Bytes, Descriptor, MessageFlags, SocketKind};
use crate::{Call, Errno, Handler, Refusal, Status, Stubs, TABLE};

/// A handler whose sockets are numbered from 7 and whose sends echo
/// their length; everything else is not implemented.
struct Fake;

macro_rules! not_implemented {
    ($($method:ident: $name:ident -> $output:ty;)*) => {
        $(fn $method(&self, _: call::$name) -> Result<$output, Errno> {
            Err(Errno::NotImplemented)
        })*
    };
}

impl Handler for Fake {
    fn null(&self, _: call::Null) -> Result<(), Errno> {
        Ok(())
    }
    fn socket(&self, call: call::Socket) -> Result<Descriptor, Errno> {
        match call.kind {
            SocketKind::Stream => Ok(Descriptor(7)),
            SocketKind::Datagram => Err(Errno::TooManySockets),
        }
    }
    fn send(&self, call: call::Send) -> Result<u32, Errno> {
        Ok(call.data.0.len() as u32)
    }
    fn statistics(&self, _: call::Statistics) -> Result<String, Errno> {
        Ok("x".repeat(crate::MAX_FRAME + 1))
    }
    not_implemented! {
        bind: Bind -> ();
        listen: Listen -> ();
        accept: Accept -> (Descriptor, SocketAddr);
        connect: Connect -> ();
        receive: Receive -> Bytes;
        send_to: SendTo -> u32;
        receive_from: ReceiveFrom -> (Bytes, SocketAddr);
        shutdown: Shutdown -> ();
        close: Close -> ();
        set_option: SetOption -> ();
        option: GetOption -> crate::types::SocketOption;
        local_address: LocalAddress -> SocketAddr;
        peer_address: PeerAddress -> SocketAddr;
        poll: Poll -> Vec<u8>;
        fork: Fork -> crate::types::ForkToken;
        open: Open -> Descriptor;
        read: Read -> Bytes;
        write: Write -> u32;
        stat: Stat -> crate::types::FileStatus;
        read_directory: ReadDirectory -> Vec<crate::types::DirectoryEntry>;
        interfaces: Interfaces -> Vec<crate::types::Interface>;
        set_interface_up: SetInterfaceUp -> ();
        set_interface_address: SetInterfaceAddress -> ();
        add_interface_address6: AddInterfaceAddress6 -> ();
        remove_interface_address6: RemoveInterfaceAddress6 -> ();
        routes: Routes -> Vec<crate::types::Route>;
        add_route: AddRoute -> ();
        remove_route: RemoveRoute -> ();
        set_default_gateway: SetDefaultGateway -> ();
        neighbors: Neighbors -> Vec<crate::types::Neighbor>;
        sockets: Sockets -> Vec<crate::types::SocketSummary>;
        ping: Ping -> u64;
    }
}

/// Stubs that run calls straight through `dispatch` on [`Fake`], frames
/// and all.
struct Loopback;

#[derive(Debug, PartialEq)]
enum LoopbackError {
    Errno(Errno),
    Refused(Refusal),
}

impl From<Errno> for LoopbackError {
    fn from(errno: Errno) -> Self {
        Self::Errno(errno)
    }
}

impl Stubs for Loopback {
    type Error = LoopbackError;
    fn call<C: Call>(&self, call: C) -> Result<C::Output, LoopbackError> {
        let request = frame::request(41, &call);
        let mut reader = FrameReader::new();
        let body = feed(&mut reader, &request).remove(0);
        let (header, arguments) = frame::split_request(&body).expect("a header");
        let reply = crate::dispatch(&Fake, header.id, header.call, arguments);
        let body = feed(&mut reader, &reply).remove(0);
        let (header, result) = frame::split_reply(&body).expect("a header");
        assert_eq!(header.id, 41);
        match header.status {
            Status::Done => Ok(frame::decode(result).expect("a result")),
            Status::Failed(errno) => Err(LoopbackError::Errno(errno)),
            Status::Refused(why) => Err(LoopbackError::Refused(why)),
        }
    }
}

/// Feeds `bytes` to `reader` three bytes at a time; the frames it gave.
fn feed(reader: &mut FrameReader, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for piece in bytes.chunks(3) {
        reader.spare()[..piece.len()].copy_from_slice(piece);
        reader.filled(piece.len());
        while let Some(frame) = reader.next_frame().expect("short frames") {
            frames.push(frame);
        }
    }
    frames
}

#[test]
fn stubs_reach_the_handler_and_bring_results_and_errnos_back() {
    assert_eq!(Loopback.null(), Ok(()));
    assert_eq!(Loopback.socket(SocketKind::Stream), Ok(Descriptor(7)));
    let data = Bytes(alloc::vec![1; 1000]);
    let flags = MessageFlags::default();
    assert_eq!(Loopback.send(Descriptor(7), data, flags), Ok(1000));
    let refused = Loopback.socket(SocketKind::Datagram);
    assert_eq!(refused, Err(LoopbackError::Errno(Errno::TooManySockets)));
    let closed = Loopback.close(Descriptor(1));
    assert_eq!(closed, Err(LoopbackError::Errno(Errno::NotImplemented)));
}

#[test]
fn a_result_too_long_for_a_frame_is_refused_not_sent() {
    let refused = Loopback.statistics();
    assert_eq!(refused, Err(LoopbackError::Refused(Refusal::ReplyTooLong)));
}

fn reply_status(reply: &[u8]) -> (u64, Status) {
    let (header, _) = frame::split_reply(&reply[frame::LENGTH_BYTES..]).expect("a header");
    (header.id, header.status)
}

#[test]
fn unknown_numbers_and_bad_arguments_are_refused_with_the_id() {
    let unknown = crate::dispatch(&Fake, 5, 9999, &[]);
    assert_eq!(
        reply_status(&unknown),
        (5, Status::Refused(Refusal::UnknownCall))
    );
    let bad = crate::dispatch(&Fake, 6, call::Socket::NUMBER, &[0xff, 0xff]);
    assert_eq!(reply_status(&bad), (6, Status::Refused(Refusal::Malformed)));
    let truncated = crate::dispatch(&Fake, 7, call::Send::NUMBER, &[1, 200]);
    assert_eq!(
        reply_status(&truncated),
        (7, Status::Refused(Refusal::Malformed))
    );
    assert_eq!(frame::split_request(&[0xff; 3]), Err(Refusal::Malformed));
}

#[test]
fn frames_come_whole_from_any_pieces_and_oversized_ones_are_refused() {
    let mut reader = FrameReader::new();
    let header = RequestHeader { id: 1, call: 0 };
    let mut stream = frame::encode(&header, Some(&call::Null {}));
    stream.extend(frame::encode(&header, Some(&Bytes(alloc::vec![9; 40_000]))));
    let frames = feed(&mut reader, &stream);
    assert_eq!(frames.len(), 2);
    assert_eq!(reader.buffered(), 0);
    let too_long = (crate::MAX_FRAME as u32 + 1).to_le_bytes();
    reader.spare()[..4].copy_from_slice(&too_long);
    reader.filled(4);
    let error = reader.next_frame();
    assert_eq!(error, Err(FrameError::TooLong(crate::MAX_FRAME as u32 + 1)));
}

#[test]
fn the_table_numbers_each_call_once() {
    let numbers: BTreeSet<u16> = TABLE.iter().map(|entry| entry.number).collect();
    let names: BTreeSet<&str> = TABLE.iter().map(|entry| entry.name).collect();
    assert_eq!((numbers.len(), names.len()), (TABLE.len(), TABLE.len()));
    assert_eq!(
        crate::mode_of(call::Accept::NUMBER),
        Some(crate::Mode::Blocking)
    );
    assert_eq!(
        crate::mode_of(call::Close::NUMBER),
        Some(crate::Mode::Quick)
    );
    assert_eq!(crate::mode_of(1000), None);
}

fn hello_body(hello: &Hello) -> Vec<u8> {
    postcard::to_allocvec(hello).expect("encodes")
}

#[test]
fn the_handshake_checks_magic_version_and_key() {
    let key: &[u8] = b"secret";
    let good = hello_body(&Hello::new(Some(key)));
    assert!(handshake::check(&good, Some(key)).is_ok());
    assert!(handshake::check(&hello_body(&Hello::new(None)), None).is_ok());
    let wrong = hello_body(&Hello::new(Some(b"secreT")));
    assert_eq!(
        handshake::check(&wrong, Some(key)),
        Err(HandshakeRefusal::Key)
    );
    let missing = hello_body(&Hello::new(None));
    assert_eq!(
        handshake::check(&missing, Some(key)),
        Err(HandshakeRefusal::Key)
    );
    let mut old = Hello::new(None);
    old.version = 0;
    let version = handshake::check(&hello_body(&old), None);
    assert_eq!(version, Err(HandshakeRefusal::Version(handshake::VERSION)));
    let mut alien = Hello::new(None);
    alien.magic = *b"HTTP";
    let alien = handshake::check(&hello_body(&alien), None);
    assert_eq!(alien, Err(HandshakeRefusal::Malformed));
    assert_eq!(
        handshake::check(b"", None),
        Err(HandshakeRefusal::Malformed)
    );
}

#[test]
fn addresses_cross_as_core_net_types() {
    let address = SocketAddr::new(Ipv4Addr::new(10, 0, 0, 2).into(), 80);
    let bytes = postcard::to_allocvec(&address).expect("encodes");
    assert_eq!(frame::decode::<SocketAddr>(&bytes), Ok(address));
}
