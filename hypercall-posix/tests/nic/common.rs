//! Helpers for the NIC tests: temp bus files, deadlines, numbered frames.
//!
//! Every bus file gets a name unique to the process and the call (tests run
//! in parallel) and is removed when its [`TempBus`] drops. Every wait runs
//! under [`run_with_deadline`], which aborts a hung test instead of letting
//! it hang.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hypercall::{NicError, VirtualNic};
use hypercall_posix::nic::{BusNic, FaultSpec};

/// How long any single wait in a test may take.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A unique bus file path, removed on drop.
#[derive(Debug)]
pub struct TempBus {
    pub path: PathBuf,
}

impl TempBus {
    pub fn new(test: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("anykernel-{test}-{}-{count}.bus", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        Self { path }
    }

    /// A NIC on this bus with MAC `02:00:00:00:00:<last>` and no faults.
    pub fn nic(&self, last: u8) -> BusNic {
        self.nic_with_faults(last, FaultSpec::default())
    }

    pub fn nic_with_faults(&self, last: u8, faults: FaultSpec) -> BusNic {
        BusNic::open(&self.path, [2, 0, 0, 0, 0, last], faults, 1).expect("bus attaches")
    }

    pub fn spec(&self) -> String {
        format!("bus:{}", self.path.display())
    }
}

impl Drop for TempBus {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs `body` on a scoped thread; aborts the process if it takes longer
/// than [`DEADLINE`]. A panic in `body` is propagated.
pub fn run_with_deadline<R: Send>(body: impl FnOnce() -> R + Send) -> R {
    let (done, finished) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let result = body();
            let _ = done.send(());
            result
        });
        if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(DEADLINE) {
            let message = format!("test deadline of {DEADLINE:?} passed: a wait never ended\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
            std::process::abort();
        }
        match worker.join() {
            Ok(result) => result,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

/// Polls `condition` until it holds; panics naming `what` after DEADLINE.
/// For states with no event to wait on (a thread asleep in a futex wait
/// shows only as the bus's waiter count), so polling is the only way.
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `frame`, retrying while the bus lock is contended (`Busy`).
pub fn send(nic: &dyn VirtualNic, frame: &[u8]) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match nic.send(frame) {
            Ok(()) => return,
            Err(NicError::Busy) if Instant::now() < deadline => std::thread::yield_now(),
            Err(error) => panic!("send failed: {error}"),
        }
    }
}

/// A `length`-byte frame from `sender` carrying `number`: broadcast
/// destination, the sender's MAC, EtherType 0x88b5 (local experimental),
/// then the number and a pattern derived from it; at least 23 bytes.
pub fn numbered_frame(sender: u8, number: u64, length: usize) -> Vec<u8> {
    let length = length.max(23);
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&[2, 0, 0, 0, 0, sender, 0x88, 0xb5]);
    frame.extend_from_slice(&number.to_le_bytes());
    // Every bit of the number moves the whole pattern (31 is odd), so any
    // single flipped bit is seen by `decode`.
    let folded = number
        .to_le_bytes()
        .iter()
        .fold(0u8, |sum, &byte| sum.wrapping_mul(31).wrapping_add(byte));
    let pattern = (frame.len()..length).map(|index| folded.wrapping_add(index as u8));
    frame.extend(pattern.collect::<Vec<u8>>());
    frame
}

/// The sender byte and number of a frame built by [`numbered_frame`],
/// after checking that every byte is what it was built with.
pub fn decode(frame: &[u8]) -> (u8, u64) {
    let number = u64::from_le_bytes(frame[14..22].try_into().expect("8 bytes"));
    let sender = frame[11];
    assert_eq!(
        frame,
        numbered_frame(sender, number, frame.len()),
        "frame intact"
    );
    (sender, number)
}

/// Receives one frame (blocking) and decodes it.
pub fn receive(nic: &dyn VirtualNic) -> (u8, u64) {
    let mut buffer = vec![0u8; nic.max_frame()];
    let length = nic.receive(&mut buffer).expect("a frame");
    decode(&buffer[..length])
}

/// Every frame waiting now, decoded.
pub fn drain(nic: &dyn VirtualNic) -> Vec<(u8, u64)> {
    let mut buffer = vec![0u8; nic.max_frame()];
    let mut frames = Vec::new();
    while let Some(length) = nic.try_receive(&mut buffer).expect("open") {
        frames.push(decode(&buffer[..length]));
    }
    frames
}

/// The 32-bit little-endian word at `offset` of the file at `path`.
pub fn file_word(path: &Path, offset: u64) -> u32 {
    use std::os::unix::fs::FileExt;
    let mut bytes = [0u8; 4];
    let file = std::fs::File::open(path).expect("bus file");
    file.read_exact_at(&mut bytes, offset).expect("read");
    u32::from_le_bytes(bytes)
}

/// Writes `bytes` at `offset` of the file at `path`.
pub fn scribble(path: &Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("bus file");
    file.write_all_at(bytes, offset).expect("written");
}
