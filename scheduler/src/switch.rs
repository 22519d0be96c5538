//! The context switch in assembly, and the first frame of a new thread.
//!
//! `scheduler_context_switch(save, load)` pushes the callee-saved registers
//! of the System V ABI (rbp, rbx, r12-r15), stores rsp through `save`, loads
//! rsp from `load`, pops the same registers from the new stack and returns
//! into the other context. The compiler sees an ordinary `extern "C"` call,
//! so every caller-saved register is already spilled.
//!
//! On the host (any `target_os` but `none`) the switch also saves MXCSR and
//! the x87 control word, which the ABI makes callee-saved: each thread keeps
//! its own rounding mode and exception masks. The kernel target has no SSE
//! (soft-float), and `stmxcsr` could fault there, so it is left out.
//!
//! A new thread's stack is prepared to look like one switched away from:
//! the "return address" is `scheduler_thread_trampoline`, which calls the
//! start function held in r12 with the argument held in r13, with rsp
//! 16-byte aligned at that `call` as the ABI requires. A resumed context
//! gets back exactly the rsp it saved, so its alignment is its own. The
//! host's red zone needs nothing: the switch is a real call, and no
//! function keeps data below its rsp across a call. The direction flag is
//! clear at every call by the ABI, so it needs no saving either.
//! `tests/abi.rs` checks registers, float state and alignment.

use core::arch::global_asm;

/// Emits the switch and the trampoline, with the float-state instructions
/// given for the target (none on bare metal).
macro_rules! context_switch_assembly {
    (save_float: [$($save:literal),*], restore_float: [$($restore:literal),*]) => {
        global_asm!(
            ".pushsection .text.scheduler_context_switch,\"ax\",@progbits",
            ".globl scheduler_context_switch",
            ".type scheduler_context_switch,@function",
            ".p2align 4",
            "scheduler_context_switch:",
            "push rbp",
            "push rbx",
            "push r12",
            "push r13",
            "push r14",
            "push r15",
            $($save,)*
            "mov qword ptr [rdi], rsp",
            "mov rsp, rsi",
            $($restore,)*
            "pop r15",
            "pop r14",
            "pop r13",
            "pop r12",
            "pop rbx",
            "pop rbp",
            "ret",
            ".size scheduler_context_switch, . - scheduler_context_switch",
            "",
            ".globl scheduler_thread_trampoline",
            ".type scheduler_thread_trampoline,@function",
            ".p2align 4",
            "scheduler_thread_trampoline:",
            "mov rdi, r13",
            "call r12",
            "ud2",
            ".size scheduler_thread_trampoline, . - scheduler_thread_trampoline",
            ".popsection",
        );
    };
}

#[cfg(not(target_os = "none"))]
context_switch_assembly!(
    save_float: ["sub rsp, 8", "stmxcsr dword ptr [rsp]", "fnstcw word ptr [rsp + 4]"],
    restore_float: ["ldmxcsr dword ptr [rsp]", "fldcw word ptr [rsp + 4]", "add rsp, 8"]
);

#[cfg(target_os = "none")]
context_switch_assembly!(save_float: [], restore_float: []);

/// Words of float state on the switch frame: MXCSR in the low half, the
/// x87 control word above it (host only).
const FLOAT_WORDS: usize = if cfg!(target_os = "none") { 0 } else { 1 };
/// The float state a new host thread starts with: Linux's defaults (all
/// exceptions masked, round to nearest, 64-bit x87 precision).
const INITIAL_FLOAT_STATE: usize = (0x037f << 32) | 0x1f80;
/// Words the switch pops: float state, r15, r14, r13, r12, rbx, rbp, and
/// the return address.
const FRAME_WORDS: usize = FLOAT_WORDS + 7;
/// Bytes left free above the frame: a zero "return address" that ends
/// backtraces, and padding that keeps rsp 16-byte aligned at the
/// trampoline's `call` as the ABI requires.
const TOP_RESERVE: usize = 16;

unsafe extern "C" {
    fn scheduler_context_switch(save_stack_pointer: *mut usize, load_stack_pointer: usize);
    fn scheduler_thread_trampoline();
}

/// Saves the running context, storing its stack pointer at `save`, and
/// resumes the context whose stack pointer is `load`. Returns when some
/// later switch loads the pointer stored at `save`.
///
/// # Safety
///
/// `save` is valid for one write of a usize. `load` is a stack pointer that
/// this function stored earlier, or that [`initial_frame`] returned, for a
/// stack that is still allocated and on which no context is running; no
/// other switch will load it before this context has been saved again.
pub(crate) unsafe fn switch(save: *mut usize, load: usize) {
    // SAFETY: forwarded from this function's contract; the assembly follows
    // the System V ABI for the registers it does not save.
    unsafe { scheduler_context_switch(save, load) }
}

/// Builds the first switch frame of a thread on the empty stack ending at
/// `top` and returns the stack pointer to give [`switch`]. The thread will
/// start by calling `start(argument)` (an `extern "C" fn(usize) -> !`).
///
/// # Safety
///
/// `top` is the 16-byte aligned end of an allocated stack of at least
/// [`crate::MINIMUM_STACK_SIZE`] bytes that nothing else uses; `start` is
/// the address of an `extern "C"` function taking one pointer-sized
/// argument that never returns.
pub(crate) unsafe fn initial_frame(top: *mut u8, start: usize, argument: usize) -> usize {
    // SAFETY: the frame and the reserve (FRAME_WORDS * 8 + 16 bytes, far
    // below the minimum stack size) lie inside the stack (caller's contract).
    let frame = unsafe { top.sub(TOP_RESERVE + FRAME_WORDS * 8) }.cast::<usize>();
    let registers = [0, 0, argument, start, 0, 0]; // r15 r14 r13 r12 rbx rbp
    let float = [INITIAL_FLOAT_STATE; FLOAT_WORDS];
    let above = [scheduler_thread_trampoline as *const () as usize, 0, 0]; // + reserve
    let words = float.iter().chain(&registers).chain(&above);
    for (index, word) in words.enumerate() {
        // SAFETY: `index` stays below FRAME_WORDS + 2, so the word lies in
        // the frame computed above, inside a stack nothing else uses; the
        // address is 8-aligned because `top` is 16-aligned.
        unsafe { frame.add(index).write(*word) };
    }
    frame.addr()
}
