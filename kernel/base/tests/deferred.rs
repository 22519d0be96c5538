//! Softints run after their scheduler leaves the CPU and coalesce;
//! software interrupts run their handler in an interrupt thread.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base::softint::SoftintLevel;
use base::sync::{Condvar, Mutex};
use common::{boot, wait_for};
use hypercall::InterruptSource;

type Counter = Arc<(Mutex<u32>, Condvar)>;

#[test]
fn softints_run_after_the_scheduling_code_and_coalesce() {
    let test = boot("");
    let kernel = &test.kernel;
    let runs: Counter = Arc::new((Mutex::new(0), Condvar::new()));
    let context = kernel.enter().unwrap();
    let handler_runs = runs.clone();
    let softint = kernel
        .softint_establish(&context, SoftintLevel::Net, move |context| {
            *handler_runs.0.lock(context) += 1;
            handler_runs.1.notify_all(context);
        })
        .unwrap();
    for _ in 0..10 {
        softint.schedule(&context);
    }
    assert_eq!(
        *runs.0.lock(&context),
        0,
        "nothing runs while we hold the CPU"
    );
    wait_for(&context, &runs, |count| *count >= 1);
    assert_eq!(softint.runs(), 1, "ten schedules while pending are one run");
    softint.schedule(&context);
    wait_for(&context, &runs, |count| *count >= 2);
}

#[test]
fn software_interrupts_are_handled_in_a_kernel_thread() {
    let test = boot("");
    let kernel = &test.kernel;
    let handled: Counter = Arc::new((Mutex::new(0), Condvar::new()));
    let handler_lwp = Arc::new(AtomicU64::new(0));
    let (count, seen_lwp) = (handled.clone(), handler_lwp.clone());
    let interrupt = kernel
        .interrupt_establish("test", InterruptSource::Software, move |context| {
            seen_lwp.store(context.lwp_id().0, Ordering::Relaxed);
            *count.0.lock(context) += 1;
            count.1.notify_all(context);
        })
        .unwrap();
    let context = kernel.enter().unwrap();
    interrupt.raise();
    wait_for(&context, &handled, |count| *count >= 1);
    assert_eq!(handler_lwp.load(Ordering::Relaxed), interrupt.thread().0);
    interrupt.raise();
    wait_for(&context, &handled, |count| *count >= 2);
    assert!(interrupt.handled() >= 2);
}
