//! Network figures of hosted kernels, for `cargo xtask bench --hosted`.
//!
//! Two kernels on a shared-memory bus in this process: bulk TCP
//! throughput, request/response round trips on one connection, new
//! connections per second, and heap allocations per packet during the
//! bulk transfer (counted by this program's global allocator). As root,
//! also Linux's TCP against a hosted kernel on a tap in a network
//! namespace, with the tap's offloads (`tap_*`) and without
//! (`tap_offload_off_*`). Prints `bench <metric> <value> <unit>` lines; reports, does
//! not assert.

#[path = "../tests/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use common::{Bus, Node, connect, listener, nodes_on_bus, receive_all, send_pattern};
use kernel::Context;
use kernel::net::{Net, SocketOption};
use qemu_tests::netns::{HOST_ADDRESS, Namespace, missing_privilege};

/// Counts every heap allocation of the process.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers to the system allocator, whose contract it keeps; the
// counter is a relaxed atomic with no other effect.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from `alloc` above with this layout.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BULK: u64 = 256 * 1024 * 1024;
const ROUND_TRIPS: usize = 20_000;
const CONNECTIONS: usize = 2_000;
const MESSAGE: usize = 64;
/// The hosted kernel's address on the tap link.
const TAP_GUEST: std::net::Ipv4Addr = std::net::Ipv4Addr::new(192, 168, 77, 2);

fn figure(metric: &str, value: f64, unit: &str) {
    println!("bench {metric} {value:.1} {unit}");
}

fn main() {
    bus_figures();
    match missing_privilege(&[]) {
        Some(reason) => eprintln!("hosted_bench: Linux over tap skipped: {reason}"),
        None => {
            tap_figures("tap:tap0", "tap");
            tap_figures("tap:tap0,offload=off", "tap_offload_off");
        }
    }
}

fn segments(node: &Node) -> u64 {
    node.counter("tcp segments_sent") + node.counter("tcp segments_received")
}

fn bus_figures() {
    let bus = Bus::new("bench");
    let nodes = nodes_on_bus(&bus, 2, "", "log=warn");
    let bulk = nodes[1].run(|context, net| listener(context, net, 9, 4));
    let sink = nodes[1].clone().spawn(move |context, net| {
        let (connection, _) = net.accept(context, bulk).unwrap();
        receive_all(context, net, connection)
    });
    let packets_before = segments(&nodes[0]) + segments(&nodes[1]);
    let allocations_before = ALLOCATIONS.load(Relaxed);
    let started = Instant::now();
    nodes[0].run(|context, net| {
        let fd = connect(context, net, 2, 9).unwrap();
        send_pattern(context, net, fd, 1, BULK);
        net.close(context, fd).unwrap();
    });
    let (received, _) = sink.join().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let allocations = ALLOCATIONS.load(Relaxed) - allocations_before;
    let packets = segments(&nodes[0]) + segments(&nodes[1]) - packets_before;
    figure(
        "bus_tcp_bulk",
        received as f64 / seconds / 1048576.0,
        "MiB/s",
    );
    let per_thousand = allocations as f64 * 1000.0 / packets.max(1) as f64;
    figure("bus_allocations_per_1000_packets", per_thousand, "allocs");
    echo_server(&nodes[1], 7);
    let rtts = nodes[0].run(round_trips);
    report_round_trips("bus_tcp_rr", rtts);
    let started = Instant::now();
    nodes[0].run(|context, net| {
        for _ in 0..CONNECTIONS {
            let fd = connect(context, net, 2, 7).unwrap();
            exchange(context, net, fd);
            net.close(context, fd).unwrap();
        }
    });
    figure(
        "bus_tcp_connections",
        CONNECTIONS as f64 / started.elapsed().as_secs_f64(),
        "conn/s",
    );
}

/// An echo service on `node`: an accepting host thread, a kernel thread
/// per connection.
fn echo_server(node: &Arc<Node>, port: u16) {
    let fd = node.run(|context, net| listener(context, net, port, 128));
    let node = node.clone();
    std::thread::spawn(move || {
        loop {
            let Ok((connection, _)) = node.run(|context, net| net.accept(context, fd)) else {
                return;
            };
            node.clone().spawn(move |context, net| {
                let _ = net.set_option(context, connection, SocketOption::NoDelay(true));
                let mut buffer = [0u8; 4096];
                while let Ok(count) = net.read(context, connection, &mut buffer) {
                    if count == 0 || net.write(context, connection, &buffer[..count]).is_err() {
                        break;
                    }
                }
                let _ = net.close(context, connection);
            });
        }
    });
}

fn exchange(context: &Context<'_>, net: &Net, fd: kernel::net::Fd) {
    let message = [7u8; MESSAGE];
    net.write(context, fd, &message).unwrap();
    let mut buffer = [0u8; MESSAGE];
    let mut got = 0;
    while got < MESSAGE {
        got += net.read(context, fd, &mut buffer[got..]).unwrap();
    }
}

fn round_trips(context: &Context<'_>, net: &Net) -> Vec<f64> {
    let fd = connect(context, net, 2, 7).unwrap();
    net.set_option(context, fd, SocketOption::NoDelay(true))
        .unwrap();
    let times = (0..ROUND_TRIPS)
        .map(|_| {
            let started = Instant::now();
            exchange(context, net, fd);
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    net.close(context, fd).unwrap();
    times
}

fn report_round_trips(prefix: &str, mut rtts: Vec<f64>) {
    rtts.sort_by(f64::total_cmp);
    let total: f64 = rtts.iter().sum();
    figure(&format!("{prefix}_median"), rtts[rtts.len() / 2], "us");
    figure(&format!("{prefix}_p99"), rtts[rtts.len() * 99 / 100], "us");
    figure(
        &format!("{prefix}_rate"),
        rtts.len() as f64 / (total / 1e6),
        "req/s",
    );
}

/// Linux's TCP against a hosted kernel on a tap (NIC spec `spec`: with
/// its offloads, or `offload=off`), both in a namespace; the figures' names
/// start with `prefix`.
fn tap_figures(spec: &'static str, prefix: &str) {
    let namespace = Namespace::new("bench");
    let node =
        Arc::new(namespace.run_inside(move || {
            Node::boot("tap", "ip=192.168.77.2/24 log=warn", &[spec.to_string()])
        }));
    let discard = node.run(|context, net| listener(context, net, 9, 4));
    let sink = node.clone().spawn(move |context, net| {
        let (connection, _) = net.accept(context, discard).unwrap();
        receive_all(context, net, connection)
    });
    let guest = SocketAddrV4::new(TAP_GUEST, 9);
    let seconds = namespace.run_inside(move || {
        let mut stream = TcpStream::connect(guest).unwrap();
        let block = vec![5u8; 64 * 1024];
        let started = Instant::now();
        for _ in 0..BULK / block.len() as u64 {
            stream.write_all(&block).unwrap();
        }
        drop(stream);
        started.elapsed().as_secs_f64()
    });
    let (received, _) = sink.join().unwrap();
    figure(
        &format!("{prefix}_linux_to_kernel"),
        received as f64 / seconds / 1048576.0,
        "MiB/s",
    );
    let upload = namespace.run_inside(|| {
        let listener = TcpListener::bind((HOST_ADDRESS, 5999)).unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buffer = vec![0u8; 256 * 1024];
            let started = Instant::now();
            let mut total = 0u64;
            loop {
                let count = stream.read(&mut buffer).unwrap();
                if count == 0 {
                    return (total, started.elapsed().as_secs_f64());
                }
                total += count as u64;
            }
        })
    });
    node.run(|context, net| {
        let fd = net
            .socket(context, kernel::net::SocketType::Stream)
            .unwrap();
        net.connect(
            context,
            fd,
            SocketAddrV4::new([192, 168, 77, 1].into(), 5999),
        )
        .unwrap();
        send_pattern(context, net, fd, 2, BULK);
        net.close(context, fd).unwrap();
    });
    let (total, seconds) = upload.join().unwrap();
    figure(
        &format!("{prefix}_kernel_to_linux"),
        total as f64 / seconds / 1048576.0,
        "MiB/s",
    );
    echo_server(&node, 7);
    let rtts = namespace.run_inside(|| {
        let mut stream = TcpStream::connect((TAP_GUEST, 7)).unwrap();
        stream.set_nodelay(true).unwrap();
        let message = [7u8; MESSAGE];
        let mut buffer = [0u8; MESSAGE];
        (0..ROUND_TRIPS)
            .map(|_| {
                let started = Instant::now();
                stream.write_all(&message).unwrap();
                stream.read_exact(&mut buffer).unwrap();
                started.elapsed().as_secs_f64() * 1e6
            })
            .collect()
    });
    report_round_trips(&format!("{prefix}_tcp_rr"), rtts);
}
