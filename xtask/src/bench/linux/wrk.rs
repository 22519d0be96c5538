//! HTTP request rates measured with wrk (Debian's `wrk`), `-t1 -c10`.
//!
//! One thread and ten connections, because QEMU, wrk and the guest share
//! two cores. Keep-alive reuses the ten connections; `Connection: close`
//! makes every request a new connection. A run with non-2xx answers, or
//! socket errors on more than 1 % of its requests, is reported as an
//! error, not as a rate.

use std::process::Command;

use crate::bench::target::Target;
use crate::command::output;

/// How each load runs: seconds, threads, connections.
const SECONDS: &str = "3";
const THREADS: &str = "1";
const CONNECTIONS: &str = "10";

/// Keep-alive or one request per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connections {
    KeepAlive,
    NewPerRequest,
}

/// wrk's arguments against `target`'s HTTP port.
pub fn arguments(target: &Target, connections: Connections) -> Vec<String> {
    let mut words: Vec<String> = [
        "-t",
        THREADS,
        "-c",
        CONNECTIONS,
        "-d",
        SECONDS,
        "--timeout",
        "5s",
    ]
    .map(String::from)
    .to_vec();
    if connections == Connections::NewPerRequest {
        words.extend(["-H".to_string(), "Connection: close".to_string()]);
    }
    // A socket address prints an IPv6 host in brackets, as URLs want it.
    let host = std::net::SocketAddr::new(target.address, target.http);
    words.push(format!("http://{host}/"));
    words
}

/// Requests per second; run on a thread inside the target's namespace, if
/// any (wrk inherits the thread's network namespace).
pub fn rate(target: &Target, connections: Connections) -> Result<f64, String> {
    let mut command = Command::new("wrk");
    command.args(arguments(target, connections));
    let result = output(command)?;
    parse(&String::from_utf8_lossy(&result.stdout))
}

/// The `Requests/sec:` figure of wrk's report, unless it saw failures.
pub fn parse(report: &str) -> Result<f64, String> {
    let lines = || report.lines().map(str::trim);
    if let Some(line) = lines().find(|line| line.starts_with("Non-2xx")) {
        return Err(format!("wrk: {line}"));
    }
    let requests: u64 = lines()
        .find_map(|line| line.split_once(" requests in "))
        .and_then(|(count, _)| count.trim().parse().ok())
        .unwrap_or(0);
    let errors = lines().find(|line| line.starts_with("Socket errors:"));
    if let Some(line) = errors.filter(|line| socket_errors(line) > requests / 100) {
        return Err(format!("wrk: {line} in {requests} requests"));
    }
    lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|value| value.is_finite() && *value > 0.0)
        .ok_or_else(|| format!("wrk reported no rate: {}", report.trim()))
}

/// The sum of `Socket errors: connect 0, read 3, write 0, timeout 0`.
fn socket_errors(line: &str) -> u64 {
    line.split([',', ':'])
        .filter_map(|part| part.split_whitespace().last())
        .filter_map(|number| number.parse::<u64>().ok())
        .fold(0, u64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 3s test @ http://127.0.0.1:18080/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    14.82ms    1.78ms  31.69ms   83.19%
  2008 requests in 3.00s, 782.41KB read
Requests/sec:    669.04
Transfer/sec:    260.69KB
";

    #[test]
    fn the_rate_is_read_from_the_report() {
        assert_eq!(parse(REPORT), Ok(669.04));
    }

    #[test]
    fn failures_and_missing_rates_are_errors() {
        let errors = REPORT.replace(
            "Requests/sec",
            "  Socket errors: connect 0, read 3, write 0, timeout 0\nRequests/sec",
        );
        assert_eq!(
            parse(&errors),
            Ok(669.04),
            "3 errors in 2008 requests are noise"
        );
        let many = errors.replace("read 3", "read 30");
        assert!(parse(&many).expect_err("socket errors").contains("read 30"));
        let non_2xx = REPORT.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 7\nRequests/sec",
        );
        assert!(parse(&non_2xx).is_err());
        assert!(parse("unable to connect to 127.0.0.1:1").is_err());
    }

    #[test]
    fn new_connections_ask_the_server_to_close() {
        let target = Target::on_tap(crate::bench::target::Family::V4);
        let keep = arguments(&target, Connections::KeepAlive);
        assert_eq!(
            keep.last().map(String::as_str),
            Some("http://192.168.77.2:80/")
        );
        assert!(!keep.contains(&"Connection: close".to_string()));
        let close = arguments(&target, Connections::NewPerRequest);
        assert!(
            close
                .windows(2)
                .any(|pair| pair == ["-H", "Connection: close"])
        );
        assert!(close.windows(2).any(|pair| pair == ["-c", "10"]));
    }
}
