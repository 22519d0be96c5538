//! Forwarding figures of hosted kernels, for `cargo xtask bench --hosted`.
//!
//! Chains A — R1 — … — Rn — B of hosted kernels in this process, one bus
//! per link, every router configured by boot parameters alone
//! (`tests/common/chain.rs`; IPv4, as IPv6's duplicate address detection
//! would add its second to every boot):
//!
//! - `forward_chainN_ready`: boot the N+2 kernels one after the other,
//!   let them configure themselves, and get the first ping from A to B
//!   back (ARP at every hop on the way): the seeds' 255-node figure;
//! - `forward_chainN_rtt_median`: a ping's round trip over the chain
//!   afterwards, and `forward_per_hop` the cost of one router one way,
//!   (chain RTT − direct RTT) / 2N, the seeds' "per hop";
//! - `forward_bulk_1` and `forward_bulk_N`: TCP through 1 and N routers.
//!
//! Prints `bench <metric> <value> <unit>` lines; reports, does not assert.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::chain::{Chain, ChainConfig};
use common::{listener, receive_all, send_pattern};

/// Routers in the long chain: TTL 64 allows 63.
const LONG: usize = 32;
/// Pings per round-trip figure.
const PINGS: u16 = 300;
/// Bytes per bulk transfer.
const BULK: u64 = 64 << 20;
const SECOND: u64 = 1_000_000_000;

fn figure(metric: &str, value: f64, unit: &str) {
    println!("bench {metric} {value:.1} {unit}");
}

fn main() {
    let direct = round_trip_median(&boot("direct", 0));
    let long = ready_figure(LONG);
    let through = round_trip_median(&long);
    figure(&format!("forward_chain{LONG}_rtt_median"), through, "us");
    figure("forward_chain0_rtt_median", direct, "us");
    let per_hop = (through - direct) / (2.0 * LONG as f64);
    figure("forward_per_hop", per_hop, "us");
    figure(&format!("forward_bulk_{LONG}"), bulk(&long), "MiB/s");
    drop(long);
    figure("forward_bulk_1", bulk(&boot("one", 1)), "MiB/s");
}

fn boot(tag: &str, routers: usize) -> Chain {
    Chain::boot(&ChainConfig {
        tag,
        routers,
        ipv6: false,
        ..Default::default()
    })
}

/// Boots a chain of `routers` and times it to the first round trip.
fn ready_figure(routers: usize) -> Chain {
    let started = Instant::now();
    let chain = boot("long", routers);
    let b = chain.b4();
    let deadline = started + Duration::from_secs(30);
    let mut sequence = 0;
    while chain
        .a()
        .run(|context, net| net.ping(context, b, sequence, SECOND))
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "no round trip through {routers} routers"
        );
        sequence += 1;
    }
    let elapsed = started.elapsed().as_secs_f64() * 1e3;
    figure(&format!("forward_chain{routers}_ready"), elapsed, "ms");
    chain
}

/// The median of [`PINGS`] pings from A to B, in µs.
fn round_trip_median(chain: &Chain) -> f64 {
    let b = chain.b4();
    let mut times: Vec<f64> = (1..=PINGS)
        .filter_map(|sequence| {
            let rtt = chain
                .a()
                .run(|context, net| net.ping(context, b, sequence, SECOND));
            rtt.ok().map(|ns| ns as f64 / 1e3)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied().unwrap_or(f64::NAN)
}

/// [`BULK`] bytes from A to B over TCP, in MiB/s.
fn bulk(chain: &Chain) -> f64 {
    let fd = chain.b().run(|context, net| listener(context, net, 9, 4));
    let sink = chain.b().spawn(move |context, net| {
        let (connection, _) = net.accept(context, fd).unwrap();
        receive_all(context, net, connection)
    });
    let b = std::net::SocketAddr::from((chain.b4(), 9));
    let started = Instant::now();
    chain.a().run(|context, net| {
        let fd = common::connect_to(context, net, b).unwrap();
        send_pattern(context, net, fd, 1, BULK);
        net.close(context, fd).unwrap();
    });
    let (received, _) = sink.join().unwrap();
    received as f64 / started.elapsed().as_secs_f64() / 1048576.0
}
