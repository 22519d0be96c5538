//! Path MTU discovery for one connection of either family: RFC 1191's
//! ICMP "fragmentation needed" and RFC 8201's ICMPv6 Packet Too Big
//! (validated against the connection by the caller, RFC 5927), and
//! packetization-layer PMTUD (RFC 4821, RFC 8899) when ICMP is filtered
//! and full-size segments vanish into a black hole.
//!
//! A connection starts at its ceiling: the route's MTU at connect time,
//! capped by the peer's MSS (IPv4 segments carry the DF bit; IPv6 routers
//! never fragment). An ICMP that names a smaller MTU sets it at once
//! ([`lower`]); IPv4 ignores one below 552 as forged, IPv6 reads one
//! below its minimum link MTU of 1280 as 1280 (RFC 8201 4). Without ICMP,
//! [`timed_out`] suspects a black hole when the retransmission timer
//! expires [`BLACK_HOLE_TIMEOUTS`] times in a row over a segment larger
//! than what a smaller MTU would send: it drops to RFC 8899's base (1,200
//! bytes for IPv4, then 576, which every IPv4 host takes; 1,280 for
//! IPv6, also its floor) and searches upward with probes, Linux's
//! `tcp_mtu_probing=1`. A probe is one
//! segment of new data sized for the MTU under test: the ceiling first
//! (the black hole may have been an outage), then halfway between the
//! largest size that got through and the smallest that did not, until
//! they are [`SEARCH_STEP`] bytes apart. An acknowledged probe raises the
//! MTU; a probe lost [`PROBE_ATTEMPTS`] times lowers the top of the
//! search. Its loss is no congestion signal. Ten minutes after an ICMP
//! lowered the MTU, or after a search ended, the search starts again from
//! the ceiling, as Linux re-probes (RFC 1191 asks for an attempt to grow
//! after 10 minutes).
//!
//! The IP layer refuses a segment over the path MTU it knows (IPv4's DF,
//! IPv6's routers never fragment): a connection still sending larger ones
//! after the IP layer learned a smaller MTU (another connection's ICMP, or
//! a smaller link) loses them, and [`timed_out`] takes the route's MTU at
//! the first timeout, before suspecting a black hole.
//!
//! When the MTU falls, every record in flight that no longer fits is
//! split and, if it was in flight, marked lost (`Flight::split_larger`):
//! the data is sent again in segments that fit, without a window cut.

use core::net::IpAddr;

use crate::address::{IPV6_MINIMUM_MTU, headers, plausible_path_mtu};
use crate::context::Context;
use crate::flight::Mark;
use crate::sequence::Sequence;
use crate::tcb::Tcb;

/// RFC 8899's BASE_PLPMTU for IPv4: where a search starts.
const BASE_MTU: u16 = 1200;

/// Where it goes when even the base vanishes: the datagram size every
/// IPv4 host must accept (RFC 791).
const FLOOR_MTU: u16 = 576;

/// Where a black hole search starts over `tcb`'s family, and below what
/// it never goes (IPv6: both its minimum link MTU, RFC 8899 5.1.2).
fn base_and_floor(tcb: &Tcb) -> (u16, u16) {
    match tcb.remote.ip() {
        IpAddr::V4(_) => (BASE_MTU, FLOOR_MTU),
        IpAddr::V6(_) => (IPV6_MINIMUM_MTU, IPV6_MINIMUM_MTU),
    }
}

/// Retransmission timeouts in a row over one oversized segment before a
/// black hole is suspected.
pub const BLACK_HOLE_TIMEOUTS: u32 = 2;

/// A search ends when the largest size known to pass and the smallest
/// known to fail are this close.
pub const SEARCH_STEP: u16 = 32;

/// Losses of a probe size before it counts as too big (a probe may be
/// lost to congestion; RFC 8899's MAX_PROBES is 3).
pub const PROBE_ATTEMPTS: u8 = 2;

/// After an ICMP lowered the MTU, or a search ended: try larger again.
pub const RESEARCH_NS: u64 = 600_000_000_000;

/// Where a connection stands with its path MTU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathMtu {
    /// Nothing known against the ceiling: full-size segments.
    #[default]
    Ceiling,
    /// Searching upward from `low` (see [`Search`]).
    Searching(Search),
    /// Settled below the ceiling; search again from `again_ns`.
    Settled {
        /// The MTU the connection started with.
        ceiling: u16,
        /// When to search upward again.
        again_ns: u64,
    },
}

impl PathMtu {
    /// Whether a search is on: the sender makes no bursts then, so a
    /// segment longer than the others is the probe (`sender.rs`).
    pub fn is_searching(&self) -> bool {
        matches!(self, Self::Searching(_))
    }
}

/// A packetization-layer search: sizes up to `low` pass, `high` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Search {
    /// The MTU the connection started with.
    pub ceiling: u16,
    /// The largest MTU known to pass: the one in use.
    pub low: u16,
    /// The smallest MTU known to fail (`ceiling + 1` before any did).
    pub high: u16,
    /// Losses of the size now under test.
    pub failures: u8,
    /// The probe in flight.
    pub probe: Option<Probe>,
}

/// A probe in flight: the MTU it tests and the data it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The MTU under test.
    pub mtu: u16,
    /// Its first sequence number.
    pub start: Sequence,
    /// One past its last.
    pub end: Sequence,
}

impl Search {
    /// The MTU the next probe tests, `None` when the search is over.
    fn next_size(&self) -> Option<u16> {
        if self.low >= self.ceiling {
            return None;
        }
        if self.high > self.ceiling {
            return Some(self.ceiling);
        }
        (self.high - self.low > SEARCH_STEP).then(|| self.low + (self.high - self.low) / 2)
    }
}

/// IP and TCP headers with the options every segment carries
/// (timestamps: 12 bytes).
fn overhead(tcb: &Tcb) -> u16 {
    let options = if tcb.negotiated.timestamps { 12 } else { 0 };
    headers(tcb.remote.ip()) + options
}

/// The MTU `tcb` sends with now.
pub fn current(tcb: &Tcb) -> u16 {
    let overhead = overhead(tcb);
    let size = tcb.segment_size.min(u32::from(u16::MAX - overhead)) as u16;
    size + overhead
}

/// The payload of a full segment at `mtu`.
fn payload(tcb: &Tcb, mtu: u16) -> u32 {
    u32::from(mtu.saturating_sub(overhead(tcb)).max(1))
}

/// The ceiling of `tcb`: remembered once the MTU left it.
fn ceiling(tcb: &Tcb) -> u16 {
    match tcb.path_mtu {
        PathMtu::Ceiling => current(tcb),
        PathMtu::Searching(search) => search.ceiling,
        PathMtu::Settled { ceiling, .. } => ceiling,
    }
}

/// Sends at `mtu` from now on: smaller segments, and what is in flight
/// and too big split and sent again. False when memory refused the split
/// (the MTU is not changed then).
fn apply(tcb: &mut Tcb, context: &mut Context, mtu: u16) -> bool {
    let size = payload(tcb, mtu);
    let fin_end = tcb.fin_sent().then(|| tcb.send_buffer.end().add(1));
    let Some(split) = tcb.flight.split_larger(size, fin_end, &mut context.memory) else {
        return false;
    };
    tcb.segment_size = size;
    if split > 0 {
        // A repair without a window cut (the loss was no congestion):
        // no fast recovery for what is in flight now.
        tcb.recover = tcb.recover.latest(tcb.send_maximum);
    }
    true
}

/// RFC 1191, RFC 8201: an ICMP "fragmentation needed" or Packet Too
/// Big for a segment of `tcb` in flight names `mtu` as the next hop's.
/// The caller checked that the quoted segment is in flight (RFC 5927).
/// True when the MTU fell.
pub fn lower(tcb: &mut Tcb, context: &mut Context, mtu: u32) -> bool {
    let ceiling = ceiling(tcb);
    let Some(mtu) = plausible_path_mtu(tcb.remote.ip(), mtu) else {
        return false;
    };
    if mtu >= current(tcb) {
        // About a probe: the search need not look above `mtu` (RFC 8899
        // 4.6.2), though the MTU in use stays.
        if let PathMtu::Searching(search) = &mut tcb.path_mtu {
            search.high = search.high.min(mtu.saturating_add(1));
            if search.probe.is_none() && search.next_size().is_none() {
                settle(tcb, context);
            }
        }
        return false;
    }
    if !apply(tcb, context, mtu) {
        return false;
    }
    tcb.path_mtu = PathMtu::Settled {
        ceiling,
        again_ns: context.now.saturating_add(RESEARCH_NS),
    };
    true
}

/// The retransmission timer expired (after the flight was marked lost):
/// a route MTU (`route_mtu`, what the IP layer knows now) below the one in
/// use is taken at once; else a probe in flight failed, and repeated
/// timeouts over a segment larger than a smaller MTU would send suggest a
/// black hole.
pub fn timed_out(tcb: &mut Tcb, context: &mut Context, route_mtu: Option<u16>) {
    let narrower = route_mtu.filter(|&mtu| mtu < current(tcb));
    if narrower.is_some_and(|mtu| lower(tcb, context, mtu.into())) {
        context.stats.path_mtu_from_route += 1;
        return;
    }
    if probe_failed(tcb, context) || tcb.backoff < BLACK_HOLE_TIMEOUTS {
        return;
    }
    let (failed, ceiling) = (current(tcb), ceiling(tcb));
    let (base, floor) = base_and_floor(tcb);
    let target = if failed > base { base } else { floor };
    let first = tcb.flight.get(0).map_or(0, |sent| sent.length());
    // The FIN octet aside, the first segment would be sent smaller.
    let oversized = first > payload(tcb, target) + 1;
    if failed <= target || !oversized || !apply(tcb, context, target) {
        return;
    }
    context.stats.mtu_black_holes += 1;
    tcb.path_mtu = PathMtu::Searching(Search {
        ceiling,
        low: target,
        high: failed,
        failures: 0,
        probe: None,
    });
}

/// The payload of the next segment if it is to be a probe: a search is
/// on, no probe or loss is out, and the sender is in no recovery.
pub fn probe_length(tcb: &Tcb) -> Option<u32> {
    let PathMtu::Searching(search) = tcb.path_mtu else {
        return None;
    };
    let quiet = search.probe.is_none() && tcb.recovery.is_open() && tcb.flight.lost_count() == 0;
    let size = search.next_size().filter(|_| quiet)?;
    Some(payload(tcb, size))
}

/// New data `[start, end)` was sent: a segment longer than the others is
/// the probe. Returns whether it was.
pub fn sent(tcb: &mut Tcb, context: &mut Context, (start, end): (Sequence, Sequence)) -> bool {
    let length = end.since(start);
    let overhead = overhead(tcb);
    if let PathMtu::Searching(search) = &mut tcb.path_mtu
        && length > tcb.segment_size
        && search.probe.is_none()
    {
        let mtu = u16::try_from(length).map_or(u16::MAX, |length| length.saturating_add(overhead));
        search.probe = Some(Probe { mtu, start, end });
        context.stats.mtu_probes += 1;
        return true;
    }
    false
}

/// After an ACK was taken in: an acknowledged (or SACKed) probe raises
/// the MTU; a settled connection searches again once its time comes.
pub fn acknowledged(tcb: &mut Tcb, context: &mut Context) {
    match tcb.path_mtu {
        PathMtu::Settled { ceiling, again_ns } if context.now >= again_ns => {
            let low = current(tcb);
            tcb.path_mtu = PathMtu::Searching(Search {
                ceiling,
                low,
                high: ceiling + 1,
                failures: 0,
                probe: None,
            });
        }
        PathMtu::Searching(Search {
            probe: Some(probe), ..
        }) if delivered(tcb, &probe) => probe_passed(tcb, context, probe.mtu),
        _ => {}
    }
}

fn delivered(tcb: &Tcb, probe: &Probe) -> bool {
    tcb.send_unacknowledged.after_or_at(probe.end)
        || tcb
            .flight
            .find(probe.start)
            .is_some_and(|sent| sent.mark == Mark::Sacked && sent.end == probe.end)
}

fn probe_passed(tcb: &mut Tcb, context: &mut Context, mtu: u16) {
    tcb.segment_size = payload(tcb, mtu);
    let PathMtu::Searching(search) = &mut tcb.path_mtu else {
        return;
    };
    search.low = mtu;
    search.failures = 0;
    search.probe = None;
    if mtu >= search.ceiling {
        tcb.path_mtu = PathMtu::Ceiling;
    } else if search.next_size().is_none() {
        tcb.path_mtu = PathMtu::Settled {
            ceiling: search.ceiling,
            again_ns: context.now.saturating_add(RESEARCH_NS),
        };
    }
}

/// The search is over: settle at the MTU in use, search again later.
fn settle(tcb: &mut Tcb, context: &Context) {
    if let PathMtu::Searching(search) = tcb.path_mtu {
        tcb.path_mtu = PathMtu::Settled {
            ceiling: search.ceiling,
            again_ns: context.now.saturating_add(RESEARCH_NS),
        };
    }
}

/// The probe in flight is lost (RACK, a timeout, or its retransmission is
/// due): its size failed once more, and its record is split to fit the
/// MTU in use. True when there was a probe to fail.
pub fn probe_failed(tcb: &mut Tcb, context: &mut Context) -> bool {
    let PathMtu::Searching(search) = &mut tcb.path_mtu else {
        return false;
    };
    let Some(probe) = search.probe.take() else {
        return false;
    };
    context.stats.mtu_probes_lost += 1;
    search.failures += 1;
    if search.failures >= PROBE_ATTEMPTS {
        search.high = probe.mtu;
        search.failures = 0;
    }
    let (low, settled) = (search.low, search.next_size().is_none());
    if settled {
        tcb.path_mtu = PathMtu::Settled {
            ceiling: search.ceiling,
            again_ns: context.now.saturating_add(RESEARCH_NS),
        };
    }
    // Its record is the one too big for the MTU in use.
    apply(tcb, context, low);
    true
}

/// Before record `index` is sent again: if it is the probe, the probe
/// failed (and the record is split to fit).
pub fn before_retransmission(tcb: &mut Tcb, context: &mut Context, index: usize) {
    let PathMtu::Searching(Search {
        probe: Some(probe), ..
    }) = tcb.path_mtu
    else {
        return;
    };
    if tcb
        .flight
        .get(index)
        .is_some_and(|sent| sent.start == probe.start && sent.end == probe.end)
    {
        probe_failed(tcb, context);
    }
}

/// RACK found losses: if the probe is among them it failed; true when it
/// was the only one, which calls for no fast recovery (RFC 4821 7.6.3:
/// a lost probe is no congestion signal).
pub fn probe_lost_alone(tcb: &mut Tcb, context: &mut Context) -> bool {
    let PathMtu::Searching(Search {
        probe: Some(probe), ..
    }) = tcb.path_mtu
    else {
        return false;
    };
    let lost = tcb
        .flight
        .find(probe.start)
        .is_some_and(|sent| sent.end == probe.end && sent.mark == Mark::Lost);
    if !lost {
        return false;
    }
    let alone = tcb.flight.lost_count() == 1;
    probe_failed(tcb, context);
    alone
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_tries_the_ceiling_then_halves_to_within_a_step() {
        let mut search = Search {
            ceiling: 1500,
            low: BASE_MTU,
            high: 1501,
            failures: 0,
            probe: None,
        };
        assert_eq!(search.next_size(), Some(1500));
        search.high = 1500;
        assert_eq!(search.next_size(), Some(1350));
        search.low = 1350;
        assert_eq!(search.next_size(), Some(1425));
        search.high = 1425;
        assert_eq!(search.next_size(), Some(1387));
        search.low = 1387;
        assert_eq!(search.next_size(), Some(1406));
        search.low = 1406;
        assert_eq!(search.next_size(), None, "19 bytes apart");
        search.low = 1500;
        assert_eq!(search.next_size(), None, "at the ceiling");
    }
}
