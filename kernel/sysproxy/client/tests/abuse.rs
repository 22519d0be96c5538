//! Bad input to the server: malformed, truncated and oversized frames,
//! unknown calls, a wrong version or key, clients that go mid-call or
//! flood calls. Each gets an error on its own stream, the others are
//! served, and nothing is leaked, over ten thousand rounds.

mod common;

use std::time::{Duration, Instant};

use anykernel_client::proto::calls::call;
use anykernel_client::proto::frame::{self, RequestHeader};
use anykernel_client::proto::handshake::{self, Greeting, HandshakeRefusal, Hello};
use anykernel_client::proto::types::{Descriptor, SocketKind};
use anykernel_client::proto::{Call, Refusal, Status};
use anykernel_client::{Client, Error, Stubs};
use common::{Raw, Served, TOO_LONG, framed, host_descriptors, within};

fn request<C: Call>(id: u64, call: &C) -> Vec<u8> {
    frame::request(id, call)
}

#[test]
fn garbage_and_unknown_calls_are_refused_and_the_stream_goes_on() {
    let served = Served::lo0("garbage");
    let mut raw = Raw::welcomed(&served);
    raw.send(&framed(3, &[0xff, 0xff, 0xff]));
    assert_eq!(raw.reply().status, Status::Refused(Refusal::Malformed));
    let unknown = frame::encode(&RequestHeader { id: 7, call: 9999 }, Some(&()));
    raw.send(&unknown);
    let reply = raw.reply();
    assert_eq!(
        (reply.id, reply.status),
        (7, Status::Refused(Refusal::UnknownCall))
    );
    // Request 8 to bind, its arguments cut short.
    raw.send(&framed(3, &[8, call::Bind::NUMBER as u8, 0x80]));
    assert_eq!(raw.reply().status, Status::Refused(Refusal::Malformed));
    raw.send(&request(9, &call::Null {}));
    let reply = raw.reply();
    assert_eq!((reply.id, reply.status), (9, Status::Done));
}

#[test]
fn an_oversized_frame_is_refused_and_ends_the_connection() {
    let served = Served::lo0("oversized");
    let mut raw = Raw::welcomed(&served);
    raw.send(&framed(TOO_LONG, &[0; 16]));
    assert_eq!(raw.reply().status, Status::Refused(Refusal::FrameTooLong));
    assert!(raw.body().is_none(), "the server hung up");
    Client::connect(&served.address())
        .expect("others are served")
        .null()
        .expect("a call");
}

#[test]
fn a_wrong_version_magic_or_key_is_refused_in_the_handshake() {
    let served = Served::boot::<&str>("keyed", "sysproxy.key=open-sesame", &[]);
    let refused = Client::connect(&served.address()).expect_err("no key");
    assert!(
        matches!(refused, Error::Handshake(HandshakeRefusal::Key)),
        "{refused}"
    );
    let wrong = Client::connect_with_key(&served.address(), Some(b"open-sesamE"));
    assert!(matches!(
        wrong,
        Err(Error::Handshake(HandshakeRefusal::Key))
    ));
    let mut old = Hello::new(Some(b"open-sesame"));
    old.version = handshake::VERSION + 1;
    let mut raw = Raw::connect(&served);
    raw.send(&frame::encode::<_, ()>(&old, None));
    let greeting: Greeting = frame::decode(&raw.body().expect("a greeting")).expect("decodes");
    assert_eq!(
        greeting,
        Greeting::Refused(HandshakeRefusal::Version(handshake::VERSION))
    );
    assert!(raw.body().is_none(), "the server hung up");
    let mut alien = Raw::connect(&served);
    alien.send(&framed(18, b"GET / HTTP/1.0\r\n\r\n"));
    let greeting: Greeting = frame::decode(&alien.body().expect("a greeting")).expect("decodes");
    assert_eq!(greeting, Greeting::Refused(HandshakeRefusal::Malformed));
    let right = Client::connect_with_key(&served.address(), Some(b"open-sesame"));
    right.expect("the key opens").null().expect("a call");
}

#[test]
fn a_client_flooding_calls_is_refused_past_its_limit_and_others_go_on() {
    let served = Served::lo0("flood");
    let mut raw = Raw::welcomed(&served);
    let poll = call::Poll {
        entries: Vec::new(),
        timeout_ms: Some(300),
    };
    let calls = 200u64;
    let mut flood = Vec::new();
    for id in 1..=calls {
        flood.extend(request(id, &poll));
    }
    raw.send(&flood);
    let other = Client::connect(&served.address()).expect("connects");
    let started = Instant::now();
    within(10, move || {
        for _ in 0..100 {
            other.null().expect("a null call");
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the flood held up another client"
    );
    let mut done = 0;
    let mut refused = 0;
    for _ in 0..calls {
        match raw.reply().status {
            Status::Done => done += 1,
            Status::Refused(Refusal::TooManyCalls) => refused += 1,
            status => panic!("unexpected {status:?}"),
        }
    }
    assert_eq!(done + refused, calls);
    assert!(refused > 0 && done >= 16, "{done} done, {refused} refused");
}

#[test]
fn a_client_gone_mid_call_loses_its_blocked_calls_and_sockets() {
    let served = Served::lo0("midcall");
    let threads = served.account("threads");
    let mut raw = Raw::welcomed(&served);
    let address = "127.0.0.1:7400".parse().expect("an address");
    raw.send(&request(
        1,
        &call::Socket {
            kind: SocketKind::Stream,
        },
    ));
    raw.send(&request(
        2,
        &call::Bind {
            fd: Descriptor(0),
            address,
        },
    ));
    raw.send(&request(
        3,
        &call::Listen {
            fd: Descriptor(0),
            backlog: 4,
        },
    ));
    raw.send(&request(4, &call::Accept { fd: Descriptor(0) }));
    for _ in 1..=3 {
        assert_eq!(raw.reply().status, Status::Done);
    }
    let worker = threads + 2 * kernel::base::thread::THREAD_BYTES;
    common::wait_for("the accept to wait in a worker", || {
        served.account("threads") >= worker
    });
    drop(raw);
    served.wait_idle(threads);
    assert_eq!(served.sockets(), 0, "the listener closed with its client");
}

/// One round of abuse, chosen by `round`, then a disconnect.
fn abuse(served: &Served, round: usize) {
    match round % 8 {
        0 => {
            let client = Client::connect(&served.address()).expect("connects");
            let _ = client.socket(SocketKind::Datagram);
            let _ = client.socket(SocketKind::Stream);
        }
        1 => Raw::connect(served).send(&framed(100, &[1; 10])),
        2 => Raw::welcomed(served).send(&framed(TOO_LONG, &[])),
        3 => {
            let mut old = Hello::new(None);
            old.version = 0;
            Raw::connect(served).send(&frame::encode::<_, ()>(&old, None));
        }
        4 => {
            let mut raw = Raw::welcomed(served);
            raw.send(&request(
                1,
                &call::Socket {
                    kind: SocketKind::Stream,
                },
            ));
            raw.send(&request(
                2,
                &call::Bind {
                    fd: Descriptor(0),
                    address: "127.0.0.1:0".parse().expect("an address"),
                },
            ));
            raw.send(&request(
                3,
                &call::Listen {
                    fd: Descriptor(0),
                    backlog: 4,
                },
            ));
            raw.send(&request(4, &call::Accept { fd: Descriptor(0) }));
        }
        5 => Raw::welcomed(served).send(&framed(2, &[0xff, 0xff])),
        6 => {
            let mut raw = Raw::welcomed(served);
            let poll = call::Poll {
                entries: Vec::new(),
                timeout_ms: Some(60_000),
            };
            for id in 0..20 {
                raw.send(&request(id, &poll));
            }
        }
        _ => drop(Raw::connect(served)),
    }
}

#[test]
fn ten_thousand_abusive_clients_leave_nothing_behind() {
    let served = Served::lo0("leaks");
    let threads = served.account("threads");
    // One round of each kind first, so that what grows once (the socket
    // table's slots, the pools) has grown before the counts are taken.
    for round in 0..8 {
        abuse(&served, round);
    }
    served.wait_idle(threads);
    let (memory, descriptors) = (served.memory(), host_descriptors());
    let started = Instant::now();
    for round in 0..10_000 {
        abuse(&served, round);
    }
    served.wait_idle(threads);
    common::wait_for("the host descriptors to close", || {
        host_descriptors() <= descriptors
    });
    assert_eq!(served.sockets(), 0);
    assert_eq!(
        served.memory(),
        memory,
        "kernel memory back where it started"
    );
    eprintln!(
        "10,000 abusive clients in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Client::connect(&served.address())
        .expect("still serving")
        .null()
        .expect("a call");
}
