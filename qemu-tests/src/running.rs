//! `Qemu`: a running QEMU whose serial output is read as it comes.
//!
//! QEMU's stdout (COM1 via `-serial stdio`) and stderr are read by two
//! threads; stdin is /dev/null. Every wait takes a time limit. End of file on
//! stdout means QEMU exited, so `wait_for_exit` needs no polling: it waits
//! for the last line, then reaps the process. Dropping a `Qemu` kills it.
//! Any command can run through the same machinery ([`Qemu::spawn_command`]),
//! which is how the runner is tested without QEMU.

use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::config::QemuConfig;
use crate::machine::{BootMedium, ConfigError};
use crate::outcome::Outcome;
use crate::serial::{SerialLine, format_log, read_lines};
use crate::verdict::Verdict;

/// How long to wait for the last output of a process that was just killed.
const DRAIN_AFTER_KILL: Duration = Duration::from_secs(5);

/// Why QEMU could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The configuration is impossible.
    Config(ConfigError),
    /// The operating system refused to start the program.
    Io(io::ErrorKind),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Config(error) => write!(formatter, "cannot run QEMU like this: {error}"),
            SpawnError::Io(kind) => write!(formatter, "cannot start QEMU: {kind}"),
        }
    }
}

impl std::error::Error for SpawnError {}

/// Why a wanted line did not come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitError {
    /// The time limit passed first.
    Timeout,
    /// QEMU closed its output (exited) first.
    Exited,
}

impl fmt::Display for WaitError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            WaitError::Timeout => "the time limit passed first",
            WaitError::Exited => "QEMU exited first",
        })
    }
}

impl std::error::Error for WaitError {}

/// A running QEMU (or a stand-in program); killed when dropped.
#[derive(Debug)]
pub struct Qemu {
    child: Child,
    spawned_at: Instant,
    incoming: Receiver<SerialLine>,
    log: Vec<SerialLine>,
    /// Lines before this index were already examined by `wait_for_line`.
    cursor: usize,
    stderr: Option<JoinHandle<String>>,
    reaped: bool,
    /// The ELF booted with `-kernel`, whose `.debug` file places frames.
    image: Option<PathBuf>,
}

impl Qemu {
    /// Starts QEMU as `config` says, with the serial port on a pipe.
    pub fn spawn(config: &QemuConfig) -> Result<Qemu, SpawnError> {
        let mut qemu = Qemu::spawn_command(config.command().map_err(SpawnError::Config)?)?;
        if let BootMedium::Kernel(image) = config.medium() {
            qemu.image = Some(image.clone());
        }
        Ok(qemu)
    }

    /// Starts any `command` the same way (stdin empty, stdout and stderr read).
    pub fn spawn_command(mut command: Command) -> Result<Qemu, SpawnError> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawned_at = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|error| SpawnError::Io(error.kind()))?;
        let stdout = child.stdout.take().expect("stdout was piped");
        let stderr = child.stderr.take().expect("stderr was piped");
        let (sender, incoming) = mpsc::channel();
        thread::spawn(move || read_lines(stdout, spawned_at, sender));
        let stderr = Some(thread::spawn(move || read_all(stderr)));
        let log = Vec::new();
        Ok(Qemu {
            child,
            spawned_at,
            incoming,
            log,
            cursor: 0,
            stderr,
            reaped: false,
            image: None,
        })
    }

    /// The moment just before QEMU was started; line times count from here.
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// Every line received so far.
    pub fn lines(&self) -> &[SerialLine] {
        &self.log
    }

    /// The lines received so far, with times, for a failure message.
    pub fn log(&self) -> String {
        format_log(&self.log)
    }

    /// Waits until a line containing `pattern` arrives after the lines earlier
    /// waits examined, for at most `within`; returns it.
    pub fn wait_for_line(
        &mut self,
        pattern: &str,
        within: Duration,
    ) -> Result<SerialLine, WaitError> {
        let deadline = deadline_after(within);
        loop {
            if let Some(line) = self.next_match(pattern) {
                return Ok(line);
            }
            self.receive_one(deadline)?;
        }
    }

    /// Like [`Qemu::wait_for_line`] but panics with the serial log on failure.
    #[track_caller]
    pub fn expect_line(&mut self, pattern: &str, within: Duration) -> SerialLine {
        match self.wait_for_line(pattern, within) {
            Ok(line) => line,
            Err(error) => panic!(
                "no line containing `{pattern}` within {within:?}: {}",
                self.describe_failure(error)
            ),
        }
    }

    /// The guest's first line, waiting at most `within` for it.
    pub fn first_line(&mut self, within: Duration) -> Result<SerialLine, WaitError> {
        let deadline = deadline_after(within);
        while self.log.is_empty() {
            self.receive_one(deadline)?;
        }
        Ok(self.log[0].clone())
    }

    /// Like [`Qemu::first_line`] but panics with the serial log on failure.
    #[track_caller]
    pub fn expect_first_line(&mut self, within: Duration) -> SerialLine {
        match self.first_line(within) {
            Ok(line) => line,
            Err(error) => panic!(
                "no serial line within {within:?}: {}",
                self.describe_failure(error)
            ),
        }
    }

    fn next_match(&mut self, pattern: &str) -> Option<SerialLine> {
        let found = self.log[self.cursor..]
            .iter()
            .position(|line| line.matches(pattern));
        let Some(offset) = found else {
            self.cursor = self.log.len();
            return None;
        };
        self.cursor += offset + 1;
        Some(self.log[self.cursor - 1].clone())
    }

    /// Moves one more line into the log, or says why none came before `deadline`.
    fn receive_one(&mut self, deadline: Instant) -> Result<(), WaitError> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(line) => {
                self.log.push(line);
                Ok(())
            }
            Err(RecvTimeoutError::Timeout) => Err(WaitError::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(WaitError::Exited),
        }
    }

    /// Waits at most `within` for QEMU to exit, killing it at the deadline,
    /// and returns the verdict with the whole serial log.
    pub fn wait_for_exit(mut self, within: Duration) -> Outcome {
        let deadline = deadline_after(within);
        let closed = self.receive_all(deadline);
        let elapsed = self.spawned_at.elapsed();
        let verdict = if closed {
            self.reap()
        } else {
            self.kill();
            self.receive_all(deadline_after(DRAIN_AFTER_KILL));
            Verdict::Timeout
        };
        Outcome::new(verdict, std::mem::take(&mut self.log), elapsed).with_image(self.image.take())
    }

    /// Kills QEMU now and returns everything it printed (verdict `Timeout`).
    pub fn stop(mut self) -> Outcome {
        let elapsed = self.spawned_at.elapsed();
        self.kill();
        self.receive_all(deadline_after(DRAIN_AFTER_KILL));
        Outcome::new(Verdict::Timeout, std::mem::take(&mut self.log), elapsed)
            .with_image(self.image.take())
    }

    /// Receives lines until the output closes (true) or `deadline` (false).
    fn receive_all(&mut self, deadline: Instant) -> bool {
        loop {
            match self.receive_one(deadline) {
                Ok(()) => continue,
                Err(WaitError::Exited) => return true,
                Err(WaitError::Timeout) => return false,
            }
        }
    }

    /// Why a wait failed, with the verdict if QEMU exited, and the log.
    fn describe_failure(&mut self, error: WaitError) -> String {
        match error {
            WaitError::Exited => format!("{error} ({}); {}", self.reap(), self.log()),
            WaitError::Timeout => format!("{error}; {}", self.log()),
        }
    }

    /// Waits for QEMU, whose output has closed, and decodes its exit status.
    fn reap(&mut self) -> Verdict {
        let status = self.child.wait().ok().and_then(|status| status.code());
        self.reaped = true;
        Verdict::from_exit_status(status, &self.take_stderr())
    }

    fn take_stderr(&mut self) -> String {
        let reader = self.stderr.take();
        reader
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    }

    fn kill(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.reaped = true;
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The instant `within` from now, or a year from now if `within` is longer.
fn deadline_after(within: Duration) -> Instant {
    let now = Instant::now();
    let year = Duration::from_secs(365 * 24 * 3600);
    now.checked_add(within.min(year)).unwrap_or(now)
}

fn read_all(mut stream: impl Read) -> String {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests;
