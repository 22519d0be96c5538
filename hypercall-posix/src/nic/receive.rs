//! The receive path both backends share: backend frames, faults, delivery.
//!
//! A backend hands raw frames to [`ReceiveQueue::next`] through a closure;
//! they pass the NIC's fault injector into a queue of frames ready for the
//! kernel, which are copied out one per call. A frame longer than the
//! caller's buffer is dropped (the interface's rule) and counted.

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

/// One NIC's frames between backend and kernel.
#[derive(Debug)]
pub(crate) struct ReceiveQueue {
    faults: FaultInjector,
    ready: VecDeque<Vec<u8>>,
    delivered: u64,
    oversized: u64,
}

impl ReceiveQueue {
    pub(crate) fn new(spec: FaultSpec, seed: u64) -> Self {
        Self {
            faults: FaultInjector::new(spec, seed),
            ready: VecDeque::new(),
            delivered: 0,
            oversized: 0,
        }
    }

    /// Copies the next deliverable frame into `buffer`, pulling frames from
    /// `source` (which returns `Ok(None)` when the backend has none waiting)
    /// as needed. `Ok(None)`: nothing deliverable now.
    ///
    /// # Errors
    /// Whatever `source` returns.
    pub(crate) fn next(
        &mut self,
        buffer: &mut [u8],
        mut source: impl FnMut() -> Result<Option<Vec<u8>>, NicError>,
    ) -> Result<Option<usize>, NicError> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                let Some(target) = buffer.get_mut(..frame.len()) else {
                    self.oversized += 1;
                    continue;
                };
                target.copy_from_slice(&frame);
                self.delivered += 1;
                return Ok(Some(frame.len()));
            }
            match source()? {
                Some(frame) => self.faults.admit(frame, &mut self.ready),
                None if self.faults.release_expired(Instant::now(), &mut self.ready) => {}
                None => return Ok(None),
            }
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

    fn source_of(frames: Vec<Vec<u8>>) -> impl FnMut() -> Result<Option<Vec<u8>>, NicError> {
        let mut frames = VecDeque::from(frames);
        move || Ok(frames.pop_front())
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
        let result = queue.next(&mut [0u8; 64], || Err(NicError::Io));
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
