//! Forked clients (the seeds' prefork): a child connecting with its
//! parent's fork token holds the same sockets at the same numbers, and a
//! connection closes only when both have let go.

mod common;

use std::io::{Read, Write};

use anykernel_client::proto::handshake::HandshakeRefusal;
use anykernel_client::proto::types::{Bytes, ForkToken, MessageFlags};
use anykernel_client::{Client, Error, Stubs, TcpListener, TcpStream};
use common::{Served, within};

#[test]
fn a_child_shares_its_parents_connection_until_both_close() {
    let served = Served::lo0("fork");
    let parent = served.client();
    let listener = TcpListener::bind(&parent, "127.0.0.1:7200").expect("listens");
    let peer_client = served.client();
    let mut peer = TcpStream::connect(&peer_client, "127.0.0.1:7200").expect("connects");
    let (accepted, _) = listener.accept().expect("accepts");
    let shared = accepted.descriptor();
    let token = parent.fork().expect("a fork is prepared");
    let child = Client::connect_forked(&served.address(), None, token).expect("the child");
    // The parent lets go of its copy: the connection stays open.
    drop(accepted);
    let data = Bytes(b"from the child".to_vec());
    let sent = child.send(shared, data, MessageFlags::default()).ok();
    assert_eq!(
        sent,
        Some(14),
        "the child's descriptor is the parent's socket"
    );
    let mut heard = [0u8; 14];
    peer.read_exact(&mut heard)
        .expect("the peer hears the child");
    assert_eq!(&heard, b"from the child");
    peer.write_all(b"to the child").expect("answers");
    let answer = child.receive(shared, 64, MessageFlags::default());
    assert_eq!(
        answer.ok().map(|bytes| bytes.0),
        Some(b"to the child".to_vec())
    );
    // The child goes too: now the peer reads the end of the stream.
    drop(child);
    let mut rest = Vec::new();
    let ended = within(10, move || peer.read_to_end(&mut rest).map(|_| rest));
    assert_eq!(ended.expect("end of stream"), Vec::<u8>::new());
}

#[test]
fn a_token_serves_once_and_a_made_up_one_not_at_all() {
    let served = Served::lo0("fork-token");
    let parent = served.client();
    let token = parent.fork().expect("a fork is prepared");
    let first = Client::connect_forked(&served.address(), None, token);
    assert!(first.is_ok(), "the first child is welcome");
    for token in [token, ForkToken([7; 16])] {
        let refused = Client::connect_forked(&served.address(), None, token);
        assert!(
            matches!(refused, Err(Error::Handshake(HandshakeRefusal::Fork))),
            "{refused:?}"
        );
    }
}

#[test]
fn a_client_may_have_sixteen_forks_waiting_and_they_go_with_time_not_with_it() {
    let served = Served::lo0("fork-limit");
    let parent = served.client();
    let tokens: Vec<_> = (0..16).map(|_| parent.fork().expect("prepared")).collect();
    let refused = parent.fork();
    assert!(
        refused.is_err(),
        "a seventeenth waits for a claim: {refused:?}"
    );
    // The parent's end does not take its forks: a daemon's parent exits
    // before its child connects.
    drop(parent);
    let child = Client::connect_forked(&served.address(), None, tokens[15]);
    assert!(child.is_ok(), "{child:?}");
}
