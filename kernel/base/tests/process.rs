//! Process contexts: one descriptor table per thread group, shared by its
//! threads, numbered lowest-first, closed whole when the process ends.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use base::descriptor::{Descriptor, DescriptorError, Fd, MAX_DESCRIPTORS};
use common::boot;

/// An open object that counts its last close.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Descriptor for Counted {
    fn kind(&self) -> &'static str {
        "counted"
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

#[derive(Debug)]
struct Other;

impl Descriptor for Other {
    fn kind(&self) -> &'static str {
        "other"
    }
}

fn descriptors_bytes(kernel: &base::Kernel) -> usize {
    let accounts = kernel.memory().accounts();
    let account = accounts.iter().find(|a| a.name == "descriptors");
    account.map_or(0, |account| account.bytes)
}

#[test]
fn the_threads_of_a_process_share_its_table_and_dropping_it_closes_all() {
    let kernel = boot("");
    let closed = Arc::new(AtomicUsize::new(0));
    let process = kernel.kernel.new_process();
    let fd = {
        let binding = kernel.kernel.bind_thread_in(&process).expect("binding");
        let context = binding.enter();
        assert_eq!(context.process().id(), process.id());
        let object = Arc::new(Counted(closed.clone()));
        context.process().open_descriptor(object).expect("fd")
    };
    let (process_again, seen) = (process.clone(), closed.clone());
    let other_thread = {
        let kernel = kernel.kernel.clone();
        std::thread::spawn(move || {
            let binding = kernel.bind_thread_in(&process_again).expect("binding");
            let context = binding.enter();
            let object = context.process().descriptor::<Counted>(fd);
            assert!(Arc::ptr_eq(&object.expect("shared").0, &seen));
            assert_eq!(
                kernel.kernel_process().descriptor::<Counted>(fd).err(),
                Some(DescriptorError::BadDescriptor),
                "proc0 has a table of its own"
            );
        })
    };
    other_thread.join().expect("the other thread");
    process
        .open_descriptor(Arc::new(Counted(closed.clone())))
        .expect("fd");
    assert!(descriptors_bytes(&kernel.kernel) > 0);
    drop(process);
    assert_eq!(closed.load(Relaxed), 2, "both objects closed");
    assert_eq!(descriptors_bytes(&kernel.kernel), 0);
}

#[test]
fn numbers_are_lowest_first_and_a_duplicate_keeps_the_object_open() {
    let kernel = boot("");
    let process = kernel.kernel.new_process();
    let closed = Arc::new(AtomicUsize::new(0));
    let open = || process.open_descriptor(Arc::new(Counted(closed.clone())));
    let (a, b, c) = (open().unwrap(), open().unwrap(), open().unwrap());
    assert_eq!((a, b, c), (Fd(0), Fd(1), Fd(2)));
    process.close_descriptor(b).unwrap();
    assert_eq!(closed.load(Relaxed), 1);
    assert_eq!(open().unwrap(), Fd(1));
    let copy = process.duplicate_descriptor(c).unwrap();
    assert_eq!(copy, Fd(3));
    process.close_descriptor(c).unwrap();
    assert_eq!(closed.load(Relaxed), 1, "the duplicate holds it");
    assert_eq!(
        process.close_descriptor(c),
        Err(DescriptorError::BadDescriptor)
    );
    process.close_all();
    assert_eq!(closed.load(Relaxed), 4);
    assert_eq!(process.open_descriptors(), 0);
}

#[test]
fn a_table_refuses_past_its_limit_and_objects_of_another_kind() {
    let kernel = boot("");
    let process = kernel.kernel.new_process();
    for _ in 0..MAX_DESCRIPTORS {
        process
            .open_descriptor(Arc::new(Other))
            .expect("below the limit");
    }
    assert_eq!(
        process.open_descriptor(Arc::new(Other)),
        Err(DescriptorError::TooMany)
    );
    assert_eq!(
        process.descriptor::<Counted>(Fd(0)).err(),
        Some(DescriptorError::WrongKind)
    );
    assert_eq!(
        process.take_descriptor::<Counted>(Fd(0)).err(),
        Some(DescriptorError::WrongKind)
    );
    assert!(process.descriptor::<Other>(Fd(0)).is_ok(), "still open");
}

#[test]
fn a_process_of_another_kernel_cannot_be_joined() {
    let first = boot("");
    let second = boot("");
    let process = second.kernel.new_process();
    assert_eq!(
        first.kernel.bind_thread_in(&process).err(),
        Some(base::BindError::ForeignProcess)
    );
}
