//! The TIME-WAIT queues on their own: sizes, restarts, early ends.

use core::net::SocketAddr;

use super::*;
use crate::sequence::Sequence;

fn state() -> TimeWait {
    TimeWait {
        send_next: Sequence(1),
        receive_next: Sequence(2),
        timestamp_recent: 0,
        last_acknowledgment_ms: 0,
        window: 100,
        receive_scale: 0,
        timestamps: false,
    }
}

fn key(local: &str, remote: &str) -> Endpoints {
    let local: SocketAddr = local.parse().unwrap();
    Endpoints::new(local, remote.parse().unwrap())
}

fn key4(port: u16) -> Endpoints4 {
    match key("10.0.0.1:80", &std::format!("10.0.0.2:{port}")) {
        Endpoints::V4(key) => key,
        Endpoints::V6(_) => unreachable!("two IPv4 addresses"),
    }
}

fn insert(table: &mut Table, port: u16, deadline: u64, charges: &mut Charges) -> Ticket {
    let endpoints = key4(port);
    assert!(table.v4.bury(record(endpoints, deadline, state()), charges));
    match table.find(&endpoints.endpoints()) {
        Some(Entry::TimeWait(ticket)) => ticket,
        other => panic!("the record is in the map: {other:?}"),
    }
}

#[test]
fn ipv4_records_are_forty_bytes_and_ipv6_ones_seventy_two() {
    assert_eq!(core::mem::size_of::<Option<Record<Endpoints4>>>(), 40);
    assert_eq!(core::mem::size_of::<Option<Record<Endpoints6>>>(), 72);
    assert_eq!(core::mem::size_of::<Entry>(), 8);
    let entry4 = core::mem::size_of::<Endpoints4>() + core::mem::size_of::<Entry>();
    let entry6 = core::mem::size_of::<Endpoints6>() + core::mem::size_of::<Entry>();
    assert_eq!((entry4, entry6), (20, 48));
}

#[test]
fn restarts_and_early_ends_leave_bounded_empty_slots() {
    let mut table = Table::default();
    let mut charges = Charges::default();
    for port in 0..100 {
        insert(&mut table, 1000 + port, 10, &mut charges);
    }
    assert_eq!(charges.held(), 100 * TIME_WAIT_BYTES);
    // Restart every other record many times: slots empty behind them.
    for round in 0..10u64 {
        for port in (0..100u16).step_by(2) {
            let Some(Entry::TimeWait(ticket)) = table.find(&key4(1000 + port).endpoints()) else {
                panic!("the record is in the map");
            };
            table.restart_time_wait(ticket, 20 + round);
            assert_eq!(table.check_time_waits(), Ok(()));
        }
    }
    assert_eq!(table.time_wait_count(), 100);
    assert_eq!(table.next_time_wait_deadline(), Some(10));
    assert_eq!(table.expire_time_waits(10, &mut charges), 50);
    assert_eq!(table.next_time_wait_deadline(), Some(29));
    // Ending one early: it is gone from the map at once.
    assert!(table.find(&key4(1001).endpoints()).is_none(), "expired");
    let Some(Entry::TimeWait(ticket)) = table.find(&key4(1002).endpoints()) else {
        panic!("still waiting");
    };
    assert!(table.end_time_wait(ticket, &mut charges));
    assert!(table.find(&key4(1002).endpoints()).is_none());
    assert_eq!(table.check_time_waits(), Ok(()));
    assert_eq!(table.expire_time_waits(29, &mut charges), 49);
    assert_eq!(table.time_wait_count(), 0);
    assert_eq!(charges.held(), 0);
    assert_eq!(table.connection_entries(), 0);
}

#[test]
fn the_families_keep_their_own_queues_and_charges() {
    let mut table = Table::default();
    let mut charges = Charges::default();
    let ticket4 = insert(&mut table, 2000, 30, &mut charges);
    let Endpoints::V6(endpoints) = key("[fe80::1%2]:80", "[fe80::2%2]:2000") else {
        unreachable!("two IPv6 addresses");
    };
    assert!(table.v6.bury(record(endpoints, 20, state()), &mut charges));
    assert_eq!(charges.held(), TIME_WAIT_BYTES + TIME_WAIT_BYTES_6);
    assert_eq!(table.time_wait_charge(), charges.held());
    let Some(Entry::TimeWait(ticket6)) = table.find(&endpoints.endpoints()) else {
        panic!("the IPv6 record is in its map");
    };
    assert!(matches!((ticket4, ticket6), (Ticket::V4(0), Ticket::V6(0))));
    let view = table.time_wait(ticket6).expect("a view");
    assert_eq!(view.endpoints.remote(), "[fe80::2%2]:2000".parse().unwrap());
    assert_eq!(table.next_time_wait_deadline(), Some(20));
    assert_eq!(table.expire_time_waits(25, &mut charges), 1);
    assert_eq!(charges.held(), TIME_WAIT_BYTES);
    assert_eq!(table.check_time_waits(), Ok(()));
    let locals: std::vec::Vec<SocketAddr> = table.time_wait_locals().collect();
    assert_eq!(locals, ["10.0.0.1:80".parse().unwrap()]);
}
