//! A client's workers: kernel threads that run its blocking calls.
//!
//! A blocking call (accept, recv, poll, …) may wait as long as the
//! network makes it, so the reader does not run it: it queues a [`Job`]
//! and, when no worker is idle, starts one, up to the client's limit of
//! calls in flight. Each worker runs one job at a time, sends its reply
//! and takes the next; idle workers wait for jobs until the client goes.
//! One waiting call of a client therefore holds up neither its other
//! calls nor any other client. A job is charged to the server's account
//! for its bytes from the moment it is queued until its reply is sent; a
//! client over its count or its bytes gets a refusal for the call, and
//! its other calls go on.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use base::Context;
use log::warn;
use sysproxy_proto::{Refusal, frame};

use crate::handler::Caller;
use crate::session::Session;

/// One queued call.
#[derive(Debug)]
pub struct Job {
    /// The request's id.
    pub id: u64,
    /// The call's number.
    pub call: u16,
    /// The whole request body.
    pub body: Vec<u8>,
    /// Where the arguments start in `body`.
    pub offset: usize,
}

/// A client's queue and its counts.
#[derive(Debug, Default)]
pub struct Work {
    /// Calls waiting for a worker.
    pub queue: VecDeque<Job>,
    /// Calls queued or running.
    pub in_flight: usize,
    /// Bytes of those calls' requests.
    pub bytes: usize,
    /// Workers alive.
    pub workers: usize,
    /// Workers waiting for a job.
    pub idle: usize,
    /// The client has gone: workers end once the queue is empty.
    pub closing: bool,
}

/// Queues `job`, starting a worker if none is free.
///
/// # Errors
/// The refusal to send: [`Refusal::TooManyCalls`],
/// [`Refusal::TooManyBytes`] (over the client's limit or the kernel's
/// memory).
pub fn submit(context: &Context<'_>, session: &Arc<Session>, job: Job) -> Result<(), Refusal> {
    let bytes = job.body.len();
    let mut work = session.work.lock(context);
    if work.in_flight >= session.limits.max_in_flight {
        return Err(Refusal::TooManyCalls);
    }
    if work.bytes + bytes > session.limits.max_bytes || session.account.charge(bytes).is_err() {
        return Err(Refusal::TooManyBytes);
    }
    work.in_flight += 1;
    work.bytes += bytes;
    work.queue.push_back(job);
    let start = work.queue.len() > work.idle;
    if start {
        work.workers += 1;
    }
    drop(work);
    session.work_changed.notify_one(context);
    if start {
        start_worker(context, session);
    }
    Ok(())
}

fn start_worker(context: &Context<'_>, session: &Arc<Session>) {
    let worker = session.clone();
    let name = format!("sysproxy{}w", session.number);
    let started = context
        .kernel()
        .arc()
        .spawn_detached(&name, move |context| run(context, &worker));
    if let Err(error) = started {
        warn!("client {}: no worker ({error:?})", session.number);
        let mut work = session.work.lock(context);
        work.workers -= 1;
        if work.workers == 0 {
            // Nobody would ever run them: answer them here.
            let jobs: Vec<Job> = work.queue.drain(..).collect();
            drop(work);
            for job in jobs {
                let reply = frame::refusal(job.id, Refusal::TooManyCalls);
                session.reply(context, &reply);
                done(context, session, job.body.len());
            }
        }
    }
}

/// A worker's life: jobs until the client goes.
fn run(context: &Context<'_>, session: &Session) {
    while let Some(job) = next_job(context, session) {
        let caller = Caller::new(context, session);
        let arguments = &job.body[job.offset..];
        let reply = sysproxy_proto::dispatch(&caller, job.id, job.call, arguments);
        session.reply(context, &reply);
        done(context, session, job.body.len());
    }
    let mut work = session.work.lock(context);
    work.workers -= 1;
    drop(work);
    session.work_changed.notify_all(context);
}

/// The next job, or `None` when the client has gone and none is left.
fn next_job(context: &Context<'_>, session: &Session) -> Option<Job> {
    let mut work = session.work.lock(context);
    loop {
        if let Some(job) = work.queue.pop_front() {
            return Some(job);
        }
        if work.closing {
            return None;
        }
        work.idle += 1;
        work = session.work_changed.wait(work);
        work.idle -= 1;
    }
}

/// A job of `bytes` is answered: its counts and charge go.
fn done(context: &Context<'_>, session: &Session, bytes: usize) {
    let mut work = session.work.lock(context);
    work.in_flight -= 1;
    work.bytes -= bytes;
    drop(work);
    session.account.release(bytes);
}

/// Waits until every worker of the gone client has ended.
pub fn wait_for_all(context: &Context<'_>, session: &Session) {
    let work = session.work.lock(context);
    let work = session
        .work_changed
        .wait_while(work, |work| work.workers > 0);
    debug_assert!(work.queue.is_empty() && work.in_flight == 0);
}
