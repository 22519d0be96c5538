//! One lookup: a name's A and AAAA questions, asked of a list of servers.
//!
//! Each question walks the same schedule on its own: in round 0 it asks
//! each server in turn over UDP and waits [`LookupConfig::timeout_ns`] for
//! each; every further round doubles the wait (RFC 1035 §4.2.1 and §7.2:
//! "try the servers in turn, then again with a longer timeout"). A step
//! ends early when the server answers with a failure (SERVFAIL, REFUSED,
//! …) or its transport fails (the glue reports an ICMP refusal or a TCP
//! reset): the question moves to the next step at once. An answer with
//! TC set sends the question to the same server over TCP (RFC 7766), with
//! [`LookupConfig::tcp_timeout_ns`] for the whole exchange. Every step
//! draws a fresh id, and the glue sends each step from a fresh UDP socket.
//!
//! A message is taken only from the server and transport of the current
//! step and only if [`parse_response`] accepts it for the current id and
//! question; anything else is counted and ignored, and the question keeps
//! waiting (a spoofed answer costs the attacker a guess, not us a step).

use core::net::IpAddr;

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

mod types;

pub use types::{
    LookupConfig, LookupError, LookupStats, Outcome, QuestionIndex, Transmit, Transport,
};

use crate::message::write_query;
use crate::response::{Response, parse_response};
use crate::{Family, Name};

/// Servers one lookup asks at most (the first ones of the list).
pub const MAX_LOOKUP_SERVERS: usize = 4;
/// The smallest buffer [`Lookup::poll_transmit`] accepts: any query fits.
pub const MINIMUM_BUFFER: usize = 512;

/// One question's progress.
#[derive(Clone, Copy, Debug)]
struct Question {
    family: Family,
    /// Steps taken: the server is `step % servers`, the round `step / servers`.
    step: usize,
    id: u16,
    transport: Transport,
    /// A query is to be sent (then `deadline` is `None`).
    due: bool,
    deadline: Option<u64>,
    outcome: Option<Outcome>,
}

/// A lookup in progress.
#[derive(Clone, Debug)]
pub struct Lookup {
    name: Name,
    servers: [Option<IpAddr>; MAX_LOOKUP_SERVERS],
    server_count: usize,
    questions: [Option<Question>; 2],
    config: LookupConfig,
    random: Xoshiro256PlusPlus,
    stats: LookupStats,
}

impl Lookup {
    /// A lookup of `name` in each of `families` (at most two, each once)
    /// from the first [`MAX_LOOKUP_SERVERS`] of `servers`; ids come from a
    /// generator seeded with `seed` (take it from the random hypercall).
    /// With no server, every question has failed already.
    pub fn new(
        name: Name,
        families: &[Family],
        servers: impl IntoIterator<Item = IpAddr>,
        config: LookupConfig,
        seed: u64,
    ) -> Self {
        let mut list = [None; MAX_LOOKUP_SERVERS];
        let mut server_count = 0;
        for (slot, server) in list.iter_mut().zip(servers) {
            *slot = Some(server);
            server_count += 1;
        }
        let mut lookup = Self {
            name,
            servers: list,
            server_count,
            questions: [None; 2],
            config,
            random: Xoshiro256PlusPlus::seed_from_u64(seed),
            stats: LookupStats::default(),
        };
        lookup.add_questions(families);
        lookup
    }

    fn add_questions(&mut self, families: &[Family]) {
        let mut count = 0;
        for &family in families {
            let asked = self.questions.iter().flatten().any(|q| q.family == family);
            if asked || count == self.questions.len() {
                continue;
            }
            let id = self.next_id();
            let failed =
                (self.server_count == 0).then_some(Outcome::Failed(LookupError::NoServers));
            self.questions[count] = Some(Question {
                family,
                step: 0,
                id,
                transport: Transport::Udp,
                due: failed.is_none(),
                deadline: None,
                outcome: failed,
            });
            count += 1;
        }
    }

    /// Writes the next query that is due into `buffer` (at least
    /// [`MINIMUM_BUFFER`] bytes) and starts its wait at `now_ns`. The glue
    /// calls this until it returns `None` after every other call.
    pub fn poll_transmit(&mut self, now_ns: u64, buffer: &mut [u8]) -> Option<Transmit> {
        let index = self
            .questions
            .iter()
            .position(|q| q.is_some_and(|q| q.due))?;
        let Some(server) = self.current_server(index) else {
            self.finish(index, Outcome::Failed(LookupError::NoServers));
            return None;
        };
        let name = self.name;
        let config = self.config;
        let question = self.questions[index].as_mut()?;
        question.due = false;
        let Ok(length) = write_query(buffer, question.id, &name, question.family, config.edns)
        else {
            question.outcome = Some(Outcome::Failed(LookupError::BufferTooSmall));
            return None;
        };
        let wait = match question.transport {
            Transport::Udp => {
                let round = (question.step / self.server_count).min(16) as u32;
                self.stats.sent_udp += 1;
                config.timeout_ns.saturating_mul(1 << round)
            }
            Transport::Tcp => {
                self.stats.sent_tcp += 1;
                config.tcp_timeout_ns
            }
        };
        question.deadline = Some(now_ns.saturating_add(wait));
        Some(Transmit {
            question: QuestionIndex::new(index),
            family: question.family,
            server,
            transport: question.transport,
            length,
        })
    }

    /// A message that arrived from `from` over `transport` on the socket
    /// of `question`. Returns whether it was taken (an answer, a failure
    /// or a truncation); anything else is counted and ignored.
    pub fn receive(
        &mut self,
        question: QuestionIndex,
        from: IpAddr,
        transport: Transport,
        message: &[u8],
    ) -> bool {
        let index = question.index();
        let current = self.current_server(index);
        let name = self.name;
        let Some(question) = self.waiting(index) else {
            self.stats.unexpected += 1;
            return false;
        };
        if current != Some(from) || question.transport != transport {
            self.stats.unexpected += 1;
            return false;
        }
        let Ok(response) = parse_response(message, question.id, &name, question.family) else {
            self.stats.rejected += 1;
            return false;
        };
        self.take(index, response);
        true
    }

    fn take(&mut self, index: usize, response: Response) {
        match response {
            Response::Answer(answer) => self.finish(index, Outcome::Answered(answer)),
            Response::Truncated => {
                self.stats.truncated += 1;
                let id = self.next_id();
                let Some(question) = self.waiting(index) else {
                    return;
                };
                if question.transport == Transport::Tcp {
                    return self.fail_step(index, LookupError::Unreachable);
                }
                question.transport = Transport::Tcp;
                question.id = id;
                question.due = true;
                question.deadline = None;
            }
            Response::Failure(failure) => {
                self.fail_step(index, LookupError::ServerFailure(failure));
            }
        }
    }

    /// The glue could not carry the current step of `question` (no route,
    /// an ICMP refusal, a TCP connection refused or reset): move on now.
    pub fn transport_failed(&mut self, question: QuestionIndex) {
        if self.waiting(question.index()).is_some() {
            self.fail_step(question.index(), LookupError::Unreachable);
        }
    }

    /// Ends every step whose wait has passed at `now_ns`.
    pub fn on_timer(&mut self, now_ns: u64) {
        for index in 0..self.questions.len() {
            let expired = self
                .waiting(index)
                .is_some_and(|q| q.deadline.is_some_and(|deadline| deadline <= now_ns));
            if expired {
                self.stats.timeouts += 1;
                self.end_step(index, LookupError::TimedOut);
            }
        }
    }

    /// When [`Self::on_timer`] must run next; `None` when nothing waits.
    pub fn next_deadline(&self) -> Option<u64> {
        let waiting = self
            .questions
            .iter()
            .flatten()
            .filter(|q| q.outcome.is_none());
        waiting.filter_map(|q| q.deadline).min()
    }

    /// Whether every question has its outcome.
    pub fn is_finished(&self) -> bool {
        self.questions.iter().flatten().all(|q| q.outcome.is_some())
    }

    /// The outcome of the question for `family`, once it has one.
    pub fn outcome(&self, family: Family) -> Option<Outcome> {
        let question = self
            .questions
            .iter()
            .flatten()
            .find(|q| q.family == family)?;
        question.outcome
    }

    /// The name looked up.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// What it saw so far.
    pub fn stats(&self) -> &LookupStats {
        &self.stats
    }

    /// The question at `index` if it still waits for an outcome.
    fn waiting(&mut self, index: usize) -> Option<&mut Question> {
        self.questions
            .get_mut(index)?
            .as_mut()
            .filter(|q| q.outcome.is_none())
    }

    fn current_server(&self, index: usize) -> Option<IpAddr> {
        let question = self.questions.get(index)?.as_ref()?;
        let count = self.server_count.max(1);
        self.servers[question.step % count]
    }

    fn fail_step(&mut self, index: usize, error: LookupError) {
        self.stats.failures += 1;
        self.end_step(index, error);
    }

    /// Ends the current step for `error`: the next server (or round) over
    /// UDP with a fresh id, or after the last step `error` is the outcome.
    fn end_step(&mut self, index: usize, error: LookupError) {
        let steps = self.server_count * usize::from(self.config.rounds.max(1));
        let id = self.next_id();
        let Some(question) = self.waiting(index) else {
            return;
        };
        question.step += 1;
        question.deadline = None;
        if question.step >= steps {
            question.outcome = Some(Outcome::Failed(error));
            return;
        }
        question.transport = Transport::Udp;
        question.id = id;
        question.due = true;
    }

    fn finish(&mut self, index: usize, outcome: Outcome) {
        if let Some(question) = self.waiting(index) {
            question.outcome = Some(outcome);
            question.deadline = None;
            question.due = false;
        }
    }

    /// A fresh query id: 16 bits of the generator (RFC 5452 §4.3).
    fn next_id(&mut self) -> u16 {
        (self.random.next_u64() >> 48) as u16
    }
}
