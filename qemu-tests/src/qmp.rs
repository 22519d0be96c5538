//! QEMU's machine protocol (QMP) on a Unix socket: asking a guest to stop.
//!
//! [`QemuConfig::qmp`](crate::QemuConfig::qmp) makes QEMU listen on a
//! socket (`-qmp unix:PATH,server=on,wait=off`: QEMU does not wait for a
//! client before it starts the guest). [`system_powerdown`] connects,
//! reads the greeting, leaves negotiation mode (`qmp_capabilities`) and
//! sends `system_powerdown`, which presses the guest's ACPI power button
//! (q35, pc: PM1's `PWRBTN_STS` and the SCI; microvm: its Generic Event
//! Device). Messages are JSON, one per line; events QEMU sends in between
//! (`POWERDOWN`) are skipped. Every read has a deadline.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// How long QEMU may take to answer one command.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages read before an answer that is not one give up (events are few).
const MESSAGES_PER_ANSWER: usize = 64;

/// QEMU's arguments for a QMP socket at `path`.
pub(crate) fn arguments(path: &Path) -> Vec<OsString> {
    let mut spec = OsString::from("unix:");
    spec.push(crate::disk::escaped(path));
    spec.push(",server=on,wait=off");
    vec!["-qmp".into(), spec]
}

/// Asks the guest of the QEMU listening on `socket` to power down.
///
/// # Errors
/// Text saying what failed: the connection, the protocol, or QEMU's error.
pub fn system_powerdown(socket: &Path) -> Result<(), String> {
    execute(socket, "system_powerdown")
}

/// Runs the argument-less QMP command `command` on `socket`.
///
/// # Errors
/// As [`system_powerdown`].
pub fn execute(socket: &Path, command: &str) -> Result<(), String> {
    let stream = UnixStream::connect(socket)
        .map_err(|error| format!("QMP socket {}: {error}", socket.display()))?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(|error| format!("QMP: {error}"))?;
    let mut writer = stream
        .try_clone()
        .map_err(|error| format!("QMP: {error}"))?;
    let mut reader = BufReader::new(stream);
    let greeting = read_message(&mut reader)?;
    if greeting.get("QMP").is_none() {
        return Err(format!("QMP: no greeting but {greeting}"));
    }
    for name in ["qmp_capabilities", command] {
        let request = serde_json::json!({ "execute": name }).to_string();
        writeln!(writer, "{request}").map_err(|error| format!("QMP {name}: {error}"))?;
        answer(&mut reader, name)?;
    }
    Ok(())
}

/// Reads until the answer to `name`: `Ok` for a `return`, the error's
/// description otherwise.
fn answer(reader: &mut impl BufRead, name: &str) -> Result<(), String> {
    for _ in 0..MESSAGES_PER_ANSWER {
        let message = read_message(reader)?;
        if message.get("return").is_some() {
            return Ok(());
        }
        if let Some(error) = message.get("error") {
            return Err(format!("QMP {name}: {error}"));
        }
    }
    Err(format!(
        "QMP {name}: no answer among {MESSAGES_PER_ANSWER} messages"
    ))
}

/// One JSON message (one line).
fn read_message(reader: &mut impl BufRead) -> Result<Value, String> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => Err("QMP: QEMU closed the socket".into()),
        Ok(_) => serde_json::from_str(&line).map_err(|error| format!("QMP: {error} in {line}")),
        Err(error) => Err(format!("QMP: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A fake QEMU on a socket: greets, answers each request with
    /// `answers` in turn (an event first), and returns what it was sent.
    fn fake_qemu(
        answers: &'static [&'static str],
    ) -> (std::path::PathBuf, std::thread::JoinHandle<String>) {
        let directory = std::env::temp_dir().join(format!("qmp-test-{}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a directory");
        let path = directory.join(format!("{}.sock", answers.len()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).expect("a socket");
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("a client");
            let mut writer = stream.try_clone().expect("a clone");
            let mut reader = BufReader::new(stream);
            writeln!(
                writer,
                r#"{{"QMP": {{"version": {{}}, "capabilities": []}}}}"#
            )
            .unwrap();
            let mut received = String::new();
            for answer in answers {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                received.push_str(&line);
                writeln!(writer, r#"{{"event": "POWERDOWN", "data": {{}}}}"#).unwrap();
                writeln!(writer, "{answer}").unwrap();
            }
            received
        });
        (path, server)
    }

    #[test]
    fn negotiates_then_powers_down() {
        let (path, server) = fake_qemu(&[r#"{"return": {}}"#, r#"{"return": {}}"#]);
        system_powerdown(&path).expect("the command is accepted");
        let sent = server.join().expect("the fake ends");
        assert_eq!(
            sent,
            "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"system_powerdown\"}\n"
        );
    }

    #[test]
    fn an_error_answer_is_reported() {
        const ERROR: &str = r#"{"error": {"class": "GenericError", "desc": "no"}}"#;
        let (path, server) = fake_qemu(&[r#"{"return": {}}"#, ERROR, "", ""]);
        let failed = system_powerdown(&path).expect_err("QEMU said no");
        assert!(failed.contains("GenericError"), "{failed}");
        drop(server);
        let missing = execute(Path::new("/nonexistent/qmp.sock"), "quit");
        assert!(missing.expect_err("no socket").contains("/nonexistent"));
    }

    #[test]
    fn the_socket_is_an_argument() {
        let words = arguments(Path::new("/tmp/a,b.qmp"));
        assert_eq!(words, ["-qmp", "unix:/tmp/a,,b.qmp,server=on,wait=off"]);
    }
}
