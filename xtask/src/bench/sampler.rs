//! Guest profiles through QEMU's gdb stub: where the guest's CPU is.
//!
//! perf on QEMU sees TCG's translated code as one `[JIT]` blob, so it
//! cannot say which guest function runs. The gdb stub can: QEMU started
//! with `-gdb unix:PATH,server=on,wait=off` stops the guest at a
//! translation-block boundary on a `^C`, answers register and memory reads,
//! and runs it on again on `c` (GDB remote serial protocol; "no-ack" mode
//! when the stub has it, QEMU 8.1 on).
//! [`Sampler`] takes a sample about every millisecond: the instruction
//! pointer and the return addresses of the frame-pointer chain (the image
//! is built with frame pointers). `guest_profile.rs` names and counts them.
//!
//! A sample stops the guest for a few hundred microseconds of host time,
//! during which no guest time passes (TCG's clock is the host's, so the
//! guest sees the stop; the figures measured under sampling are not the
//! bench's).

use std::io::{BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Return addresses followed per sample, past the instruction pointer.
const MAXIMUM_DEPTH: usize = 48;
/// How long a reply may take before the stub is taken for gone.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// The `g` packet's register order on x86_64 (gdb's legacy layout).
const RBP: usize = 6;
const RIP: usize = 16;

/// One sample: the instruction pointer, then return addresses, innermost
/// first.
pub type Stack = Vec<u64>;

/// A connection to QEMU's gdb stub.
pub struct Sampler {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Whether each packet received is still to be acknowledged (`+`).
    acknowledging: bool,
}

impl Sampler {
    /// Connects to the stub at `socket` (QEMU stops the guest on
    /// connection), turns acknowledgements off and lets the guest run.
    ///
    /// # Errors
    /// The socket or the protocol failed.
    pub fn connect(socket: &Path) -> Result<Self, String> {
        let stream = UnixStream::connect(socket)
            .map_err(|error| format!("gdb stub {}: {error}", socket.display()))?;
        Self::over(stream)
    }

    /// [`Sampler::connect`] over a connected `stream`.
    fn over(stream: UnixStream) -> Result<Self, String> {
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(|error| error.to_string())?;
        let writer = stream.try_clone().map_err(|error| error.to_string())?;
        let mut sampler = Self {
            reader: BufReader::new(stream),
            writer,
            acknowledging: true,
        };
        sampler.send("QStartNoAckMode")?;
        sampler.acknowledging = !sampler.no_acks_agreed()?;
        sampler.send("c")?;
        Ok(sampler)
    }

    /// Takes samples about every `interval` until `finished` says so; the
    /// guest runs on afterwards.
    ///
    /// # Errors
    /// The stub stopped answering.
    pub fn sample_until(
        &mut self,
        finished: impl Fn() -> bool,
        interval: Duration,
    ) -> Result<Vec<Stack>, String> {
        let mut stacks = Vec::new();
        while !finished() {
            // Pacing, not waiting for a condition: samples are spread
            // over the work being profiled.
            std::thread::sleep(interval);
            stacks.push(self.sample()?);
        }
        Ok(stacks)
    }

    /// Stops the guest, reads where it is, and runs it on.
    fn sample(&mut self) -> Result<Stack, String> {
        self.writer
            .write_all(&[0x03])
            .map_err(|error| format!("gdb stub: {error}"))?;
        let stop = self.receive()?;
        if !stop.starts_with('T') && !stop.starts_with('S') {
            return Err(format!("gdb stub: unexpected stop reply {stop:?}"));
        }
        self.send("g")?;
        let registers = parse_registers(&self.receive()?)?;
        let (rip, rbp) = (registers[RIP], registers[RBP]);
        let mut stack = vec![rip];
        stack.extend(self.return_addresses(rbp)?);
        self.send("c")?;
        Ok(stack)
    }

    /// The return addresses of the frame-pointer chain from `rbp`.
    fn return_addresses(&mut self, mut rbp: u64) -> Result<Vec<u64>, String> {
        let mut addresses = Vec::new();
        while addresses.len() < MAXIMUM_DEPTH && rbp != 0 && rbp.is_multiple_of(8) {
            self.send(&format!("m{rbp:x},10"))?;
            let Some(frame) = parse_memory(&self.receive()?) else {
                break;
            };
            let (saved, returned) = (frame[0], frame[1]);
            if returned == 0 {
                break;
            }
            addresses.push(returned);
            // Frames grow down, so a caller's frame lies above: anything
            // else is the end of the chain (or garbage).
            if saved <= rbp {
                break;
            }
            rbp = saved;
        }
        Ok(addresses)
    }

    /// Whether the stub agreed to no-ack mode (`OK`; an empty reply is
    /// "not supported"), past the stop reply QEMU may send when it stopped
    /// the guest for the connection.
    fn no_acks_agreed(&mut self) -> Result<bool, String> {
        for _ in 0..4 {
            match self.receive()?.as_str() {
                "OK" => return Ok(true),
                "" => return Ok(false),
                stop if stop.starts_with('T') || stop.starts_with('S') => {}
                other => return Err(format!("gdb stub: unexpected reply {other:?}")),
            }
        }
        Err("gdb stub: no answer to QStartNoAckMode".into())
    }

    fn send(&mut self, data: &str) -> Result<(), String> {
        self.writer
            .write_all(frame(data).as_bytes())
            .map_err(|error| format!("gdb stub: {error}"))
    }

    /// The next packet's data, skipping acknowledgements.
    fn receive(&mut self) -> Result<String, String> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut byte = [0u8; 1];
        loop {
            if Instant::now() > deadline {
                return Err("gdb stub: no packet".into());
            }
            self.read_byte(&mut byte)?;
            if byte[0] == b'$' {
                break;
            }
        }
        let mut data = Vec::new();
        loop {
            self.read_byte(&mut byte)?;
            if byte[0] == b'#' {
                break;
            }
            data.push(byte[0]);
        }
        let mut checksum = [0u8; 2];
        self.reader
            .read_exact(&mut checksum)
            .map_err(|error| format!("gdb stub: {error}"))?;
        if self.acknowledging {
            self.writer
                .write_all(b"+")
                .map_err(|error| format!("gdb stub: {error}"))?;
        }
        String::from_utf8(data).map_err(|_| "gdb stub: a packet that is not text".into())
    }

    fn read_byte(&mut self, byte: &mut [u8; 1]) -> Result<(), String> {
        self.reader
            .read_exact(byte)
            .map_err(|error| format!("gdb stub: {error}"))
    }
}

/// `data` as a packet: `$data#checksum`.
fn frame(data: &str) -> String {
    let checksum = data.bytes().fold(0u8, |sum, byte| sum.wrapping_add(byte));
    format!("${data}#{checksum:02x}")
}

/// The 64-bit general registers and `rip` of a `g` reply.
fn parse_registers(reply: &str) -> Result<Vec<u64>, String> {
    let registers: Vec<u64> = reply
        .as_bytes()
        .chunks_exact(16)
        .take(RIP + 1)
        .map_while(little_endian_word)
        .collect();
    if registers.len() <= RIP {
        return Err(format!(
            "gdb stub: short register reply ({} bytes)",
            reply.len()
        ));
    }
    Ok(registers)
}

/// Two words of an `m` reply, or `None` for an error reply.
fn parse_memory(reply: &str) -> Option<[u64; 2]> {
    let mut words = reply.as_bytes().chunks_exact(16).map(little_endian_word);
    Some([words.next()??, words.next()??])
}

/// 16 hex digits, little-endian bytes, as a word.
fn little_endian_word(hex: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(hex).ok()?;
    let value = u64::from_str_radix(text, 16).ok()?;
    Some(value.swap_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_carry_their_checksum() {
        assert_eq!(frame("c"), "$c#63");
        assert_eq!(frame("g"), "$g#67");
        assert_eq!(frame("QStartNoAckMode"), "$QStartNoAckMode#b0");
    }

    #[test]
    fn registers_are_little_endian_words_in_gdb_order() {
        let mut reply = String::new();
        for index in 0..=RIP as u64 {
            let value: u64 = 0x1000 + index;
            let bytes = value.to_le_bytes();
            reply.extend(bytes.iter().map(|byte| format!("{byte:02x}")));
        }
        reply.push_str("0202000000000000"); // eflags, ignored
        let registers = parse_registers(&reply).expect("a full reply");
        assert_eq!(registers[RBP], 0x1006);
        assert_eq!(registers[RIP], 0x1010);
        assert!(parse_registers("E14").is_err());
        assert!(parse_registers(&reply[..16 * 4]).is_err());
    }

    #[test]
    fn memory_replies_give_two_words_or_none() {
        let reply = "0010200000000000efbeadde00000000";
        assert_eq!(parse_memory(reply), Some([0x0020_1000, 0xdead_beef]));
        assert_eq!(parse_memory("E14"), None);
        assert_eq!(parse_memory("zz10200000000000efbeadde00000000"), None);
    }

    /// A stub on the other end of a socket pair: no no-ack mode, a stop
    /// reply per `^C`, registers with rip 0x1010 and rbp 0x8000, and a
    /// two-frame chain (0x8000 -> 0x8100 -> end).
    fn fake_stub(mut stub: UnixStream) {
        let mut reader = BufReader::new(stub.try_clone().expect("a clone"));
        let reply = |stub: &mut UnixStream, data: &str| {
            stub.write_all(format!("+{}", frame(data)).as_bytes())
                .expect("the sampler listens");
        };
        let mut byte = [0u8; 1];
        while reader.read_exact(&mut byte).is_ok() {
            if byte[0] == 0x03 {
                reply(&mut stub, "T02thread:01;");
                continue;
            }
            if byte[0] != b'$' {
                continue;
            }
            let mut packet = Vec::new();
            while reader.read_exact(&mut byte).is_ok() && byte[0] != b'#' {
                packet.push(byte[0]);
            }
            let mut checksum = [0u8; 2];
            reader.read_exact(&mut checksum).expect("a checksum");
            let words = |values: &[u64]| -> String {
                values
                    .iter()
                    .map(|value| format!("{:016x}", value.swap_bytes()))
                    .collect()
            };
            match std::str::from_utf8(&packet).expect("text") {
                "QStartNoAckMode" => reply(&mut stub, ""),
                "g" => {
                    let mut registers = vec![0u64; RIP + 1];
                    registers[RBP] = 0x8000;
                    registers[RIP] = 0x1010;
                    reply(&mut stub, &words(&registers));
                }
                "m8000,10" => reply(&mut stub, &words(&[0x8100, 0x2020])),
                "m8100,10" => reply(&mut stub, &words(&[0, 0x3030])),
                "c" => {}
                other => reply(&mut stub, &format!("E01 {other}")),
            }
        }
    }

    #[test]
    fn a_sample_is_the_instruction_pointer_and_the_return_addresses() {
        let (ours, theirs) = UnixStream::pair().expect("a socket pair");
        let stub = std::thread::spawn(move || fake_stub(theirs));
        let mut sampler = Sampler::over(ours).expect("a session");
        assert!(sampler.acknowledging, "the stub has no no-ack mode");
        let taken = std::cell::Cell::new(0);
        let stacks = sampler
            .sample_until(
                || {
                    taken.set(taken.get() + 1);
                    taken.get() > 3
                },
                Duration::ZERO,
            )
            .expect("samples");
        assert_eq!(stacks, vec![vec![0x1010, 0x2020, 0x3030]; 3]);
        drop(sampler);
        stub.join().expect("the stub ends with the connection");
    }
}
