//! Thread hypercalls on the cooperative scheduler.

use hypercall::{ThreadEntry, ThreadError, ThreadId, ThreadSpec};
use scheduler::{JoinError, SpawnError, SpawnSpec};

use crate::global::scheduler;

pub(crate) fn create(spec: ThreadSpec<'_>, entry: ThreadEntry) -> Result<ThreadId, ThreadError> {
    let spec = SpawnSpec {
        name: spec.name,
        stack_size: spec.stack_size,
        joinable: spec.joinable,
    };
    match scheduler().spawn(spec, entry) {
        Ok(thread) => Ok(ThreadId(thread.0)),
        Err(SpawnError::OutOfMemory) => Err(ThreadError::OutOfMemory),
        Err(SpawnError::TooManyThreads) => Err(ThreadError::TooManyThreads),
    }
}

pub(crate) fn join(thread: ThreadId) -> Result<(), ThreadError> {
    scheduler()
        .join(scheduler::ThreadId(thread.0))
        .map_err(|error| match error {
            JoinError::JoinSelf => ThreadError::JoinSelf,
            JoinError::NotJoinable => ThreadError::NotJoinable,
        })
}

pub(crate) fn current() -> ThreadId {
    ThreadId(scheduler().current().0)
}
