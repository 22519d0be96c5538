//! Thousands of clients at once: idle TCP connections to a guest's echo
//! service, each echoing its own message on demand, and the guest's
//! `/stats` figures that say what they cost.
//!
//! The clients are blocking sockets spread over [`THREADS`] threads, each
//! with timeouts, so every wait has a deadline; at most [`IN_FLIGHT`] of
//! them have a message on its way at once. One process may hold as
//! many sockets as its open-file limit allows: [`raise_open_file_limit`]
//! first (the hard limit for root here is 20,000, FACTS.md). Call these
//! from a thread inside the guest's namespace when the link is a tap.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::clients::http_get;

/// Host threads the clients are spread over.
pub const THREADS: usize = 50;
/// Echo messages on their way at once, all threads together: fewer than
/// a tap's queue (1,000 frames) and a virtio ring (256) hold, so that a
/// burst is not lost on the link and repaired by retransmissions at
/// Linux's backed-off timeouts (a burst of 10,000 took up to 55 s so).
pub const IN_FLIGHT: usize = 800;
/// How long one client's connect, write or read may wait.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Raises this process's soft open-file limit to its hard limit, which
/// needs no privilege; returns the new limit.
///
/// # Errors
/// When the calls fail.
pub fn raise_open_file_limit() -> Result<u64, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes one `rlimit` into the one we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!("getrlimit: {}", io::Error::last_os_error()));
    }
    // An unlimited hard limit still stops at fs.nr_open (2^20 by default).
    let most = limit.rlim_max.min(1 << 20);
    if limit.rlim_cur < most {
        limit.rlim_cur = most;
        // SAFETY: setrlimit(2) reads the `rlimit` we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(format!("setrlimit: {}", io::Error::last_os_error()));
        }
    }
    Ok(limit.rlim_cur)
}

/// Connects `count` clients to `address`, [`THREADS`] at a time; the
/// error says how many connected before one could not, and why.
///
/// # Errors
/// The first connect that failed.
pub fn connect_all(address: SocketAddr, count: usize) -> Result<Vec<TcpStream>, String> {
    let shares = (0..THREADS).map(|thread| share(count, thread));
    let threads: Vec<_> = shares
        .map(|share| thread::spawn(move || connect_some(address, share)))
        .collect();
    let mut streams = Vec::with_capacity(count);
    let mut failure = None;
    for thread in threads {
        let (some, error) = thread.join().expect("a connecting thread");
        streams.extend(some);
        failure = failure.or(error);
    }
    match failure {
        None => Ok(streams),
        Some(error) => Err(format!(
            "{} of {count} clients connected, then one could not: {error}",
            streams.len()
        )),
    }
}

/// Thread `thread`'s share of `count`.
fn share(count: usize, thread: usize) -> usize {
    count / THREADS + usize::from(thread < count % THREADS)
}

/// Connects `count` clients, stopping at the first that fails.
fn connect_some(address: SocketAddr, count: usize) -> (Vec<TcpStream>, Option<io::Error>) {
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        match client(address) {
            Ok(stream) => streams.push(stream),
            Err(error) => return (streams, Some(error)),
        }
    }
    (streams, None)
}

/// A connected client with [`CLIENT_TIMEOUT`] on every wait.
///
/// # Errors
/// The connect's, or setting a timeout's.
pub fn client(address: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&address, CLIENT_TIMEOUT)?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Client `number`'s message: its own, so a crossed answer shows.
pub fn message(number: usize) -> String {
    format!("client {number:06} says hello\n")
}

/// Has every stream send [`message`] and read it back, all of them open
/// throughout, with at most [`IN_FLIGHT`] messages on their way at once;
/// the numbers of those that did not get their message back, with what
/// they got instead.
pub fn echo_all(streams: &mut [TcpStream]) -> Vec<(usize, String)> {
    let mut numbered: Vec<(usize, &mut TcpStream)> = streams.iter_mut().enumerate().collect();
    let chunk = numbered.len().div_ceil(THREADS).max(1);
    thread::scope(|scope| {
        let threads: Vec<_> = numbered
            .chunks_mut(chunk)
            .map(|batch| scope.spawn(|| echo_batch(batch)))
            .collect();
        threads
            .into_iter()
            .flat_map(|thread| thread.join().expect("an echoing thread"))
            .collect()
    })
}

/// Echoes every client of `batch`, [`IN_FLIGHT`] / [`THREADS`] messages
/// ahead of the answers it reads.
fn echo_batch(batch: &mut [(usize, &mut TcpStream)]) -> Vec<(usize, String)> {
    let window = (IN_FLIGHT / THREADS).max(1);
    let mut failed = Vec::new();
    let mut sent = vec![false; batch.len()];
    for index in 0..batch.len() + window {
        if let Some((number, stream)) = batch.get_mut(index) {
            match stream.write_all(message(*number).as_bytes()) {
                Ok(()) => sent[index] = true,
                Err(error) => failed.push((*number, format!("write: {error}"))),
            }
        }
        let Some(answered) = index.checked_sub(window) else {
            continue;
        };
        if sent[answered] {
            let (number, stream) = &mut batch[answered];
            if let Err(error) = read_answer(*number, stream) {
                failed.push((*number, error));
            }
        }
    }
    failed
}

/// Reads client `number`'s answer; what came instead, if not it.
fn read_answer(number: usize, stream: &mut TcpStream) -> Result<(), String> {
    let expected = message(number);
    let mut back = vec![0u8; expected.len()];
    match stream.read_exact(&mut back) {
        Ok(()) if back == expected.as_bytes() => Ok(()),
        Ok(()) => Err(String::from_utf8_lossy(&back).into_owned()),
        Err(error) => Err(format!("read: {error} ({})", local(stream))),
    }
}

/// The client's own address, to find it in a capture.
fn local(stream: &TcpStream) -> String {
    stream
        .local_addr()
        .map_or_else(|error| error.to_string(), |address| address.to_string())
}

/// What a guest's `/stats` says at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestFigures {
    /// Bytes the kernel's memory accounts hold (`memory in_use`).
    pub memory_in_use: u64,
    /// What the kernel may hold (`memory limit`).
    pub memory_limit: u64,
    /// Connections the services hold open, this request's own included
    /// (`services connections_open`).
    pub connections_open: u64,
}

impl GuestFigures {
    /// Asks the guest's HTTP service at `address` for `/stats`.
    ///
    /// # Errors
    /// The request's, or a page without the two figures.
    pub fn read(address: SocketAddr) -> Result<GuestFigures, String> {
        let text = stats_page(address).map_err(|error| format!("GET /stats: {error}"))?;
        let figure = |name: &str| {
            figure(&text, name).ok_or_else(|| format!("no number `{name}` in /stats:\n{text}"))
        };
        Ok(GuestFigures {
            memory_in_use: figure("memory in_use")?,
            memory_limit: figure("memory limit")?,
            connections_open: figure("services connections_open")?,
        })
    }

    /// Polls `/stats` until the services hold `open` connections or the
    /// deadline passes; the last figures either way.
    ///
    /// # Errors
    /// A request that failed.
    pub fn wait_for_open(
        address: SocketAddr,
        open: u64,
        deadline: Duration,
    ) -> Result<GuestFigures, String> {
        Self::wait_until(address, deadline, |now| now.connections_open >= open)
    }

    /// Polls `/stats` until `done` holds for its figures or the deadline
    /// passes; the last figures either way. The guest offers no event to
    /// wait on, so the polls are 100 ms apart.
    ///
    /// # Errors
    /// A request that failed.
    pub fn wait_until(
        address: SocketAddr,
        deadline: Duration,
        done: impl Fn(&GuestFigures) -> bool,
    ) -> Result<GuestFigures, String> {
        let until = Instant::now() + deadline;
        loop {
            let now = GuestFigures::read(address)?;
            if done(&now) || Instant::now() >= until {
                return Ok(now);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The guest's `/stats` page.
///
/// # Errors
/// The connect's or the request's.
pub fn stats_page(address: SocketAddr) -> io::Result<String> {
    let mut stream = client(address)?;
    let page = http_get(&mut stream, "/stats")?;
    Ok(String::from_utf8_lossy(&page.body).into_owned())
}

/// The number after `name` at the start of a line of `text`.
fn figure(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_found_by_their_whole_name() {
        let text = "memory in_use_peak 9\nmemory in_use 1234\nservices connections_open 7\n";
        assert_eq!(figure(text, "memory in_use"), Some(1234));
        assert_eq!(figure(text, "services connections_open"), Some(7));
        assert_eq!(figure(text, "services connections"), None);
        assert_eq!(figure("memory in_use many\n", "memory in_use"), None);
    }

    #[test]
    fn shares_add_up_to_the_count() {
        for count in [0, 1, 49, 50, 51, 10_000, 10_007] {
            let total: usize = (0..THREADS).map(|thread| share(count, thread)).sum();
            assert_eq!(total, count);
        }
    }
}
