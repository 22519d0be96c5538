//! `resolve`: names to addresses, through the sans-IO resolver in
//! `kernel/net/dns` and this kernel's own sockets.
//!
//! [`Net::resolve`] answers an address literal itself, `localhost` and
//! names under it with the loopback addresses (RFC 6761 §6.3), and
//! anything else from the cache or by asking the name servers for A and
//! AAAA at once. Each query goes out from a fresh UDP socket bound to a
//! random port (RFC 6056 via the UDP layer, RFC 5452), connected to the
//! server's port 53, so that only datagrams from there reach it; the
//! lookup then checks id and question. A truncated answer is asked again
//! over TCP. The calling thread sleeps in `poll` between answers and
//! deadlines, like any blocking socket call; nothing spins.
//!
//! The addresses come back in RFC 6724 order ([`dns::order_addresses`]):
//! IPv6 ones last while the stack has no IPv6 address beyond link-local
//! (`IpLayer::ipv6_usable`), else by precedence, global IPv6 first.
//!
//! Servers come from the boot parameter `dns=ADDRESS[,ADDRESS]`, from the
//! DHCP lease (option 6) and from RDNSS in router advertisements
//! ([`state`]); a server of either family is asked over its own family,
//! a link-local IPv6 one through the interface that advertised it.

mod exchange;
pub mod state;
mod tcp;

use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base::Context;
pub use dns::ServerSource;
use dns::{Family, Lookup, LookupConfig, LookupError, Name, NameError, Outcome, Resolution};

use super::Errno;
use crate::net::Net;
use crate::stack::Stack;

/// Why a name has no addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveError {
    /// Not a host name.
    InvalidName(NameError),
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
    /// The name exists but has no A or AAAA record.
    NoAddresses,
    /// No server answered (or none is configured).
    Failed(LookupError),
    /// The random hypercall failed, so no query id could be drawn.
    NoRandomness,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(error) => write!(f, "invalid name: {error}"),
            Self::NoSuchName => f.write_str("no such name"),
            Self::NoAddresses => f.write_str("the name has no address"),
            Self::Failed(LookupError::NoServers) => f.write_str("no name server configured"),
            Self::Failed(LookupError::TimedOut) => f.write_str("no name server answered"),
            Self::Failed(LookupError::Unreachable) => f.write_str("no name server reachable"),
            Self::Failed(LookupError::ServerFailure(failure)) => {
                write!(f, "the name servers failed: {failure:?}")
            }
            Self::Failed(LookupError::BufferTooSmall) => f.write_str("query buffer too small"),
            Self::NoRandomness => f.write_str("no random source for query ids"),
        }
    }
}

impl core::error::Error for ResolveError {}

impl From<ResolveError> for Errno {
    fn from(error: ResolveError) -> Self {
        match error {
            ResolveError::InvalidName(_) => Errno::InvalidArgument,
            ResolveError::NoSuchName | ResolveError::NoAddresses => Errno::NotFound,
            ResolveError::Failed(LookupError::NoServers) => Errno::NetworkUnreachable,
            ResolveError::Failed(LookupError::TimedOut) => Errno::TimedOut,
            ResolveError::Failed(LookupError::Unreachable) => Errno::NetworkUnreachable,
            ResolveError::Failed(LookupError::ServerFailure(_)) => Errno::ConnectionRefused,
            ResolveError::Failed(LookupError::BufferTooSmall) => Errno::NoBuffers,
            ResolveError::NoRandomness => Errno::NotSupported,
        }
    }
}

/// How one family of a name was resolved.
#[derive(Debug, Clone, Copy)]
enum FamilyResult {
    Resolved(Resolution),
    Failed(LookupError),
}

impl Net {
    /// The addresses of `name`, both families, in RFC 6724 order.
    /// Blocks until the servers answered or the lookup's schedule ran out
    /// (at most 7 s per server, four servers at most).
    ///
    /// # Errors
    /// [`ResolveError`]; `Errno::from` maps it for the system-call edge.
    pub fn resolve(&self, context: &Context<'_>, name: &str) -> Result<Vec<IpAddr>, ResolveError> {
        if let Some(addresses) = literal_or_localhost(name) {
            return Ok(addresses);
        }
        let name = Name::from_text(name).map_err(ResolveError::InvalidName)?;
        let mut results = Vec::new();
        let mut missing = Vec::new();
        let (servers, ipv6_usable) = self.with_stack(context, |stack| {
            let now = stack.now_ns();
            let resolver = &mut stack.sockets.resolver;
            resolver.read_boot_servers(context.kernel().params());
            for family in [Family::V4, Family::V6] {
                match resolver.cached(now, &name, family) {
                    Some(resolution) => results.push(FamilyResult::Resolved(resolution)),
                    None => missing.push(family),
                }
            }
            (stack.name_servers(), ipv6_usable(stack))
        });
        if !missing.is_empty() {
            let outcomes = self.look_up(context, name, &missing, &servers)?;
            results.extend(outcomes);
        }
        combine(&results, ipv6_usable)
    }

    /// Asks the servers about `families` of `name`; caches the answers.
    fn look_up(
        &self,
        context: &Context<'_>,
        name: Name,
        families: &[Family],
        servers: &[IpAddr],
    ) -> Result<Vec<FamilyResult>, ResolveError> {
        let mut seed = [0u8; 8];
        let random = context.kernel().hypercalls().random_fill(&mut seed);
        random.map_err(|_| ResolveError::NoRandomness)?;
        let config = LookupConfig::default();
        let seed = u64::from_le_bytes(seed);
        let mut lookup = Lookup::new(name, families, servers.iter().copied(), config, seed);
        self.run_lookup(context, &mut lookup, &config);
        let outcomes = self.with_stack(context, |stack| remember(stack, &lookup, families));
        Ok(outcomes)
    }

    /// Replaces the name servers `source` gave (the application's own
    /// choice is [`ServerSource::BootParameters`]).
    pub fn set_name_servers(
        &self,
        context: &Context<'_>,
        source: ServerSource,
        servers: &[IpAddr],
    ) {
        self.with_stack(context, |stack| stack.set_name_servers(source, servers));
    }

    /// The name servers lookups ask, in order.
    pub fn name_servers(&self, context: &Context<'_>) -> Vec<IpAddr> {
        self.with_stack(context, |stack| {
            stack
                .sockets
                .resolver
                .read_boot_servers(context.kernel().params());
            stack.name_servers()
        })
    }
}

/// Stores what `lookup` found and counts what it saw.
fn remember(stack: &mut Stack, lookup: &Lookup, families: &[Family]) -> Vec<FamilyResult> {
    let now = stack.now_ns();
    let resolver = &mut stack.sockets.resolver;
    let seen = lookup.stats();
    resolver.stats.lookups += 1;
    resolver.stats.queries += u64::from(seen.sent_udp + seen.sent_tcp);
    resolver.stats.tcp_queries += u64::from(seen.sent_tcp);
    resolver.stats.rejected += u64::from(seen.rejected);
    resolver.stats.timeouts += u64::from(seen.timeouts);
    let mut results = Vec::new();
    for &family in families {
        let result = match lookup.outcome(family) {
            Some(Outcome::Answered(answer)) => {
                resolver.remember(now, lookup.name(), family, &answer);
                FamilyResult::Resolved(answer.resolution)
            }
            Some(Outcome::Failed(error)) => FamilyResult::Failed(error),
            None => FamilyResult::Failed(LookupError::TimedOut),
        };
        results.push(result);
    }
    results
}

/// The addresses of all families in RFC 6724 order, or why there are
/// none: a name that does not exist, then a failed lookup, then a name
/// without addresses.
fn combine(results: &[FamilyResult], ipv6_usable: bool) -> Result<Vec<IpAddr>, ResolveError> {
    let mut addresses = Vec::new();
    for result in results {
        if let FamilyResult::Resolved(Resolution::Addresses(list)) = result {
            addresses.extend_from_slice(list.as_slice());
        }
    }
    if !addresses.is_empty() {
        dns::order_addresses(&mut addresses, ipv6_usable);
        return Ok(addresses);
    }
    let nonexistent = results
        .iter()
        .any(|r| matches!(r, FamilyResult::Resolved(Resolution::NoSuchName)));
    if nonexistent {
        return Err(ResolveError::NoSuchName);
    }
    let failure = results.iter().find_map(|result| match result {
        FamilyResult::Failed(error) => Some(*error),
        FamilyResult::Resolved(_) => None,
    });
    Err(failure.map_or(ResolveError::NoAddresses, ResolveError::Failed))
}

/// An address literal, or `localhost` and the names under it.
fn literal_or_localhost(name: &str) -> Option<Vec<IpAddr>> {
    if let Ok(address) = name.parse::<IpAddr>() {
        return Some(alloc::vec![address]);
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let local = name == "localhost" || name.ends_with(".localhost");
    local.then(|| {
        alloc::vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        ]
    })
}

/// Whether the stack can send IPv6 past the link (RFC 6724 rule 1).
fn ipv6_usable(stack: &Stack) -> bool {
    stack.ip.ipv6_usable()
}
