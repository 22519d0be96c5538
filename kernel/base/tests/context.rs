//! Entering the kernel: double entry is caught, a blocking host call that
//! unwinds leaves the context usable, and a context smuggled past
//! `block_on_host` cannot touch kernel locks.

mod common;

use std::cell::RefCell;

use base::sync::Mutex;
use base::{Context, Kernel};
use common::boot;
use hypercall::ExitStatus;
use hypercall_posix::KernelExit;

#[test]
fn a_thread_cannot_bind_twice() {
    let kernel = boot("");
    let binding = kernel.kernel.bind_thread().expect("first binding");
    assert_eq!(
        kernel.kernel.bind_thread().err(),
        Some(base::BindError::AlreadyBound)
    );
    let context = binding.enter();
    assert!(context.now_ns() > 0);
}

#[test]
#[should_panic(expected = "kernel entered twice")]
fn entering_twice_is_caught_instead_of_deadlocking() {
    let kernel = boot("");
    let _outer = kernel.kernel.enter().unwrap();
    let _inner = kernel.kernel.enter();
}

#[test]
#[should_panic(expected = "kernel entered twice")]
fn entering_again_by_way_of_another_kernel_is_caught() {
    let first = boot("");
    let second = boot("");
    let _outer = first.kernel.enter().unwrap();
    let _middle = second.kernel.enter().unwrap();
    let _inner = first.kernel.enter();
}

#[test]
#[should_panic(expected = "kernel entered twice")]
fn a_bound_thread_entering_while_inside_is_caught() {
    let kernel = boot("");
    let binding = kernel.kernel.bind_thread().expect("first binding");
    let _implicit = kernel.kernel.enter().unwrap();
    let _bound = binding.enter();
}

#[test]
fn an_exit_unwinding_out_of_a_blocking_call_leaves_the_context_usable() {
    let test = boot("");
    let context = test.kernel.enter().unwrap();
    let host = test.kernel.hypercalls();
    let outcome = KernelExit::catch(|| context.block_on_host(|| host.exit(ExitStatus::Failure(4))));
    assert_eq!(outcome, Err(KernelExit(ExitStatus::Failure(4))));
    let mutex = Mutex::new(1);
    assert_eq!(*mutex.lock(&context), 1, "the CPU was taken back");
    drop(context);
    let other = std::thread::scope(|scope| {
        scope
            .spawn(|| test.kernel.enter().map(|context| context.now_ns() > 0))
            .join()
    });
    assert_eq!(other.expect("no panic"), Ok(true), "and given back at drop");
}

thread_local! {
    static STASHED: RefCell<Option<Context<'static>>> = const { RefCell::new(None) };
}

/// Leaves the kernel by dropping the stashed context (before the kernel's
/// shutdown, which enters it).
struct EmptyStashOnDrop;

impl Drop for EmptyStashOnDrop {
    fn drop(&mut self) {
        STASHED.with(|stash| drop(stash.borrow_mut().take()));
    }
}

#[test]
#[should_panic(expected = "gave up the CPU")]
fn a_context_smuggled_past_block_on_host_cannot_take_a_lock() {
    let test = boot("");
    let kernel: &'static Kernel = Box::leak(Box::new(test.kernel.clone()));
    let mutex: &'static Mutex<u32> = Box::leak(Box::new(Mutex::new(0)));
    STASHED.with(|stash| *stash.borrow_mut() = Some(kernel.enter().unwrap()));
    let _leave = EmptyStashOnDrop;
    let smuggle = || {
        STASHED.with(|stash| {
            let stash = stash.borrow();
            let context = stash.as_ref().expect("stashed above");
            *mutex.lock(context) += 1;
        })
    };
    STASHED.with(|stash| {
        let stash = stash.borrow();
        stash
            .as_ref()
            .expect("stashed above")
            .block_on_host(smuggle);
    });
}
