//! embedded-tls, a no_std TLS 1.3 client, on our TCP against openssl.
//!
//! The proof that `TcpStream`'s embedded-io traits let ecosystem crates
//! run on our stack unchanged: a hosted kernel on a tap in a network
//! namespace opens a TCP connection to Linux's `openssl s_server -tls1_3
//! -www`, hands it to `embedded_tls::blocking::TlsConnection`, completes a
//! handshake that verifies the server's certificate against a test CA made
//! for the run, sends an HTTP request and reads the page s_server answers
//! with, which describes the session. Needs root, `ip` and `openssl`.

mod tls;

use std::time::Duration;

use embedded_tls::TlsError;
use tls::{Guest, SERVER_NAME, Scratch, TlsServer, require_tools};

use qemu_tests::netns::Namespace;

/// How long the client may take from connect to the last byte.
const DEADLINE: Duration = Duration::from_secs(60);

#[test]
#[ignore = "needs root: a tap device in a network namespace"]
fn embedded_tls_completes_a_tls13_exchange_with_openssl_over_our_tcp() {
    require_tools();
    let namespace = Namespace::new("tls");
    let scratch = Scratch::new("exchange");
    let _server = TlsServer::start(&namespace, &scratch);
    let guest = Guest::boot(&namespace);
    let page = guest
        .fetch(scratch.ca_certificate(), SERVER_NAME, DEADLINE)
        .unwrap_or_else(|error| panic!("the TLS exchange failed: {error:?}"));
    assert!(page.starts_with("HTTP/1.0 200 ok\r\n"), "{page}");
    assert!(
        page.contains("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"),
        "{page}"
    );
    assert!(page.contains("1 server accepts that finished"), "{page}");
    assert!(page.contains("</HTML>"), "the whole page: {page}");
    let counters = guest.counters();
    assert_eq!(
        counters.active_opens, 1,
        "one connection, ours: {counters:?}"
    );
    assert_eq!(counters.established, 1, "{counters:?}");
}

#[test]
#[ignore = "needs root: a tap device in a network namespace"]
fn embedded_tls_refuses_a_certificate_for_another_name_over_our_tcp() {
    require_tools();
    let namespace = Namespace::new("tls-name");
    let scratch = Scratch::new("name");
    let _server = TlsServer::start(&namespace, &scratch);
    let guest = Guest::boot(&namespace);
    let refused = guest.fetch(scratch.ca_certificate(), "somebody-else", DEADLINE);
    assert!(
        matches!(refused, Err(TlsError::InvalidCertificate)),
        "{refused:?}"
    );
}
