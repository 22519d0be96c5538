//! Hosted kernels: the kernels' memory accounting follows 10,000 idle TCP
//! connections, measured against what this process's allocator really
//! handed out, and comes back to where it started once they close.
//!
//! One test in this file on purpose: the global allocator below counts
//! every live byte of the process, so nothing else may run beside it.

mod common;
mod reclaim;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddrV4;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use common::{Bus, Node, address, listener};
use kernel::net::{Fd, SocketOption, SocketType};
use reclaim::{account, nodes_with_pagedaemon, wait_until};

/// Counts the bytes the process holds on its heap.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator, whose contract it keeps; the
// counter is a relaxed atomic with no other effect.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `pointer` came from `alloc` above with this layout.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONNECTIONS: usize = 10_000;
const CLIENTS: usize = 2;
const PORTS: [u16; 3] = [7001, 7002, 7003];

/// The bytes every kernel has charged, together.
fn accounted(nodes: &[Arc<Node>]) -> usize {
    nodes
        .iter()
        .map(|node| node.kernel.memory().stats().in_use)
        .sum()
}

/// The accounts that must come back to where they started (pools keep
/// free chunks until the pagedaemon takes them; ARP learned the peers).
const ACCOUNTS: [&str; 5] = ["tcp", "sockets", "udp", "reassembly", "threads"];

fn accounts(node: &Node) -> Vec<usize> {
    ACCOUNTS.iter().map(|name| account(node, name)).collect()
}

/// Closes every descriptor with a reset (linger 0), so that no burst of
/// closes overflows a receiver and nothing waits in FIN-WAIT-2.
fn abort_all(node: &Node, fds: &[Fd]) {
    node.run(|context, net| {
        for &fd in fds {
            net.set_option(context, fd, SocketOption::Linger(Some(0)))
                .expect("SO_LINGER");
            net.close(context, fd).expect("close");
        }
    });
}

/// Opens `count` connections from `node` to the server, spread over the
/// listeners, and keeps them.
fn open_connections(node: &Arc<Node>, count: usize, server: u8) -> Vec<Fd> {
    node.run(|context, net| {
        let mut fds = Vec::with_capacity(count);
        for index in 0..count {
            let port = PORTS[index % PORTS.len()];
            let fd = net.socket(context, SocketType::Stream).expect("socket");
            let peer = SocketAddrV4::new(address(server), port);
            net.connect(context, fd, peer).expect("connect");
            fds.push(fd);
        }
        fds
    })
}

#[test]
fn the_accounting_follows_ten_thousand_idle_connections_and_falls_back() {
    let bus = Bus::new("accounting");
    let nodes = nodes_with_pagedaemon(&bus, &["log=warn"; 3]);
    let server = &nodes[CLIENTS];
    let server_host = CLIENTS as u8 + 1;
    let before: Vec<Vec<usize>> = nodes.iter().map(|node| accounts(node)).collect();
    let listeners: Vec<Fd> = PORTS
        .iter()
        .map(|&port| server.run(|context, net| listener(context, net, port, 4096)))
        .collect();
    let per_client = CONNECTIONS / CLIENTS;
    let (accounted_before, live_before) = (accounted(&nodes), LIVE.load(Relaxed));
    let server_before = server.kernel.memory().stats().in_use;
    let opening: Vec<_> = nodes[..CLIENTS]
        .iter()
        .map(|node| {
            let node = node.clone();
            std::thread::spawn(move || open_connections(&node, per_client, server_host))
        })
        .collect();
    let fds: Vec<Vec<Fd>> = opening.into_iter().map(|t| t.join().unwrap()).collect();
    wait_until("every child in an accept queue", || {
        server.counter("tcp established") >= CONNECTIONS as u64
    });
    let accounted_growth = accounted(&nodes) - accounted_before;
    let live_growth = LIVE.load(Relaxed).saturating_sub(live_before);
    let server_growth = server.kernel.memory().stats().in_use - server_before;
    println!(
        "figure idle_connection_bytes accounted {} real {} server_side {}",
        accounted_growth / CONNECTIONS,
        live_growth / CONNECTIONS,
        server_growth / CONNECTIONS
    );
    let ratio = accounted_growth as f64 / live_growth as f64;
    assert!(
        (0.75..=1.25).contains(&ratio),
        "accounted {accounted_growth} bytes for {live_growth} the allocator gave out"
    );
    assert!(server_growth / CONNECTIONS > 1024, "a control block each");
    for (node, fds) in nodes.iter().zip(&fds) {
        abort_all(node, fds);
    }
    for fd in listeners {
        server.run(|context, net| net.close(context, fd).expect("close"));
    }
    wait_until("every connection gone", || {
        nodes
            .iter()
            .all(|node| node.counter("tcp connections") == 0)
    });
    for (node, before) in nodes.iter().zip(&before) {
        assert_eq!(
            &accounts(node),
            before,
            "{}: {ACCOUNTS:?} came back",
            node.name
        );
        let pool = account(node, "packet_pool");
        let reclaimed = node.run(|context, _| node.kernel.memory().wait_for_reclaim(context));
        assert!(reclaimed, "a pagedaemon pass ran");
        assert!(account(node, "packet_pool") <= pool);
    }
    let after = accounted(&nodes);
    println!(
        "figure accounting_bytes before {accounted_before} open {} closed {after}",
        accounted_before + accounted_growth
    );
    assert!(
        after < accounted_before + accounted_growth / 4,
        "the connections' memory came back: {accounted_before} -> {after}"
    );
}
