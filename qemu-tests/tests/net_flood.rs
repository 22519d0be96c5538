//! A SYN flood from random sources (20,000 SYNs a second, see
//! `qemu_tests::flood`) against the appliance on a tap, while Linux's TCP runs a keep-alive
//! client and a client that opens a new connection per request: both are
//! answered throughout, and `/stats` shows the flood reached the listener
//! (its SYN queue filled and SYN cookies answered). Root only.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use qemu_tests::Machine;
use qemu_tests::clients::http_get;
use qemu_tests::flood::SynFlood;
use qemu_tests::netns::{Namespace, missing_privilege};

/// The appliance's address behind the tap, its gateway Linux there.
const BEHIND: [&str; 2] = ["ip=192.168.77.2/24", "gw=192.168.77.1"];

/// The appliance's address on the tap.
const GUEST: &str = "192.168.77.2";
/// How long the clients run under the flood.
const FLOOD_TIME: Duration = Duration::from_secs(8);
/// How long one request may take, connect included. The guest (TCG, on
/// cores shared with QEMU, the flood and the clients) takes frames off
/// the tap more slowly than the flood arrives at times, and the tap's
/// queue (1,000 frames) then drops what does not fit: a client frame
/// among them waits for Linux to send it again (a SYN after 1 s, 3 s and
/// 7 s). This deadline lets a connect lose three SYNs; the guest itself
/// must drop no SYN (`syn_drops` 0) and reset nobody.
const REQUEST_DEADLINE: Duration = Duration::from_secs(8);

/// A request slower than this waited for a retransmission.
const SLOW: Duration = Duration::from_millis(500);

/// What one client saw: requests answered, how many were slow, the
/// slowest, failures.
#[derive(Debug, Default)]
struct Tally {
    answered: u32,
    slow: u32,
    slowest: Duration,
    failures: Vec<String>,
}

impl Tally {
    fn note(&mut self, started: Instant, outcome: std::io::Result<u16>) {
        let took = started.elapsed();
        self.slowest = self.slowest.max(took);
        self.slow += u32::from(took > SLOW);
        match outcome {
            Ok(200) if took <= REQUEST_DEADLINE => self.answered += 1,
            Ok(200) => self.failures.push(format!("answered after {took:?}")),
            Ok(status) => self.failures.push(format!("status {status}")),
            Err(error) => self.failures.push(format!("{error} after {took:?}")),
        }
    }
}

fn open() -> std::io::Result<TcpStream> {
    let address: SocketAddr = format!("{GUEST}:80").parse().expect("an address");
    let stream = TcpStream::connect_timeout(&address, REQUEST_DEADLINE)?;
    stream.set_read_timeout(Some(REQUEST_DEADLINE))?;
    stream.set_write_timeout(Some(REQUEST_DEADLINE))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// GET / on one connection until `stop`.
fn keep_alive(stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut stream = match open() {
        Ok(stream) => stream,
        Err(error) => {
            tally.note(started, Err(error));
            return tally;
        }
    };
    while !stop.load(Relaxed) {
        let started = Instant::now();
        let outcome = http_get(&mut stream, "/").map(|response| response.status);
        let failed = outcome.is_err();
        tally.note(started, outcome);
        if failed {
            break;
        }
    }
    tally
}

/// A new connection for each GET / until `stop`.
fn new_connections(stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    while !stop.load(Relaxed) {
        let started = Instant::now();
        let outcome = open().and_then(|mut stream| http_get(&mut stream, "/"));
        tally.note(started, outcome.map(|response| response.status));
    }
    tally
}

/// The value of `tcp NAME` in the appliance's `/stats`.
fn tcp_counter(stats: &str, name: &str) -> u64 {
    let line = format!("tcp {name} ");
    stats
        .lines()
        .find_map(|text| text.strip_prefix(&line))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{line}` in {stats}"))
}

/// Both clients for `FLOOD_TIME`, from inside the namespace.
fn run_clients(namespace: &Namespace) -> (Tally, Tally) {
    namespace.run_inside(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let keep = std::thread::spawn({
            let stop = stop.clone();
            move || keep_alive(stop)
        });
        let fresh = std::thread::spawn({
            let stop = stop.clone();
            move || new_connections(stop)
        });
        std::thread::sleep(FLOOD_TIME);
        stop.store(true, Relaxed);
        (keep.join().expect("keep-alive"), fresh.join().expect("new"))
    })
}

/// The appliance's `/stats`, fetched from inside the namespace.
fn guest_stats(namespace: &Namespace) -> String {
    let body = namespace.run_inside(|| {
        let mut stream = open().expect("connect after the flood");
        http_get(&mut stream, "/stats").expect("GET /stats").body
    });
    String::from_utf8_lossy(&body).into_owned()
}

/// Frames the tap's queue dropped on their way to the guest.
fn tap_dropped(namespace: &Namespace) -> u64 {
    let output = namespace.exec(&["cat", "/sys/class/net/tap0/statistics/tx_dropped"]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.trim().parse().expect("a count")
}

/// Every request answered in time; the few slow ones each waited for
/// Linux to send again a frame the tap's full queue had dropped.
fn assert_served(keep: &Tally, fresh: &Tally, dropped: u64, log: &str) {
    assert!(keep.failures.is_empty(), "keep-alive: {keep:?}\n{log}");
    assert!(
        fresh.failures.is_empty(),
        "new connections: {fresh:?}\n{log}"
    );
    assert!(
        keep.answered >= 10 && fresh.answered >= 10,
        "{keep:?} {fresh:?}"
    );
    for tally in [keep, fresh] {
        assert!(
            tally.slow == 0 || dropped > 0,
            "slow without drops: {tally:?}"
        );
        assert!(
            tally.slow <= 3.max(tally.answered / 20),
            "too many slow: {tally:?}"
        );
    }
}

fn both_clients_are_served_during_a_syn_flood(machine: Machine) {
    if let Some(reason) = missing_privilege(&[]) {
        panic!("this test needs root and /dev/net/tun: {reason}");
    }
    let namespace = Namespace::new(&format!("flood{machine}"));
    let qemu = namespace.boot_appliance(machine, &BEHIND);
    let flood = SynFlood::start(&namespace, GUEST.parse().expect("an address"), 80);
    let (keep, fresh) = run_clients(&namespace);
    let report = flood.stop().expect("the flood's count");
    let (stats, dropped) = (guest_stats(&namespace), tap_dropped(&namespace));
    let noted = |line: &&str| {
        line.starts_with("if vioif0") || ["syn_", "timeouts"].iter().any(|w| line.contains(w))
    };
    let guest: Vec<&str> = stats.lines().filter(noted).collect();
    eprintln!(
        "flood: {} SYNs in {:?} ({:.0}/s), {dropped} dropped by the tap; \
         keep-alive: {keep:?}; new connections: {fresh:?}; guest: {}",
        report.sent,
        report.duration,
        report.rate(),
        guest.join("; "),
    );
    assert_served(&keep, &fresh, dropped, &qemu.log());
    // The SYN queue (128) filled and the listener answered the rest of
    // the flood with cookies: it reached the listener rather than dying
    // in the tap's queue, and the new connections got in by cookies.
    assert_eq!(tcp_counter(&stats, "syn_drops"), 0, "{stats}");
    let cookies = tcp_counter(&stats, "syn_cookies_sent");
    assert!(
        cookies >= report.sent / 4,
        "{cookies} cookies for {report:?}\n{stats}"
    );
    assert!(tcp_counter(&stats, "syn_cookies_valid") > 0, "{stats}");
}

#[test]
#[ignore = "needs root: a tap in a namespace, raw SYNs from random sources"]
fn microvm_serves_both_clients_during_a_syn_flood() {
    both_clients_are_served_during_a_syn_flood(Machine::Microvm);
}
