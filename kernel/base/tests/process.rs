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
fn reopened_numbers_come_back_lowest_first_whatever_the_closing_order() {
    let kernel = boot("");
    let process = kernel.kernel.new_process();
    let open = || process.open_descriptor(Arc::new(Other)).unwrap();
    let fds: Vec<Fd> = (0..64).map(|_| open()).collect();
    assert_eq!(fds.last(), Some(&Fd(63)));
    for number in [40, 7, 63, 12, 0, 41] {
        process.close_descriptor(Fd(number)).unwrap();
    }
    let reopened: Vec<Fd> = (0..7).map(|_| open()).collect();
    let expected = [0, 7, 12, 40, 41, 63, 64].map(Fd);
    assert_eq!(reopened, expected, "the holes, in order, then a new number");
    assert_eq!(process.open_descriptors(), 65);
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

#[test]
fn a_forked_table_shares_the_objects_at_their_numbers_until_both_close() {
    let kernel = boot("");
    let closed = Arc::new(AtomicUsize::new(0));
    let parent = kernel.kernel.new_process();
    let first = parent.open_descriptor(Arc::new(Counted(closed.clone())));
    let second = parent.open_descriptor(Arc::new(Counted(closed.clone())));
    let (first, second) = (first.expect("fd"), second.expect("fd"));
    parent.close_descriptor(first).expect("closed");
    let before = descriptors_bytes(&kernel.kernel);
    let table = parent.fork_descriptors().expect("a copy");
    assert!(
        descriptors_bytes(&kernel.kernel) > before,
        "the copy is charged"
    );
    let child = kernel.kernel.new_process();
    child.inherit_descriptors(&table).expect("inherited");
    drop(table);
    assert_eq!(child.open_numbers(), vec![second]);
    assert!(child.descriptor::<Counted>(second).is_ok());
    assert_eq!(
        child.inherit_descriptors(&parent.fork_descriptors().unwrap()),
        Err(DescriptorError::TooMany)
    );
    // The child's lowest free number is the parent's: the closed one.
    assert_eq!(child.open_descriptor(Arc::new(Other)), Ok(first));
    assert_eq!(closed.load(Relaxed), 1, "the one closed before the fork");
    parent.close_all();
    assert_eq!(closed.load(Relaxed), 1, "the child still holds the other");
    child.close_all();
    assert_eq!(closed.load(Relaxed), 2);
}
