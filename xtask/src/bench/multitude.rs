//! 100,000 idle connections against the appliance in 1 GiB (the issue's
//! goal), from Linux over a tap (root), and what each costs the kernel.
//!
//! One process may hold only as many sockets as the open-file hard limit
//! (20,000 here, FACTS.md) and one source address only as many
//! connections to one port of the guest as Linux finds ephemeral ports
//! for (about 12,700 here), so the clients are [`CLIENT_PROCESSES`]
//! Python processes, each bound to an address of its own on the tap
//! (ports chosen at connect, `IP_BIND_ADDRESS_NO_PORT`), connecting in
//! turn to the echo and discard services, and holding their share until
//! their standard input closes. The guest's `/stats` says how many it
//! holds and its memory before and after.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use qemu_tests::Machine;
use qemu_tests::crowd::GuestFigures;
use qemu_tests::netns::Namespace;

use super::report::{Series, add_run};
use super::tap::boot_on_tap;
use super::target::TAP_GUEST;

/// The guest's memory.
const MEMORY_MIB: u32 = 1024;
/// Connections in all.
const CONNECTIONS: usize = 100_000;
/// Client processes, each with its own source address.
const CLIENT_PROCESSES: usize = 8;
const _: () = assert!(CONNECTIONS.is_multiple_of(CLIENT_PROCESSES), "equal shares");
/// How long the guest may take to accept them all.
const ACCEPT_DEADLINE: Duration = Duration::from_secs(300);

/// One client process: raise its open-file limit, bind each socket to
/// the address it is given, connect `count` of them to the guest's echo
/// and discard ports in turn, say how many it holds, and hold them until
/// standard input ends.
const CLIENT: &str = r#"
import resource, socket, sys
source, count, guest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
IP_BIND_ADDRESS_NO_PORT = 24
held = []
try:
    for number in range(count):
        s = socket.socket()
        s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((source, 0))
        s.settimeout(60)
        s.connect((guest, (7, 9)[number % 2]))
        held.append(s)
except OSError as error:
    print(f"after {len(held)}: {error}", file=sys.stderr)
print(len(held), flush=True)
sys.stdin.read()
"#;

/// Held, bytes each, and how many would fit; no values when not root or
/// when the run fails.
pub fn figures(image: &Path, machine: Machine) -> Vec<Series> {
    let names = [
        ("idle connections held in 1 GiB (tap)", "connections"),
        ("kernel memory per idle connection, 1 GiB (tap)", "bytes"),
    ];
    let mut series = Series::for_machine(machine, &names);
    let what = format!("{machine} 100,000 connections");
    add_run(&mut series, measure(image, machine), &what);
    series
}

/// One boot: [held, bytes each].
fn measure(image: &Path, machine: Machine) -> Result<[f64; 2], String> {
    let guest = boot_on_tap(image, machine, MEMORY_MIB, "many")?;
    let stats = SocketAddr::new(TAP_GUEST.into(), 80);
    let before = guest
        .namespace
        .run_inside(move || GuestFigures::read(stats))?;
    let mut clients = start_clients(&guest.namespace)?;
    let held: usize = clients.iter_mut().map(held_by).sum();
    let open = before.connections_open + held as u64;
    let enough = move |now: &GuestFigures| now.connections_open >= open;
    let after = guest
        .namespace
        .run_inside(move || GuestFigures::wait_until(stats, ACCEPT_DEADLINE, enough))?;
    let accepted = after
        .connections_open
        .saturating_sub(before.connections_open);
    for mut client in clients {
        drop(client.stdin.take());
        let _ = client.wait();
    }
    if accepted == 0 {
        return Err("no connection was accepted".into());
    }
    let each = after.memory_in_use.saturating_sub(before.memory_in_use) / accepted;
    Ok([accepted as f64, each as f64])
}

/// The client processes, each with an address of its own on the tap.
fn start_clients(namespace: &Namespace) -> Result<Vec<Child>, String> {
    (0..CLIENT_PROCESSES)
        .map(|index| {
            let source = format!("192.168.77.{}", 10 + index);
            namespace.exec(&["ip", "addr", "add", &format!("{source}/24"), "dev", "tap0"]);
            let share = CONNECTIONS / CLIENT_PROCESSES;
            namespace
                .command("python3")
                .args(["-c", CLIENT, &source, &share.to_string()])
                .arg(TAP_GUEST.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|error| format!("python3: {error}"))
        })
        .collect()
}

/// How many connections `client` says it holds (0 if it says nothing).
fn held_by(client: &mut Child) -> usize {
    let Some(stdout) = client.stdout.take() else {
        return 0;
    };
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    line.trim().parse().unwrap_or(0)
}
