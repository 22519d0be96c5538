//! The receive path both backends share: backend frames, faults, delivery.
//!
//! A backend hands raw frames to [`ReceiveQueue::next`] through a closure
//! that fills a buffer the queue lends it; they pass the NIC's fault
//! injector into a queue of frames ready for the kernel, which are copied
//! out one per call. Delivered buffers are kept for the next frames, so a
//! NIC allocates nothing per frame once warm (without faults). A frame
//! longer than the caller's buffer is dropped (the interface's rule) and
//! counted.

use std::collections::VecDeque;
use std::time::Instant;

use hypercall::NicError;

use super::faults::{FaultCounters, FaultInjector};
use super::spec::FaultSpec;

/// What a NIC delivered and dropped on the way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NicStatistics {
    /// Frames copied out to the kernel.
    pub delivered: u64,
    /// Frames dropped because the caller's buffer was too short.
    pub oversized: u64,
    /// Bus frames missed because writers overtook this reader (0 on a tap).
    pub lapped: u64,
    /// Bus slots skipped because they held garbage (0 on a tap).
    pub bad_records: u64,
    /// What the fault injector did.
    pub faults: FaultCounters,
}

/// Emptied frame buffers kept for reuse, at most.
const SPARE_LIMIT: usize = 16;

/// One NIC's frames between backend and kernel.
#[derive(Debug)]
pub(crate) struct ReceiveQueue {
    faults: FaultInjector,
    ready: VecDeque<Vec<u8>>,
    /// Emptied frame buffers, lent to the source again.
    spare: Vec<Vec<u8>>,
    delivered: u64,
    oversized: u64,
}

impl ReceiveQueue {
    pub(crate) fn new(spec: FaultSpec, seed: u64) -> Self {
        Self {
            faults: FaultInjector::new(spec, seed),
            ready: VecDeque::new(),
            spare: Vec::new(),
            delivered: 0,
            oversized: 0,
        }
    }

    /// Copies the next deliverable frame into `buffer`, pulling frames from
    /// `source` as needed: it fills the vector it is given with one frame
    /// and returns `Ok(true)`, or `Ok(false)` when the backend has none
    /// waiting. `Ok(None)`: nothing deliverable now.
    ///
    /// # Errors
    /// Whatever `source` returns.
    pub(crate) fn next(
        &mut self,
        buffer: &mut [u8],
        mut source: impl FnMut(&mut Vec<u8>) -> Result<bool, NicError>,
    ) -> Result<Option<usize>, NicError> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                let delivered = self.deliver(&frame, buffer);
                self.recycle(frame);
                match delivered {
                    Some(length) => return Ok(Some(length)),
                    None => continue,
                }
            }
            let mut vessel = self.spare.pop().unwrap_or_default();
            vessel.clear();
            if source(&mut vessel)? {
                self.faults.admit(vessel, &mut self.ready);
                continue;
            }
            self.recycle(vessel);
            if !self.faults.release_expired(Instant::now(), &mut self.ready) {
                return Ok(None);
            }
        }
    }

    /// Copies `frame` out; `None` (counted) when `buffer` is too short.
    fn deliver(&mut self, frame: &[u8], buffer: &mut [u8]) -> Option<usize> {
        let Some(target) = buffer.get_mut(..frame.len()) else {
            self.oversized += 1;
            return None;
        };
        target.copy_from_slice(frame);
        self.delivered += 1;
        Some(frame.len())
    }

    /// Keeps an emptied buffer for the next frame (a few at most).
    fn recycle(&mut self, vessel: Vec<u8>) {
        if self.spare.len() < SPARE_LIMIT {
            self.spare.push(vessel);
        }
    }

    /// When a held frame falls due: a blocking receive waits no longer.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.faults.deadline()
    }

    /// The counts of this queue; the backend fills in its own.
    pub(crate) fn statistics(&self) -> NicStatistics {
        NicStatistics {
            delivered: self.delivered,
            oversized: self.oversized,
            faults: self.faults.counters(),
            ..NicStatistics::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_of(frames: Vec<Vec<u8>>) -> impl FnMut(&mut Vec<u8>) -> Result<bool, NicError> {
        let mut frames = VecDeque::from(frames);
        move |vessel| match frames.pop_front() {
            Some(frame) => {
                vessel.extend_from_slice(&frame);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    #[test]
    fn frames_come_out_in_order_and_short_buffers_drop_long_frames() {
        let mut queue = ReceiveQueue::new(FaultSpec::default(), 1);
        let mut source = source_of(vec![vec![1; 20], vec![2; 100], vec![3; 30]]);
        let mut buffer = [0u8; 50];
        assert_eq!(queue.next(&mut buffer, &mut source), Ok(Some(20)));
        assert_eq!(buffer[..20], [1; 20]);
        assert_eq!(queue.next(&mut buffer, &mut source), Ok(Some(30)));
        assert_eq!(buffer[..30], [3; 30]);
        assert_eq!(queue.next(&mut buffer, &mut source), Ok(None));
        let statistics = queue.statistics();
        assert_eq!((statistics.delivered, statistics.oversized), (2, 1));
        assert_eq!(statistics.faults.admitted, 3);
    }

    #[test]
    fn source_errors_pass_through() {
        let mut queue = ReceiveQueue::new(FaultSpec::default(), 1);
        let result = queue.next(&mut [0u8; 64], |_| Err(NicError::Io));
        assert_eq!(result, Err(NicError::Io));
    }

    #[test]
    fn a_held_frame_waits_for_its_deadline_then_comes_out() {
        let spec = FaultSpec {
            reorder: 1.0,
            ..FaultSpec::default()
        };
        let mut queue = ReceiveQueue::new(spec, 1);
        let mut buffer = [0u8; 64];
        assert_eq!(
            queue.next(&mut buffer, source_of(vec![vec![9; 20]])),
            Ok(None)
        );
        let deadline = queue.deadline().expect("held");
        while Instant::now() < deadline {
            std::hint::spin_loop();
        }
        assert_eq!(queue.next(&mut buffer, source_of(vec![])), Ok(Some(20)));
        assert_eq!(queue.deadline(), None);
    }
}
