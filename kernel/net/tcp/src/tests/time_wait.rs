//! Many TIME-WAIT connections: a server that closes first keeps thousands,
//! each as a 40-byte record, and one segment or timer run must cost no
//! more than with a handful.
//!
//! Work is measured in slot visits (`Table::visits`, record visits
//! included), not wall time; memory with a counting allocator. The server
//! is host 1; hosts 0 and 2 are clients (each has only 16384 ephemeral
//! ports).

use std::vec::Vec;

use super::heap;
use super::network::{Network, SECOND, address, config};
use crate::state::State;
use crate::table::{Endpoints4, Entry, Record, TIME_WAIT_BYTES, Table};
use crate::{SocketHandle, TcpConfig};

const SERVER: usize = 1;
const CLIENTS: [usize; 2] = [0, 2];
const PORT: u16 = 80;

fn server_config() -> TcpConfig {
    TcpConfig {
        maximum_sockets: 30_000,
        syn_backlog: 4096,
        time_wait_ns: 60 * SECOND,
        ..config()
    }
}

/// A server with `count` connections in TIME-WAIT, plus one established
/// connection from host 0: (network, client side, server side).
fn server_with_time_waits(count: usize) -> (Network, SocketHandle, SocketHandle) {
    let configs = [config(), server_config(), config()];
    let mut network = Network::new(77, &configs);
    network.check = false;
    let listener = network.listen(SERVER, PORT, 4096);
    let mut left = count;
    while left > 0 {
        let batch = left.min(500);
        cycle(&mut network, listener, batch);
        left -= batch;
    }
    let (client, server) = open_one(&mut network, listener);
    (network, client, server)
}

/// `total` connections, split over the clients, opened and then closed
/// by the server first.
fn cycle(network: &mut Network, listener: SocketHandle, total: usize) {
    let opened: Vec<(usize, SocketHandle)> = (0..total)
        .map(|number| {
            let client = CLIENTS[number % CLIENTS.len()];
            (client, network.connect(client, SERVER, PORT))
        })
        .collect();
    let accepted = accept_all(network, listener, total);
    network.with(SERVER, |tcp, now, tx| {
        accepted
            .iter()
            .for_each(|server| tcp.close(now, *server, tx));
    });
    let closed = network.run_until(10 * SECOND, |network| {
        let end =
            |&(client, handle): &(usize, SocketHandle)| network.status(client, handle).end_of_file;
        opened.iter().all(end)
    });
    assert!(closed, "every client saw the server's FIN");
    for (client, handle) in opened {
        network.with(client, |tcp, now, tx| tcp.close(now, handle, tx));
    }
    let done = network.run_until(10 * SECOND, |network| {
        CLIENTS
            .iter()
            .all(|client| network.tcp(*client).connection_count() == 0)
    });
    assert!(done, "every LAST-ACK was acknowledged");
    network.capture.clear();
}

fn accept_all(network: &mut Network, listener: SocketHandle, total: usize) -> Vec<SocketHandle> {
    let mut accepted = Vec::new();
    let all = network.run_until(10 * SECOND, |network| {
        network.with(SERVER, |tcp, _, _| {
            accepted.extend(core::iter::from_fn(|| tcp.accept(listener).ok()));
        });
        accepted.len() == total
    });
    assert!(all, "every connection was accepted");
    accepted
}

fn open_one(network: &mut Network, listener: SocketHandle) -> (SocketHandle, SocketHandle) {
    let client = network.connect(0, SERVER, PORT);
    let server = accept_all(network, listener, 1)[0];
    network.settle(SECOND / 10);
    (client, server)
}

/// Slot visits of the server for one data segment's input followed by
/// `next_deadline`, as the glue does after every call.
fn visits_for_one_segment(network: &mut Network, client: SocketHandle) -> u64 {
    let start = network.capture.len();
    network.up = false;
    network.send(0, client, b"ping").expect("room to send");
    network.up = true;
    let segment = network.sent_by(0, start).last().expect("the data segment");
    let bytes = segment.bytes.clone();
    let before = network.tcp(SERVER).table.visits();
    network.inject(SERVER, address(0), bytes, false);
    assert!(network.tcp(SERVER).next_deadline().is_some());
    network.tcp(SERVER).table.visits() - before
}

/// Slot visits of the server for running its next timer (the delayed ACK
/// of the "ping").
fn visits_for_next_timer(network: &mut Network) -> u64 {
    let deadline = network.tcp(SERVER).next_deadline().expect("a timer");
    network.now = deadline;
    let before = network.tcp(SERVER).table.visits();
    network.with(SERVER, |tcp, now, tx| tcp.on_timer(now, tx));
    assert!(network.tcp(SERVER).next_deadline() > Some(deadline));
    network.tcp(SERVER).table.visits() - before
}

/// Runs the server's timers past 2 MSL: (slot visits, heap bytes given
/// back per record). Only the records' containers shrink in that call, so
/// what it frees is what they held, their slack included.
fn expire_all(network: &mut Network) -> (u64, f64) {
    let records = network.tcp(SERVER).table.time_wait_count();
    let held = heap::held();
    network.now += 61 * SECOND;
    let before = network.tcp(SERVER).table.visits();
    network.with(SERVER, |tcp, now, tx| tcp.on_timer(now, tx));
    let visits = network.tcp(SERVER).table.visits() - before;
    assert_eq!(time_waits(network), (0, 0), "TIME-WAIT expired");
    let freed = (held - heap::held()) as f64 / records as f64;
    (visits, freed)
}

/// The server's TIME-WAIT connections: (records, sockets).
fn time_waits(network: &Network) -> (usize, usize) {
    let table = &network.tcp(SERVER).table;
    let waiting = |tcb: &&crate::tcb::Tcb| tcb.state == State::TimeWait;
    (
        table.time_wait_count(),
        table.iter().filter(waiting).count(),
    )
}

#[test]
fn twenty_thousand_time_waits_cost_one_segment_no_more_than_ten() {
    let (mut few, few_client, _) = server_with_time_waits(10);
    let (mut many, many_client, _) = server_with_time_waits(20_000);
    assert_eq!(time_waits(&few), (10, 0));
    assert_eq!(time_waits(&many), (20_000, 0), "all records, no sockets");
    assert_eq!(many.tcp(SERVER).check_invariants(), Ok(()));

    let segment_few = visits_for_one_segment(&mut few, few_client);
    let segment_many = visits_for_one_segment(&mut many, many_client);
    std::println!(
        "input + next_deadline: {segment_few} slot visits with 10, {segment_many} with 20000"
    );
    assert!(
        segment_many <= 2 * segment_few + 16,
        "{segment_many} vs {segment_few}"
    );

    let timer_few = visits_for_next_timer(&mut few);
    let timer_many = visits_for_next_timer(&mut many);
    std::println!("on_timer (one due): {timer_few} slot visits with 10, {timer_many} with 20000");
    assert!(
        timer_many <= 2 * timer_few + 16,
        "{timer_many} vs {timer_few}"
    );
    assert_eq!(many.tcp(SERVER).check_invariants(), Ok(()));
    let (_, per_record) = expire_all(&mut many);
    std::println!("heap per TIME-WAIT record, 20000 of them: {per_record:.1} bytes");
    assert!(per_record <= TIME_WAIT_BYTES as f64, "{per_record} bytes");
}

#[test]
fn time_wait_records_are_small_and_expire_together() {
    let (mut network, _, _) = server_with_time_waits(2_000);
    assert_eq!(time_waits(&network), (2_000, 0));
    let tcp = network.tcp(SERVER);
    let sockets: usize = tcp.table.iter().map(crate::tcb::Tcb::footprint).sum();
    assert_eq!(tcp.memory_held(), sockets + 2_000 * TIME_WAIT_BYTES);

    let (visits, per_record) = expire_all(&mut network);
    assert!(visits <= 10 * 2_000 + 16, "{visits} visits to expire 2000");
    let record = core::mem::size_of::<Option<Record<Endpoints4>>>();
    let entry = core::mem::size_of::<Endpoints4>() + core::mem::size_of::<Entry>();
    let socket = core::mem::size_of::<crate::tcb::Tcb>() + Table::BYTES_PER_SOCKET;
    std::println!(
        "bytes per TIME-WAIT: {} ({record} the record, {entry} its map entry; \
         {per_record:.1} on the heap, {TIME_WAIT_BYTES} charged); a socket: {socket}",
        record + entry
    );
    assert!(record + entry <= 64, "{} bytes", record + entry);
    assert!(per_record <= TIME_WAIT_BYTES as f64, "{per_record} bytes");
    let tcp = network.tcp(SERVER);
    let sockets: usize = tcp.table.iter().map(crate::tcb::Tcb::footprint).sum();
    assert_eq!(tcp.memory_held(), sockets);
    assert_eq!(tcp.check_invariants(), Ok(()));
}

/// The deadline of host 1's only TIME-WAIT record.
fn record_deadline(network: &Network) -> Option<u64> {
    let table = &network.tcp(1).table;
    table
        .time_wait_records()
        .next()
        .map(|(deadline, _)| deadline)
}

#[test]
fn a_record_acknowledges_a_retransmitted_fin_and_waits_again() {
    let mut network = Network::pair(78);
    let (client, _, server) = network.establish(80);
    network.with(1, |tcp, now, tx| tcp.close(now, server, tx));
    network.settle(SECOND / 10);
    // The server's ACK of the client's FIN is lost once.
    let lost = std::rc::Rc::new(core::cell::Cell::new(false));
    let once = lost.clone();
    network.filter = Some(std::boxed::Box::new(move |from, segment| {
        let first = from == 1 && !once.get();
        once.set(once.get() || first);
        first && segment.payload.is_empty()
    }));
    network.with(0, |tcp, now, tx| tcp.close(now, client, tx));
    network.run_until(SECOND, |network| record_deadline(network).is_some());
    let first = record_deadline(&network).expect("the server's record");
    assert!(lost.get());
    let start = network.capture.len();
    let done = network.run_until(5 * SECOND, |network| network.tcp(0).connection_count() == 0);
    assert!(done, "the client's retransmitted FIN was acknowledged");
    let answers: Vec<_> = network.sent_by(1, start).collect();
    assert_eq!(answers.len(), 1, "one ACK from the record");
    let (value, echo) = answers[0].segment().options.timestamp.expect("timestamps");
    // TS.Recent is the first FIN's TSval: the retransmission is old.
    let is_fin = |captured: &&super::network::Captured| captured.has(crate::header::Flags::FIN);
    let fin = network.sent_by(0, 0).find(is_fin).expect("the FIN");
    assert_eq!(
        Some(echo),
        fin.segment().options.timestamp.map(|(sent, _)| sent)
    );
    assert_eq!(network.sent_by(0, start).filter(is_fin).count(), 1);
    assert!(value != 0 && answers[0].has(crate::header::Flags::ACK));
    let again = record_deadline(&network).expect("still waiting");
    assert!(again > first, "2 MSL restarted: {first} -> {again}");
    network.settle(3 * SECOND);
    assert_eq!(time_waits(&network), (0, 0));
    assert_eq!(network.tcp(1).next_deadline(), None);
    assert_eq!(network.tcp(1).memory_held(), {
        let tcp = network.tcp(1);
        tcp.table
            .iter()
            .map(crate::tcb::Tcb::footprint)
            .sum::<usize>()
    });
}

#[test]
fn an_exact_reset_ends_a_record_and_an_old_one_does_not() {
    let mut network = Network::pair(79);
    let (client, _, server) = network.establish(80);
    let local = network.tcp(0).local_address(client).unwrap();
    network.with(1, |tcp, now, tx| tcp.close(now, server, tx));
    network.settle(SECOND / 10);
    network.with(0, |tcp, now, tx| tcp.close(now, client, tx));
    network.run_until(SECOND, |network| record_deadline(network).is_some());
    network.settle(SECOND / 10);
    let record = *network.tcp(1).table.time_wait_records().next().unwrap().1;
    let reset = |sequence: crate::sequence::Sequence| {
        let mut bytes = std::vec![0u8; 20];
        crate::header::HeaderFields {
            source_port: local.port(),
            destination_port: PORT_80,
            sequence,
            acknowledgment: crate::sequence::Sequence(0),
            flags: crate::header::Flags::RST,
            window: 0,
        }
        .write(&mut bytes, 0);
        bytes
    };
    let stale = reset(record.receive_next.subtract(5000));
    network.inject(1, address(0), stale, true);
    assert_eq!(time_waits(&network), (1, 0), "a reset outside the window");
    let exact = reset(record.receive_next);
    network.inject(1, address(0), exact, true);
    assert_eq!(time_waits(&network), (0, 0), "the exact reset");
    assert_eq!(network.tcp(1).stats().resets_received, 1);
}

const PORT_80: u16 = 80;
