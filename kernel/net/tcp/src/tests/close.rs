//! Closing connections: active, passive, simultaneous, abortive, with
//! unread data and linger, and TIME-WAIT expiry and reuse.

use core::net::{Ipv4Addr, SocketAddr};

use super::network::{Network, SECOND, endpoint};
use crate::header::Flags;
use crate::{Shutdown, SocketOption, State, TcpError};

#[test]
fn active_close_passes_through_time_wait_and_expires() {
    let mut network = Network::pair(11);
    let (client, _, server) = network.establish(80);
    network.send(0, client, b"last words").unwrap();
    network.with(0, |tcp, now, tx| tcp.close(now, client, tx));
    network.run_until(SECOND, |network| {
        network.status(1, server).state == State::CloseWait
    });
    assert_eq!(network.status(1, server).state, State::CloseWait);
    assert_eq!(network.read(1, server).unwrap(), b"last words");
    assert!(network.status(1, server).end_of_file);
    network.run_until(SECOND, |network| {
        network.tcp(0).connection_count() == 1 && network.tcp(0).stats().established == 1
    });
    network.with(1, |tcp, now, tx| tcp.close(now, server, tx));
    network.run_until(SECOND, |network| network.tcp(1).connection_count() == 0);
    assert_eq!(
        network.tcp(1).connection_count(),
        0,
        "LAST-ACK ends on the ACK"
    );
    assert_eq!(
        network.tcp(0).connection_count(),
        1,
        "the client waits in TIME-WAIT"
    );
    network.settle(SECOND);
    assert_eq!(network.tcp(0).connection_count(), 1);
    network.settle(2 * SECOND);
    assert_eq!(network.tcp(0).connection_count(), 0, "TIME-WAIT expired");
    assert_eq!(network.tcp(0).next_deadline(), None);
}

#[test]
fn passive_close_visits_close_wait_and_last_ack() {
    let mut network = Network::pair(12);
    let (client, _, server) = network.establish(80);
    network
        .with(0, |tcp, now, tx| {
            tcp.shutdown(now, client, Shutdown::Write, tx)
        })
        .unwrap();
    assert_eq!(network.status(0, client).state, State::FinWait1);
    network.settle(SECOND / 10);
    assert_eq!(network.status(0, client).state, State::FinWait2);
    assert_eq!(network.status(1, server).state, State::CloseWait);
    assert_eq!(network.send(0, client, b"x"), Err(TcpError::Shutdown));
    // The half-closed server can still send.
    network.send(1, server, b"reply").unwrap();
    network
        .with(1, |tcp, now, tx| {
            tcp.shutdown(now, server, Shutdown::Write, tx)
        })
        .unwrap();
    assert_eq!(network.status(1, server).state, State::LastAck);
    network.settle(SECOND / 10);
    assert_eq!(network.status(1, server).state, State::Closed);
    assert_eq!(network.status(0, client).state, State::TimeWait);
    assert_eq!(network.read(0, client).unwrap(), b"reply");
    assert!(network.status(0, client).end_of_file);
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut network = Network::pair(13);
    let (client, _, server) = network.establish(80);
    network
        .with(0, |tcp, now, tx| {
            tcp.shutdown(now, client, Shutdown::Write, tx)
        })
        .unwrap();
    network
        .with(1, |tcp, now, tx| {
            tcp.shutdown(now, server, Shutdown::Write, tx)
        })
        .unwrap();
    network.run_until(SECOND, |network| {
        network.status(0, client).state == State::Closing
    });
    assert_eq!(network.status(1, server).state, State::Closing);
    network.settle(SECOND / 10);
    assert_eq!(network.status(0, client).state, State::TimeWait);
    assert_eq!(network.status(1, server).state, State::TimeWait);
    network.settle(3 * SECOND);
    assert_eq!(network.status(0, client).state, State::Closed);
    assert_eq!(network.status(1, server).state, State::Closed);
}

#[test]
fn abort_resets_the_peer() {
    let mut network = Network::pair(14);
    let (client, _, server) = network.establish(80);
    network.with(0, |tcp, now, tx| tcp.abort(now, client, tx));
    assert_eq!(network.tcp(0).connection_count(), 0);
    network.settle(SECOND);
    let status = network.status(1, server);
    assert_eq!(status.state, State::Closed);
    assert_eq!(status.error, Some(TcpError::ConnectionReset));
    let mut buffer = [0u8; 8];
    let read = network.with(1, |tcp, now, tx| tcp.recv(now, server, &mut buffer, tx));
    assert_eq!(read, Err(TcpError::ConnectionReset));
    assert_eq!(network.tcp(1).stats().resets_received, 1);
}

#[test]
fn close_with_unread_data_resets() {
    let mut network = Network::pair(15);
    let (client, _, server) = network.establish(80);
    network.send(0, client, b"never read").unwrap();
    network.settle(SECOND);
    let start = network.capture.len();
    network.with(1, |tcp, now, tx| tcp.close(now, server, tx));
    let sent: std::vec::Vec<_> = network.sent_by(1, start).collect();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].has(Flags::RST));
    network.settle(SECOND);
    assert_eq!(
        network.status(0, client).error,
        Some(TcpError::ConnectionReset)
    );
}

#[test]
fn linger_zero_resets_at_once() {
    let mut network = Network::pair(16);
    let (client, _, server) = network.establish(80);
    network
        .with(0, |tcp, _, _| {
            tcp.set_option(client, SocketOption::Linger(Some(0)))
        })
        .unwrap();
    network.with(0, |tcp, now, tx| tcp.close(now, client, tx));
    network.settle(SECOND);
    assert_eq!(
        network.status(1, server).error,
        Some(TcpError::ConnectionReset)
    );
    assert_eq!(network.tcp(0).connection_count(), 0);
}

#[test]
fn data_arriving_after_close_resets() {
    let mut network = Network::pair(17);
    let (client, _, server) = network.establish(80);
    network.with(1, |tcp, now, tx| tcp.close(now, server, tx));
    network.settle(SECOND / 10);
    assert_eq!(network.status(0, client).state, State::CloseWait);
    network.send(0, client, b"too late").unwrap();
    network.settle(SECOND);
    assert_eq!(
        network.status(0, client).error,
        Some(TcpError::ConnectionReset)
    );
    assert_eq!(network.tcp(1).connection_count(), 0);
}

#[test]
fn a_newer_syn_reuses_a_time_wait_connection() {
    let mut network = Network::pair(18);
    let (client, _, server) = network.establish(80);
    let client_port = network.tcp(0).local_address(client).unwrap().port();
    // The server closes first, so the server holds TIME-WAIT.
    network.with(1, |tcp, now, tx| tcp.close(now, server, tx));
    network.settle(SECOND / 10);
    network.with(0, |tcp, now, tx| tcp.close(now, client, tx));
    network.settle(SECOND / 10);
    assert_eq!(
        network.tcp(1).connection_count(),
        1,
        "TIME-WAIT on the server"
    );
    let again = network.with(0, |tcp, now, tx| {
        let handle = tcp.open().unwrap();
        tcp.bind(handle, endpoint(0, client_port)).unwrap();
        tcp.connect(now, handle, endpoint(1, 80), tx).unwrap();
        handle
    });
    let connected = network.run_until(SECOND, |network| {
        network.status(0, again).state == State::Established
    });
    assert!(connected, "the SYN ended TIME-WAIT without waiting it out");
    assert_eq!(network.tcp(1).stats().time_wait_reuses, 1);
}

#[test]
fn reuse_address_binds_over_time_wait() {
    let mut network = Network::pair(19);
    let (client, _, server) = network.establish(80);
    let local = network.tcp(0).local_address(client).unwrap();
    network.with(0, |tcp, now, tx| tcp.close(now, client, tx));
    network.settle(SECOND / 10);
    network.with(1, |tcp, now, tx| tcp.close(now, server, tx));
    network.settle(SECOND / 10);
    assert_eq!(
        network.tcp(0).connection_count(),
        1,
        "TIME-WAIT on the client"
    );
    let plain = network.with(0, |tcp, _, _| {
        let handle = tcp.open().unwrap();
        tcp.bind(handle, local)
    });
    assert_eq!(plain, Err(TcpError::AddressInUse));
    let reused = network.with(0, |tcp, now, tx| {
        let handle = tcp.open().unwrap();
        tcp.set_option(handle, SocketOption::ReuseAddress(true))
            .unwrap();
        tcp.bind(handle, local).unwrap();
        tcp.connect(now, handle, endpoint(1, 80), tx).unwrap();
        handle
    });
    let connected = network.run_until(SECOND, |network| {
        network.status(0, reused).state == State::Established
    });
    assert!(connected);
    assert_eq!(network.tcp(0).stats().time_wait_reuses, 1);
}

#[test]
fn closing_a_listener_resets_unaccepted_children() {
    let mut network = Network::pair(20);
    let listener = network.listen(1, 80, 8);
    let client = network.connect(0, 1, 80);
    network.settle(SECOND / 10);
    assert_eq!(network.status(0, client).state, State::Established);
    network.with(1, |tcp, now, tx| tcp.close(now, listener, tx));
    network.settle(SECOND);
    assert_eq!(network.tcp(1).connection_count(), 0);
    assert_eq!(
        network.status(0, client).error,
        Some(TcpError::ConnectionReset)
    );
    let rebound = network.with(1, |tcp, _, _| {
        let handle = tcp.open().unwrap();
        tcp.bind(handle, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)))
    });
    assert_eq!(rebound, Ok(()));
}

#[test]
fn a_closed_socket_stuck_in_fin_wait_2_is_reset_after_the_timeout() {
    let short = crate::TcpConfig {
        fin_wait_2_timeout_ns: 5 * SECOND,
        ..super::network::config()
    };
    let mut network = Network::new(21, &[short, super::network::config()]);
    let (client, _, server) = network.establish(80);
    network.with(0, |tcp, now, tx| tcp.close(now, client, tx));
    network.settle(SECOND);
    assert_eq!(
        network.tcp(0).connection_count(),
        1,
        "FIN-WAIT-2, waiting for the server"
    );
    assert_eq!(network.status(1, server).state, State::CloseWait);
    network.settle(10 * SECOND);
    assert_eq!(network.tcp(0).connection_count(), 0);
    assert_eq!(
        network.status(1, server).error,
        Some(TcpError::ConnectionReset)
    );
}
