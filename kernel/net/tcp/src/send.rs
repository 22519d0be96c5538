//! The send buffer: queued bytes from SND.UNA on, in a ring.
//!
//! `start` is the sequence number of the oldest byte held: SND.UNA once the
//! SYN is acknowledged (before that, SND.UNA is the SYN's number and
//! `start` is one past it). Bytes stay until acknowledged, so
//! retransmissions copy from the same ring. A FIN, when queued, has the
//! sequence number [`SendBuffer::end`].

use crate::memory::Charges;
use crate::ring::Ring;
use crate::sequence::Sequence;

/// Unacknowledged and unsent data of one connection.
#[derive(Debug)]
pub struct SendBuffer {
    ring: Ring,
    start: Sequence,
}

impl SendBuffer {
    /// An empty buffer of at most `limit` bytes.
    pub const fn new(limit: usize) -> Self {
        Self {
            ring: Ring::new(limit),
            start: Sequence(0),
        }
    }

    /// Sets the sequence number of the first byte (after the SYN).
    pub fn synchronize(&mut self, start: Sequence) {
        self.start = start;
    }

    /// The sequence number of the oldest byte held.
    pub const fn start(&self) -> Sequence {
        self.start
    }

    /// One past the newest byte queued (the FIN's number).
    pub fn end(&self) -> Sequence {
        self.start.add(self.ring.len() as u32)
    }

    /// Bytes held.
    pub const fn len(&self) -> usize {
        self.ring.len()
    }

    /// Room for more bytes.
    pub const fn free(&self) -> usize {
        self.ring.free()
    }

    /// Changes the size limit (never below what is held).
    pub fn set_limit(&mut self, limit: usize) {
        self.ring.set_limit(limit);
    }

    /// Frees the storage if the buffer is empty.
    pub fn release(&mut self, charges: &mut Charges) {
        self.ring.release(charges);
    }

    /// Bytes of ring storage allocated.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Queues as much of `data` as fits; returns how much (0 also when
    /// the memory for it was refused).
    pub fn push(&mut self, data: &[u8], charges: &mut Charges) -> usize {
        self.ring.push(data, charges)
    }

    /// Drops the bytes before `acknowledged`; returns how many.
    pub fn acknowledge(&mut self, acknowledged: Sequence) -> usize {
        let count = (acknowledged.saturating_since(self.start) as usize).min(self.ring.len());
        self.ring.consume(count);
        self.start = self.start.add(count as u32);
        count
    }

    /// Copies bytes from `sequence` on into `out`; returns how many.
    pub fn copy_out(&self, sequence: Sequence, out: &mut [u8]) -> usize {
        let offset = sequence.since(self.start) as usize;
        self.ring.read_at(offset, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgment_and_copy_follow_sequence_numbers() {
        let mut charges = Charges::default();
        let mut buffer = SendBuffer::new(100);
        buffer.synchronize(Sequence(u32::MAX));
        assert_eq!(buffer.push(b"abcdef", &mut charges), 6);
        assert_eq!(buffer.end(), Sequence(5));
        let mut out = [0u8; 3];
        assert_eq!(buffer.copy_out(Sequence(1), &mut out), 3);
        assert_eq!(&out, b"cde");
        assert_eq!(buffer.acknowledge(Sequence(1)), 2);
        assert_eq!(buffer.start(), Sequence(1));
        // An ACK that also covers the FIN consumes only the data.
        assert_eq!(buffer.acknowledge(Sequence(6)), 4);
        assert_eq!(buffer.len(), 0);
        assert_eq!(buffer.acknowledge(Sequence(0)), 0);
    }
}
