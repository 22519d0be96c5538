//! memaslap run while the server is watched: its counters must move.
//!
//! memaslap waits forever on a server that stops answering (the kv
//! appliance did, out of memory), so every [`WATCH`] the server's `stats`
//! must answer and its operation count must have grown; otherwise memaslap
//! is stopped (SIGTERM to `timeout`, which passes it on) and the load
//! fails, rather than waiting out its deadline.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::memaslap::{self, Load, Report, tail};
use crate::command::describe;

/// How often the server's progress is checked.
const WATCH: Duration = Duration::from_secs(15);
/// How often the process is polled between checks.
const POLL: Duration = Duration::from_millis(100);

/// Runs `load` against `server`; `operations` reads the server's count of
/// operations served (gets and sets).
pub fn run(
    server: &str,
    load: &Load,
    deadline: Duration,
    mut operations: impl FnMut() -> Result<u64, String>,
) -> Result<Report, String> {
    let file = memaslap::write_configuration(load)?;
    let mut command = memaslap::command(server, &file, load, deadline);
    let result = watch(&mut command, &mut operations);
    let _ = std::fs::remove_file(&file);
    result
}

fn watch(
    command: &mut Command,
    operations: &mut impl FnMut() -> Result<u64, String>,
) -> Result<Report, String> {
    let mut last = operations()?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start `{}`: {error}", describe(command)))?;
    let stdout = reader(&mut child);
    let mut checked_at = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
            break status;
        }
        if checked_at.elapsed() >= WATCH {
            checked_at = Instant::now();
            let now = operations().and_then(|now| match now > last {
                true => Ok(now),
                false => Err(format!("no operation served in {WATCH:?}")),
            });
            match now {
                Ok(now) => last = now,
                Err(error) => return Err(stop(child, &error)),
            }
        }
        std::thread::sleep(POLL);
    };
    let output = stdout.join().unwrap_or_default();
    match status.success() {
        true => memaslap::parse(&output),
        false => Err(format!(
            "`{}` failed ({status}): {}",
            describe(command),
            tail(&output)
        )),
    }
}

/// A thread collecting the child's stdout (memaslap reports there, its
/// errors too); stderr is left to the pipe (memaslap writes little).
fn reader(child: &mut Child) -> JoinHandle<String> {
    let mut stdout = child.stdout.take().expect("stdout was piped");
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    })
}

/// Ends `child` (our own `timeout`, by its id) and says why.
fn stop(mut child: Child, why: &str) -> String {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    format!("the server stopped answering during memaslap: {why}")
}
