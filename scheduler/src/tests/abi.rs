//! Tests of what the ABI asks of a switch: registers, float state, stack.
//!
//! Each thread sets state that the System V ABI makes callee-saved (the
//! six general registers, MXCSR, the x87 control word), yields to another
//! thread that sets different values, and checks its own came back. New
//! threads must start with a 16-byte aligned stack and the default float
//! state.

use core::arch::asm;
use std::{boxed::Box, sync::Arc, vec, vec::Vec};

use super::{HostPlatform, Log, Shared, joinable, lock, record, with_scheduler};
use crate::{Scheduler, ThreadId};

/// Yields on the scheduler at `scheduler`: the target of the `call` in
/// [`callee_saved_registers_across_a_yield`].
extern "C" fn yield_for_assembly(scheduler: *const Scheduler<HostPlatform>) {
    // SAFETY: the caller passes a live scheduler whose threads all run on
    // this host thread (see `Shared`).
    unsafe { &*scheduler }.yield_now();
}

/// Loads `seed + 0..=5` into rbx, rbp and r12-r15, yields through a
/// plain `call`, and returns what those registers hold afterwards.
fn callee_saved_registers_across_a_yield(scheduler: Shared, seed: u64) -> [u64; 6] {
    let target: extern "C" fn(*const Scheduler<HostPlatform>) = yield_for_assembly;
    let mut after = [0u64; 6];
    // SAFETY: rbx and rbp are saved on the stack and restored before the
    // block ends; r12-r15 and the caller-saved registers are declared
    // clobbered. The stack is 16-byte aligned at entry to the block (the
    // Rust reference promises it without `nostack`) and two pushes keep it
    // so at the `call`. `target` follows the C ABI and gets a live
    // scheduler in rdi.
    unsafe {
        asm!(
            "push rbx",
            "push rbp",
            "mov rbx, {seed}",
            "lea rbp, [rbx + 1]",
            "lea r12, [rbx + 2]",
            "lea r13, [rbx + 3]",
            "lea r14, [rbx + 4]",
            "lea r15, [rbx + 5]",
            "call {target}",
            "mov rax, rbx",
            "mov rcx, rbp",
            "pop rbp",
            "pop rbx",
            seed = in(reg) seed,
            target = in(reg) target,
            in("rdi") &raw const *scheduler,
            lateout("rax") after[0],
            lateout("rcx") after[1],
            out("r12") after[2],
            out("r13") after[3],
            out("r14") after[4],
            out("r15") after[5],
            clobber_abi("C"),
        );
    }
    after
}

/// What [`callee_saved_registers_across_a_yield`] returns when all survive.
fn seeded(seed: u64) -> [u64; 6] {
    core::array::from_fn(|index| seed + index as u64)
}

#[test]
fn callee_saved_registers_are_kept_per_thread() {
    with_scheduler(|scheduler| {
        let log: Log<(u64, [u64; 6])> = Log::default();
        let threads: Vec<ThreadId> = [0x1000_0000_u64, 0x2000_0000, 0x3000_0000]
            .into_iter()
            .map(|seed| {
                let log = Arc::clone(&log);
                let entry = move || {
                    let after = callee_saved_registers_across_a_yield(scheduler, seed);
                    record(&log, (seed, after));
                };
                scheduler
                    .spawn(joinable("registers"), Box::new(entry))
                    .expect("memory for a thread")
            })
            .collect();
        let boot = callee_saved_registers_across_a_yield(scheduler, 0x4000_0000);
        threads.into_iter().for_each(|thread| {
            scheduler.join(thread).expect("joinable");
        });
        assert_eq!(boot, seeded(0x4000_0000), "boot thread");
        for (seed, after) in lock(&log).iter() {
            assert_eq!(*after, seeded(*seed), "thread seeded {seed:#x}");
        }
        assert_eq!(lock(&log).len(), 3);
    });
}

/// A value the ABI places on a 16-byte boundary: misplaced only if the
/// thread started with a misaligned stack.
#[repr(align(16))]
struct SixteenAligned([u8; 16]);

#[test]
fn threads_start_with_a_sixteen_byte_aligned_stack() {
    with_scheduler(|scheduler| {
        let log: Log<usize> = Log::default();
        let threads: Vec<ThreadId> = (0..4)
            .map(|_| {
                let log = Arc::clone(&log);
                let entry = move || {
                    let probe = SixteenAligned([0; 16]);
                    let address = core::hint::black_box(&probe.0).as_ptr().addr();
                    record(&log, address % 16);
                    scheduler.yield_now();
                };
                scheduler
                    .spawn(joinable("aligned"), Box::new(entry))
                    .expect("memory for a thread")
            })
            .collect();
        threads.into_iter().for_each(|thread| {
            scheduler.join(thread).expect("joinable");
        });
        assert_eq!(*lock(&log), vec![0; 4]);
    });
}

/// MXCSR without its sticky exception flags (bits 0-5).
fn mxcsr() -> u32 {
    let mut value = 0u32;
    // SAFETY: stores the SSE control register into a local u32.
    unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &raw mut value, options(nostack)) };
    value & !0x3f
}

fn set_mxcsr(value: u32) {
    // SAFETY: loads a valid MXCSR value (reserved bits clear) from a local;
    // only rounding and masks change, for the calling thread.
    unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &raw const value, options(nostack)) };
}

fn x87_control() -> u16 {
    let mut value = 0u16;
    // SAFETY: stores the x87 control word into a local u16.
    unsafe { core::arch::asm!("fnstcw [{}]", in(reg) &raw mut value, options(nostack)) };
    value
}

fn set_x87_control(value: u16) {
    // SAFETY: loads a valid x87 control word (all exceptions masked) from a
    // local; only precision and rounding change, for the calling thread.
    unsafe { core::arch::asm!("fldcw [{}]", in(reg) &raw const value, options(nostack)) };
}

const DEFAULT_MXCSR: u32 = 0x1f80;
const DEFAULT_X87: u16 = 0x037f;

/// A thread that logs its float state, sets its own, yields, logs again.
fn float_thread(
    scheduler: Shared,
    log: &Log<(&'static str, u32, u16)>,
    mxcsr: u32,
    x87: u16,
) -> ThreadId {
    let log = Arc::clone(log);
    let entry = move || {
        record(&log, ("start", self::mxcsr(), x87_control()));
        set_mxcsr(mxcsr);
        set_x87_control(x87);
        scheduler.yield_now();
        record(&log, ("after yield", self::mxcsr(), x87_control()));
    };
    scheduler
        .spawn(joinable("float"), Box::new(entry))
        .expect("memory for a thread")
}

#[test]
fn float_control_state_is_kept_per_thread() {
    with_scheduler(|scheduler| {
        let boot_state = (mxcsr(), x87_control());
        let log = Log::default();
        let toward_zero = float_thread(scheduler, &log, 0x7f80, 0x027f);
        let round_down = float_thread(scheduler, &log, 0x3f80, 0x0f7f);
        scheduler.join(toward_zero).expect("joinable");
        scheduler.join(round_down).expect("joinable");
        let expected = vec![
            ("start", DEFAULT_MXCSR, DEFAULT_X87),
            ("start", DEFAULT_MXCSR, DEFAULT_X87),
            ("after yield", 0x7f80, 0x027f),
            ("after yield", 0x3f80, 0x0f7f),
        ];
        assert_eq!(*lock(&log), expected);
        assert_eq!((mxcsr(), x87_control()), boot_state);
    });
}
