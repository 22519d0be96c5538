//! Remote system calls against local ones, for `cargo xtask bench --hosted`.
//!
//! A hosted kernel in this process serves on a Unix socket; the client
//! library connects to it. Measured: a null call (`null` remotely, a
//! `getsockname` locally, the cheapest call of the local API), a
//! `getsockname` both ways, and a 64-byte echo over lo0 to an echo thread
//! in the kernel, written and read through the local socket API and
//! through the client library's `TcpStream`. Prints `bench <metric>
//! <value> <unit>` lines (medians and 99th percentiles); reports, does
//! not assert.
//!
//! `sysproxy_bench unix:PATH NAME` measures only the remote figures,
//! against a kernel already serving at PATH with an echo service on its
//! lo0 port 7 (the appliance in QEMU over its virtio console, for
//! `cargo xtask bench`), as `sysproxy_NAME_remote_…`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use anykernel_client::proto::types::SocketKind;
use anykernel_client::{Client, Stubs, TcpStream};
use hypercall_posix::stream::ServerSpec;
use hypercall_posix::{Posix, PosixConfig};
use kernel::net::{Net, SocketOption, SocketType};
use kernel::{Context, Kernel};

const CALLS: usize = 20_000;
const ECHOES: usize = 5_000;
const MESSAGE: usize = 64;
const ECHO_PORT: u16 = 7;

fn figure(metric: &str, value: f64, unit: &str) {
    println!("bench {metric} {value:.2} {unit}");
}

/// Median and 99th percentile of `f`'s time over `count` calls, in µs.
fn timed(count: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut samples: Vec<f64> = (0..count)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (samples[count / 2], samples[count * 99 / 100])
}

fn report(metric: &str, (median, p99): (f64, f64)) {
    figure(&format!("{metric}_median"), median, "us");
    figure(&format!("{metric}_p99"), p99, "us");
}

/// An echo service on lo0 port 7: one kernel thread per connection.
fn start_echo(kernel: &Arc<Kernel>, net: &Arc<Net>) {
    let context = kernel.enter().expect("enters");
    let listener = net.socket(&context, SocketType::Stream).expect("a socket");
    let here = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), ECHO_PORT);
    net.bind(&context, listener, here).expect("binds");
    net.listen(&context, listener, 8).expect("listens");
    drop(context);
    let (kernel, net) = (kernel.clone(), net.clone());
    std::thread::spawn(move || {
        let context = kernel.enter().expect("enters");
        while let Ok((connection, _)) = net.accept(&context, listener) {
            let _ = net.set_option(&context, connection, SocketOption::NoDelay(true));
            let (kernel, net) = (kernel.clone(), net.clone());
            std::thread::spawn(move || echo(&kernel.enter().expect("enters"), &net, connection));
        }
    });
}

fn echo(context: &Context<'_>, net: &Net, connection: kernel::net::Fd) {
    let mut buffer = [0u8; 4096];
    while let Ok(count) = net.read(context, connection, &mut buffer) {
        if count == 0 || net.write(context, connection, &buffer[..count]).is_err() {
            break;
        }
    }
    let _ = net.close(context, connection);
}

fn local_figures(kernel: &Kernel, net: &Net) {
    let context = kernel.enter().expect("enters");
    let socket = net
        .socket(&context, SocketType::Datagram)
        .expect("a socket");
    report(
        "sysproxy_local_getsockname",
        timed(CALLS, || {
            let _ = net.local_address(&context, socket);
        }),
    );
    let stream = net.socket(&context, SocketType::Stream).expect("a socket");
    let echo = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), ECHO_PORT);
    net.connect(&context, stream, echo).expect("connects");
    net.set_option(&context, stream, SocketOption::NoDelay(true))
        .expect("sets");
    let message = [7u8; MESSAGE];
    let mut buffer = [0u8; MESSAGE];
    report(
        "sysproxy_local_echo_64",
        timed(ECHOES, || {
            net.write(&context, stream, &message).expect("writes");
            let mut read = 0;
            while read < MESSAGE {
                read += net
                    .read(&context, stream, &mut buffer[read..])
                    .expect("reads");
            }
        }),
    );
    let _ = net.close(&context, stream);
    let _ = net.close(&context, socket);
}

fn remote_figures(address: &str, prefix: &str) {
    let client = Client::connect(address).expect("connects");
    report(
        &format!("{prefix}_null"),
        timed(CALLS, || client.null().expect("a call")),
    );
    let socket = client.socket(SocketKind::Datagram).expect("a socket");
    report(
        &format!("{prefix}_getsockname"),
        timed(CALLS, || {
            let _ = client.local_address(socket);
        }),
    );
    let mut stream = TcpStream::connect(&client, ("127.0.0.1", ECHO_PORT)).expect("connects");
    stream.set_nodelay(true).expect("sets");
    let message = [7u8; MESSAGE];
    let mut buffer = [0u8; MESSAGE];
    report(
        &format!("{prefix}_echo_64"),
        timed(ECHOES, || {
            stream.write_all(&message).expect("writes");
            stream.read_exact(&mut buffer).expect("reads");
        }),
    );
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if let [address, name] = &arguments[..] {
        return remote_figures(address, &format!("sysproxy_{name}_remote"));
    }
    let path = std::env::temp_dir().join(format!("anykernel-bench-{}.sock", std::process::id()));
    let config = PosixConfig {
        boot_parameters: "log=warn".into(),
        servers: vec![ServerSpec::Unix(path.clone())],
        ..PosixConfig::default()
    };
    let kernel = kernel::boot(Posix::new(config)).expect("boots");
    let net = Net::of(&kernel.enter().expect("enters")).expect("net is linked");
    start_echo(&kernel, &net);
    local_figures(&kernel, &net);
    remote_figures(&format!("unix:{}", path.display()), "sysproxy_remote");
}
