//! Tests of the whole random source over fake and real hardware.
//!
//! The fake's RDSEED, RDRAND and clock noise come from one seeded
//! generator: deterministic, so two fakes in the same state produce the
//! same bytes, which is how the tests prove that a buffer was filled
//! completely, and how fixed vectors pin the whole composition down.

use std::vec;

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

use super::*;

/// How a fake instruction behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Works,
    Fails,
    Stuck,
    AllOnes,
}

/// Hardware with scripted instructions and a noisy or stopped clock.
#[derive(Debug, Clone)]
struct FakeHardware {
    entropy: CpuEntropy,
    rdseed: Behaviour,
    rdrand: Behaviour,
    clock_runs: bool,
    noise: Xoshiro256PlusPlus,
    rdseed_reads: u64,
    rdrand_reads: u64,
    clock_reads: u64,
}

impl FakeHardware {
    fn new(rdseed: Behaviour, rdrand: Behaviour, clock_runs: bool) -> Self {
        let entropy = CpuEntropy {
            rdseed: true,
            rdrand: true,
        };
        Self {
            entropy,
            rdseed,
            rdrand,
            clock_runs,
            noise: Xoshiro256PlusPlus::seed_from_u64(0x5eed),
            rdseed_reads: 0,
            rdrand_reads: 0,
            clock_reads: 0,
        }
    }
}

fn read(behaviour: Behaviour, reads: &mut u64, noise: &mut Xoshiro256PlusPlus) -> Option<u64> {
    *reads += 1;
    match behaviour {
        Behaviour::Works => Some(noise.next_u64()),
        Behaviour::Fails => None,
        Behaviour::Stuck => Some(0x1234_5678),
        Behaviour::AllOnes => Some(u64::MAX),
    }
}

impl Hardware for FakeHardware {
    fn entropy(&self) -> CpuEntropy {
        self.entropy
    }

    fn rdseed(&mut self) -> Option<u64> {
        assert!(self.entropy.rdseed, "RDSEED used on a CPU without it");
        read(self.rdseed, &mut self.rdseed_reads, &mut self.noise)
    }

    fn rdrand(&mut self) -> Option<u64> {
        assert!(self.entropy.rdrand, "RDRAND used on a CPU without it");
        read(self.rdrand, &mut self.rdrand_reads, &mut self.noise)
    }

    fn timestamp(&mut self) -> u64 {
        self.clock_reads += 1;
        if self.clock_runs {
            self.clock_reads * 100 + self.noise.next_u64() % 64
        } else {
            5
        }
    }
}

fn working() -> FakeHardware {
    FakeHardware::new(Behaviour::Works, Behaviour::Works, true)
}

fn broken() -> FakeHardware {
    FakeHardware::new(Behaviour::Fails, Behaviour::Fails, false)
}

fn source(hardware: FakeHardware) -> RandomSource<FakeHardware> {
    RandomSource::with_hardware(hardware, RESEED_POLICY)
}

#[test]
fn rdseed_is_preferred_and_read_eight_times() {
    let mut random = source(working());
    random.fill(&mut [0; 16]).unwrap();
    let hardware = random.seeder.hardware();
    assert_eq!(
        (
            hardware.rdseed_reads,
            hardware.rdrand_reads,
            hardware.clock_reads
        ),
        (8, 0, 0)
    );
    assert_eq!(random.description(), "RDSEED");
}

#[test]
fn a_failing_rdseed_falls_back_to_2048_rdrand_values() {
    for broken in [Behaviour::Fails, Behaviour::Stuck, Behaviour::AllOnes] {
        let mut random = source(FakeHardware::new(broken, Behaviour::Works, true));
        random.fill(&mut [0; 16]).unwrap();
        assert_eq!(random.seeder.hardware().rdrand_reads, 2048, "{broken:?}");
        assert_eq!(random.description(), "RDRAND (RDSEED failed)");
    }
}

#[test]
fn failing_instructions_fall_back_to_jitter() {
    let mut random = source(FakeHardware::new(Behaviour::Stuck, Behaviour::Fails, true));
    random.fill(&mut [0; 16]).unwrap();
    assert!(random.seeder.hardware().clock_reads > 2 * 1280);
    assert_eq!(
        random.description(),
        "CPU jitter (RDSEED and RDRAND failed)"
    );
}

#[test]
fn missing_instructions_are_never_executed() {
    let mut hardware = working();
    hardware.entropy = CpuEntropy {
        rdseed: false,
        rdrand: false,
    };
    let mut random = source(hardware);
    assert_eq!(
        random.description(),
        "CPU jitter (no RDRAND/RDSEED on this CPU)"
    );
    random.fill(&mut [0; 16]).unwrap();
    assert_eq!(
        random.description(),
        "CPU jitter (no RDRAND/RDSEED on this CPU)"
    );
}

/// With every source dead: an error, not a byte written, a bounded number
/// of reads, and the same answer on the next call.
#[test]
fn dead_sources_give_an_error_and_no_output() {
    let mut random = source(broken());
    for _ in 0..2 {
        let mut buffer = [0xaa; 64];
        assert_eq!(random.fill(&mut buffer), Err(RandomError::SourceFailed));
        assert_eq!(buffer, [0xaa; 64]);
        assert_eq!(random.fill(&mut []), Err(RandomError::SourceFailed));
    }
    let hardware = random.seeder.hardware();
    assert!(hardware.rdseed_reads <= 4 * 4 && hardware.rdrand_reads <= 4 * 4);
    assert!(hardware.clock_reads < 4 * 3 * 2 * (1024 + 5120));
}

#[test]
fn a_source_that_recovers_is_used_again() {
    let mut random = source(broken());
    assert_eq!(random.fill(&mut [0; 8]), Err(RandomError::SourceFailed));
    random.seeder.hardware().rdrand = Behaviour::Works;
    assert_eq!(random.fill(&mut [0; 8]), Ok(()));
    assert_eq!(random.description(), "RDRAND (RDSEED failed)");
}

/// Once the reseed is due and every source is dead, output stops even
/// though the old key could still produce bytes (see the module docs).
#[test]
fn a_failed_reseed_refuses_output() {
    let mut random = RandomSource::with_hardware(
        working(),
        ReseedPolicy {
            bytes: 100,
            requests: u64::MAX,
        },
    );
    random.fill(&mut [0; 100]).unwrap();
    *random.seeder.hardware() = broken();
    assert_eq!(random.fill(&mut [0; 1]), Err(RandomError::SourceFailed));
}

#[test]
fn reseeds_happen_after_the_threshold() {
    let mut random = RandomSource::with_hardware(
        working(),
        ReseedPolicy {
            bytes: 1000,
            requests: u64::MAX,
        },
    );
    random.fill(&mut [0; 1000]).unwrap();
    assert_eq!(random.seeder.hardware().rdseed_reads, 8);
    random.fill(&mut [0; 1]).unwrap();
    assert_eq!(random.seeder.hardware().rdseed_reads, 16);
    // The threshold is checked before each request of at most 64 KiB: of
    // three requests, the first still runs on the seed with 1 byte out.
    random.fill(&mut vec![0; 3 * MAX_REQUEST]).unwrap();
    assert_eq!(random.seeder.hardware().rdseed_reads, 32);
}

/// Two sources in the same state fill a buffer of 0xaa and one of 0x55:
/// equal results prove that every byte was written.
#[test]
fn buffers_of_any_size_are_filled_completely() {
    for length in [0, 1, 63, 64, 65, 1000, MAX_REQUEST + 1, 3 * MAX_REQUEST] {
        let (mut first, mut second) = (source(working()), source(working()));
        let mut high = vec![0xaa; length];
        let mut low = vec![0x55; length];
        first.fill(&mut high).unwrap();
        second.fill(&mut low).unwrap();
        assert_eq!(high, low, "length {length}");
    }
}

#[test]
fn consecutive_outputs_differ() {
    let mut random = source(working());
    let (mut first, mut second) = ([0u8; 64], [0u8; 64]);
    random.fill(&mut first).unwrap();
    random.fill(&mut second).unwrap();
    assert_ne!(first, second);
}

/// On the test host's own CPU: the source named is the one the CPU has,
/// and filling works through it.
#[test]
fn the_real_cpu_seeds_from_its_best_instruction() {
    let entropy = CpuEntropy::from(platform::cpu::features());
    let mut random = RandomSource::new(entropy);
    let mut buffer = [0u8; 64];
    random.fill(&mut buffer).unwrap();
    let expected = match (entropy.rdseed, entropy.rdrand) {
        (true, _) => "RDSEED",
        (false, true) => "RDRAND",
        (false, false) => "CPU jitter (no RDRAND/RDSEED on this CPU)",
    };
    assert_eq!(random.description(), expected);
    assert_ne!(buffer, [0u8; 64]);
}

/// The path of QEMU's default `-cpu qemu64`: real TSC jitter only.
#[test]
fn the_real_time_stamp_counter_alone_suffices() {
    let mut random = RandomSource::new(CpuEntropy {
        rdseed: false,
        rdrand: false,
    });
    let (mut first, mut second) = ([0u8; 64], [0u8; 64]);
    random.fill(&mut first).unwrap();
    random.fill(&mut second).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        random.description(),
        "CPU jitter (no RDRAND/RDSEED on this CPU)"
    );
}

fn hex(text: &str) -> std::vec::Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
        .collect()
}

/// Each source's recipe (label, count of values, conditioning, first
/// reseed, first request) pinned down for fixed raw input: the vectors are
/// the output of the hand-written BLAKE2s and ChaCha20 this code replaced.
#[test]
fn fixed_raw_input_gives_fixed_output_on_every_path() {
    let cases = [
        (
            working(),
            "RDSEED",
            "724e071b3128fbec4d5f76a0d444050cb2b1c59e43706aa7d0fae6a1045b9f40",
        ),
        (
            FakeHardware::new(Behaviour::Fails, Behaviour::Works, true),
            "RDRAND (RDSEED failed)",
            "e02a109d9a481aa4170d7d07f78e42063549fcf9a5f8c6246c764b9acec21923",
        ),
        (
            FakeHardware::new(Behaviour::Fails, Behaviour::Fails, true),
            "CPU jitter (RDSEED and RDRAND failed)",
            "0456f16474c11db3e021681a15d34e78f4453059b879b66c69969883d86e9179",
        ),
    ];
    for (hardware, description, expected) in cases {
        let mut random = source(hardware);
        let mut output = [0u8; 32];
        random.fill(&mut output).unwrap();
        assert_eq!(random.description(), description);
        assert_eq!(output.to_vec(), hex(expected), "{description}");
    }
}
