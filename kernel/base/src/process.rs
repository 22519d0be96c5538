//! Process contexts (the rump papers' lwproc): an identity and one
//! descriptor table shared by a thread group.
//!
//! Every lwp belongs to one [`Process`]. Kernel threads and implicit
//! entries ([`crate::Kernel::enter`]) belong to the kernel's own, `proc0`
//! ([`crate::Kernel::kernel_process`]); an application makes its own with
//! [`crate::Kernel::new_process`] and binds its threads into it
//! ([`crate::Kernel::bind_thread_in`]), so they share its descriptors. A
//! process ends when the last of its threads and handles lets go of it:
//! its table closes every descriptor then (each object's `Drop`).
//!
//! The table sits behind a spin lock held only for a table operation,
//! never across a call into a faction: objects are cloned out, and the
//! ones removed are dropped after the lock is released.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::descriptor::{Descriptor, DescriptorError, DescriptorTable, Fd};
use crate::kernel::KernelId;
use crate::memory::Account;

/// A process's identity, unique in the host process; `proc0` is the first
/// of its kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessId(pub u32);

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proc{}", self.0)
    }
}

static NEXT_PROCESS_ID: AtomicU32 = AtomicU32::new(1);

/// A process context.
pub struct Process {
    id: ProcessId,
    kernel: KernelId,
    descriptors: spin::Mutex<DescriptorTable>,
}

impl Process {
    /// A process of kernel `kernel` charging its descriptors to `account`.
    pub(crate) fn new(kernel: KernelId, account: Account) -> Self {
        Self {
            id: ProcessId(NEXT_PROCESS_ID.fetch_add(1, Relaxed)),
            kernel,
            descriptors: spin::Mutex::new(DescriptorTable::new(account)),
        }
    }

    /// Its identity.
    pub fn id(&self) -> ProcessId {
        self.id
    }

    /// The kernel it belongs to.
    pub fn kernel_id(&self) -> KernelId {
        self.kernel
    }

    /// Opens the lowest free descriptor for `object`.
    ///
    /// # Errors
    /// [`DescriptorError::TooMany`], [`DescriptorError::OutOfMemory`].
    pub fn open_descriptor(&self, object: Arc<dyn Descriptor>) -> Result<Fd, DescriptorError> {
        self.descriptors.lock().insert(object)
    }

    /// The object behind `fd` as its own type.
    ///
    /// # Errors
    /// [`DescriptorError::BadDescriptor`], [`DescriptorError::WrongKind`].
    pub fn descriptor<T: Descriptor>(&self, fd: Fd) -> Result<Arc<T>, DescriptorError> {
        self.descriptors.lock().get_as(fd)
    }

    /// The object behind `fd`, whatever it is.
    ///
    /// # Errors
    /// [`DescriptorError::BadDescriptor`].
    pub fn any_descriptor(&self, fd: Fd) -> Result<Arc<dyn Descriptor>, DescriptorError> {
        self.descriptors.lock().get(fd)
    }

    /// Closes `fd`. The object goes when its last holder lets go.
    ///
    /// # Errors
    /// [`DescriptorError::BadDescriptor`].
    pub fn close_descriptor(&self, fd: Fd) -> Result<(), DescriptorError> {
        let object = self.descriptors.lock().remove(fd)?;
        drop(object);
        Ok(())
    }

    /// Closes `fd` if it stands for a `T`; returns the object.
    ///
    /// # Errors
    /// [`DescriptorError::BadDescriptor`], [`DescriptorError::WrongKind`]
    /// (and `fd` stays open).
    pub fn take_descriptor<T: Descriptor>(&self, fd: Fd) -> Result<Arc<T>, DescriptorError> {
        let mut table = self.descriptors.lock();
        let object = table.get_as::<T>(fd)?;
        drop(table.remove(fd)?);
        Ok(object)
    }

    /// A second descriptor for `fd`'s object (dup).
    ///
    /// # Errors
    /// As [`Process::descriptor`] and [`Process::open_descriptor`].
    pub fn duplicate_descriptor(&self, fd: Fd) -> Result<Fd, DescriptorError> {
        self.descriptors.lock().duplicate(fd)
    }

    /// A copy of its descriptor table, as a fork's child gets it: the
    /// same objects at the same numbers, charged to this process's
    /// account until dropped or inherited.
    ///
    /// # Errors
    /// [`DescriptorError::OutOfMemory`].
    pub fn fork_descriptors(&self) -> Result<DescriptorTable, DescriptorError> {
        self.descriptors.lock().copy()
    }

    /// Takes the descriptors of `table` (from [`Process::fork_descriptors`])
    /// into this process, which has none yet.
    ///
    /// # Errors
    /// [`DescriptorError::TooMany`] when this process has descriptors or
    /// a lower limit, [`DescriptorError::OutOfMemory`].
    pub fn inherit_descriptors(&self, table: &DescriptorTable) -> Result<(), DescriptorError> {
        self.descriptors.lock().inherit(table)
    }

    /// Closes every descriptor (what a process's end does).
    pub fn close_all(&self) {
        let objects = self.descriptors.lock().take_all();
        drop(objects);
    }

    /// Bounds the process to `limit` open descriptors (RLIMIT_NOFILE, at
    /// most [`crate::descriptor::MAX_DESCRIPTORS`]).
    pub fn limit_descriptors(&self, limit: usize) {
        self.descriptors.lock().set_limit(limit);
    }

    /// The numbers open now, lowest first.
    pub fn open_numbers(&self) -> Vec<Fd> {
        self.descriptors.lock().numbers()
    }

    /// Open descriptors.
    pub fn open_descriptors(&self) -> usize {
        self.descriptors.lock().len()
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("id", &self.id)
            .field("kernel", &self.kernel)
            .field("descriptors", &self.open_descriptors())
            .finish()
    }
}
