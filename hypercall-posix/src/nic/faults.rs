//! Fault injection on received frames: loss, duplication, reordering, bits.
//!
//! Each NIC has its own injector, applied to the frames it *receives*, so
//! each side of a link can be configured apart. Per frame, in this order,
//! with independent draws from the workspace's seeded generator
//! (xoshiro256++, so a seed replays exactly): drop it (`loss`); flip one random bit in a random byte past
//! the 14-byte Ethernet header (`corrupt`; frames with no payload are left
//! alone); deliver it twice (`duplicate`); hold it back (`reorder`). Held
//! frames are delivered right after the next frame that is not held, or
//! once [`HOLD_LIMIT`] has passed without one, so nothing is held forever.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

use super::spec::FaultSpec;

/// The longest a reordered frame waits for a successor.
pub const HOLD_LIMIT: Duration = Duration::from_millis(5);

/// The Ethernet header, which corruption leaves intact.
const ETHERNET_HEADER: usize = 14;

/// What an injector did, frame by frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultCounters {
    /// Frames handed to the injector.
    pub admitted: u64,
    /// Frames dropped.
    pub dropped: u64,
    /// Frames delivered twice.
    pub duplicated: u64,
    /// Frames held back behind a later one.
    pub reordered: u64,
    /// Frames with one bit flipped.
    pub corrupted: u64,
}

/// The draws an injector makes, over the seeded generator.
#[derive(Debug, Clone)]
struct Draws(Xoshiro256PlusPlus);

impl Draws {
    /// True with probability `probability` (no draw when it is 0).
    fn chance(&mut self, probability: f64) -> bool {
        // 53 random bits as a float in [0, 1): 1.0 is always above it.
        probability > 0.0 && ((self.0.next_u64() >> 11) as f64) * (-53f64).exp2() < probability
    }

    /// A number below `bound` (> 0); the modulo bias is irrelevant here.
    fn below(&mut self, bound: usize) -> usize {
        (self.0.next_u64() % bound as u64) as usize
    }
}

/// One NIC's fault injector.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    spec: FaultSpec,
    random: Draws,
    /// Frames held back, oldest first.
    held: Vec<Vec<u8>>,
    /// When the oldest held frame was held.
    held_since: Option<Instant>,
    counters: FaultCounters,
}

impl FaultInjector {
    /// An injector doing what `spec` says, drawing from `seed` (the seed of
    /// `spec` is not consulted: the caller resolved it).
    pub(crate) fn new(spec: FaultSpec, seed: u64) -> Self {
        Self {
            spec,
            random: Draws(Xoshiro256PlusPlus::seed_from_u64(seed)),
            held: Vec::new(),
            held_since: None,
            counters: FaultCounters::default(),
        }
    }

    pub(crate) fn counters(&self) -> FaultCounters {
        self.counters
    }

    /// Passes one received frame through; what is to be delivered now is
    /// appended to `ready`.
    pub(crate) fn admit(&mut self, mut frame: Vec<u8>, ready: &mut VecDeque<Vec<u8>>) {
        self.counters.admitted += 1;
        let spec = self.spec;
        if !spec.is_active() && self.held.is_empty() {
            ready.push_back(frame);
            return;
        }
        if self.random.chance(spec.loss) {
            self.counters.dropped += 1;
            return;
        }
        if self.random.chance(spec.corrupt) && self.flip_a_bit(&mut frame) {
            self.counters.corrupted += 1;
        }
        let mut copies = vec![frame];
        if self.random.chance(spec.duplicate) {
            self.counters.duplicated += 1;
            copies.push(copies[0].clone());
        }
        if self.random.chance(spec.reorder) {
            self.counters.reordered += 1;
            self.held.append(&mut copies);
            self.held_since.get_or_insert_with(Instant::now);
            return;
        }
        ready.extend(copies);
        self.release(ready);
    }

    /// Flips one bit past the Ethernet header; false if there is none.
    fn flip_a_bit(&mut self, frame: &mut [u8]) -> bool {
        let payload = frame.len().saturating_sub(ETHERNET_HEADER);
        if payload == 0 {
            return false;
        }
        let index = ETHERNET_HEADER + self.random.below(payload);
        let bit = self.random.below(8);
        match frame.get_mut(index) {
            Some(byte) => *byte ^= 1 << bit,
            None => return false,
        }
        true
    }

    /// When held frames are due (`None`: nothing is held).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.held_since.map(|since| since + HOLD_LIMIT)
    }

    /// Releases the held frames into `ready` if they are due at `now`;
    /// returns whether it did.
    pub(crate) fn release_expired(&mut self, now: Instant, ready: &mut VecDeque<Vec<u8>>) -> bool {
        let due = self.deadline().is_some_and(|deadline| now >= deadline);
        if due {
            self.release(ready);
        }
        due
    }

    fn release(&mut self, ready: &mut VecDeque<Vec<u8>>) {
        ready.extend(self.held.drain(..));
        self.held_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAMES: u64 = 10_000;

    fn injector(spec: FaultSpec) -> FaultInjector {
        FaultInjector::new(spec, 0x5eed)
    }

    /// A 64-byte frame numbered `number` in its first payload bytes.
    fn frame(number: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[14..22].copy_from_slice(&number.to_le_bytes());
        bytes
    }

    fn number(frame: &[u8]) -> u64 {
        u64::from_le_bytes(frame[14..22].try_into().expect("8 bytes"))
    }

    /// Admits FRAMES numbered frames and returns what came out, releasing
    /// whatever is still held at the end.
    fn run(injector: &mut FaultInjector) -> Vec<Vec<u8>> {
        let mut ready = VecDeque::new();
        (0..FRAMES).for_each(|n| injector.admit(frame(n), &mut ready));
        let later = Instant::now() + HOLD_LIMIT;
        injector.release_expired(later, &mut ready);
        ready.into()
    }

    /// Whether `count` of FRAMES is within 5 standard deviations of p.
    fn near(count: u64, probability: f64, trials: u64) -> bool {
        let expected = probability * trials as f64;
        let deviation = (trials as f64 * probability * (1.0 - probability)).sqrt();
        (count as f64 - expected).abs() <= 5.0 * deviation.max(1.0)
    }

    #[test]
    fn no_faults_pass_everything_in_order() {
        let mut injector = injector(FaultSpec::default());
        let out = run(&mut injector);
        assert!(
            out.iter()
                .enumerate()
                .all(|(n, f)| number(f) == n as u64 && f == &frame(n as u64))
        );
        let counters = injector.counters();
        assert_eq!(
            counters,
            FaultCounters {
                admitted: FRAMES,
                ..FaultCounters::default()
            }
        );
    }

    #[test]
    fn loss_drops_about_p_and_keeps_order() {
        let mut injector = injector(FaultSpec {
            loss: 0.1,
            ..FaultSpec::default()
        });
        let out = run(&mut injector);
        let dropped = injector.counters().dropped;
        assert!(near(dropped, 0.1, FRAMES), "dropped {dropped}");
        assert_eq!(out.len() as u64, FRAMES - dropped);
        assert!(
            out.windows(2)
                .all(|pair| number(&pair[0]) < number(&pair[1]))
        );
    }

    #[test]
    fn duplicates_follow_their_original() {
        let mut injector = injector(FaultSpec {
            duplicate: 0.05,
            ..FaultSpec::default()
        });
        let out = run(&mut injector);
        let duplicated = injector.counters().duplicated;
        assert!(near(duplicated, 0.05, FRAMES), "duplicated {duplicated}");
        assert_eq!(out.len() as u64, FRAMES + duplicated);
        let repeats = out.windows(2).filter(|pair| pair[0] == pair[1]).count();
        assert_eq!(repeats as u64, duplicated);
    }

    #[test]
    fn reordered_frames_come_after_a_later_one_and_none_is_lost() {
        let mut injector = injector(FaultSpec {
            reorder: 0.1,
            ..FaultSpec::default()
        });
        let out = run(&mut injector);
        let reordered = injector.counters().reordered;
        assert!(near(reordered, 0.1, FRAMES), "reordered {reordered}");
        let mut numbers: Vec<u64> = out.iter().map(|f| number(f)).collect();
        let inversions = numbers.windows(2).filter(|pair| pair[0] > pair[1]).count();
        assert!(inversions > 0 && inversions as u64 <= reordered);
        numbers.sort_unstable();
        assert_eq!(numbers, (0..FRAMES).collect::<Vec<_>>());
    }

    #[test]
    fn corruption_flips_exactly_one_payload_bit() {
        let mut injector = injector(FaultSpec {
            corrupt: 0.01,
            ..FaultSpec::default()
        });
        let out = run(&mut injector);
        let corrupted = injector.counters().corrupted;
        assert!(near(corrupted, 0.01, FRAMES), "corrupted {corrupted}");
        let flipped: Vec<u32> = out
            .iter()
            .enumerate()
            .map(|(n, f)| {
                f.iter()
                    .zip(frame(n as u64))
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum()
            })
            .collect();
        assert!(flipped.iter().all(|&bits| bits <= 1));
        assert_eq!(
            flipped.iter().filter(|&&bits| bits == 1).count() as u64,
            corrupted
        );
        assert!(
            out.iter()
                .enumerate()
                .all(|(n, f)| f[..14] == frame(n as u64)[..14])
        );
    }

    #[test]
    fn a_held_frame_is_released_by_time_alone() {
        let mut injector = injector(FaultSpec {
            reorder: 1.0,
            ..FaultSpec::default()
        });
        let mut ready = VecDeque::new();
        injector.admit(frame(1), &mut ready);
        assert!(ready.is_empty());
        let deadline = injector.deadline().expect("one frame is held");
        assert!(deadline <= Instant::now() + HOLD_LIMIT);
        assert!(!injector.release_expired(deadline - HOLD_LIMIT / 2, &mut ready));
        assert!(injector.release_expired(deadline, &mut ready));
        assert_eq!(ready, [frame(1)]);
        assert_eq!(injector.deadline(), None);
    }

    #[test]
    fn a_header_only_frame_is_never_corrupted() {
        let mut injector = injector(FaultSpec {
            corrupt: 1.0,
            ..FaultSpec::default()
        });
        let mut ready = VecDeque::new();
        injector.admit(vec![7u8; 14], &mut ready);
        assert_eq!(ready, [vec![7u8; 14]]);
        assert_eq!(injector.counters().corrupted, 0);
    }

    #[test]
    fn the_same_seed_replays_the_same_faults() {
        let spec = FaultSpec {
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.2,
            corrupt: 0.2,
            seed: None,
        };
        let first = run(&mut FaultInjector::new(spec, 99));
        let second = run(&mut FaultInjector::new(spec, 99));
        let other = run(&mut FaultInjector::new(spec, 100));
        assert_eq!(first, second);
        assert_ne!(first, other);
    }
}
