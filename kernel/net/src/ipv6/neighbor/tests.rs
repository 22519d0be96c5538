//! The NUD state machine with simulated time: every state, every timer,
//! the advertisement rules, and the cache's bounds.

use std::vec::Vec;

use super::*;
use crate::tests::link::pool;

const SECOND: u64 = 1_000_000_000;
const LAN: InterfaceIndex = InterfaceIndex(0);
const MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 2]);
const OTHER_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 3]);
const TIMING: Timing = Timing {
    reachable_ns: 30 * SECOND,
    retransmit_ns: SECOND,
};

fn ip(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last)
}

struct Fixture {
    pool: crate::buffer::PacketPool,
    cache: NeighborCache,
    budget: Budget,
}

fn fixture() -> Fixture {
    let pool = pool();
    let budget = Budget::new(pool.memory().account("nd-test"));
    let cache = NeighborCache::new(budget.clone());
    Fixture {
        pool,
        cache,
        budget,
    }
}

impl Fixture {
    fn packet(&self) -> PacketBuffer {
        self.pool.allocate().unwrap()
    }

    fn tick(&mut self, now: u64) -> Vec<Probe> {
        let mut probes = Vec::new();
        self.cache.on_timer(now, |_| TIMING, &mut probes);
        probes
    }

    fn answer(&mut self, now: u64, target: Ipv6Addr, advertised: Advertised) -> usize {
        let (released, _) = self.cache.advertise(now, LAN, target, advertised, TIMING);
        released.len()
    }
}

fn solicited(mac: MacAddress) -> Advertised {
    Advertised {
        mac: Some(mac),
        solicited: true,
        override_cache: true,
        router: false,
    }
}

#[test]
fn an_unanswered_address_is_solicited_three_times_then_given_up() {
    let mut f = fixture();
    assert_eq!(f.cache.resolve(0, LAN, ip(2)), None);
    let packet = f.packet();
    assert!(
        f.cache.hold(0, LAN, ip(2), packet, TIMING),
        "first probe now"
    );
    let packet = f.packet();
    assert!(
        !f.cache.hold(0, LAN, ip(2), packet, TIMING),
        "already asking"
    );
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Incomplete));
    assert_eq!(f.cache.next_deadline(), Some(SECOND));
    for second in 1..=2 {
        let probes = f.tick(second * SECOND);
        assert_eq!(probes.len(), 1);
        assert_eq!(probes[0].unicast, None, "to the solicited-node group");
    }
    assert!(f.tick(3 * SECOND).is_empty(), "three in all, then it goes");
    assert_eq!(f.cache.state(LAN, ip(2)), None);
    assert_eq!(f.cache.stats.dropped_unresolved, 2);
    assert_eq!(f.cache.stats.unreachable, 1);
    assert_eq!(f.budget.bytes(), 0);
}

#[test]
fn reachable_stale_delay_probe_and_gone() {
    let mut f = fixture();
    let packet = f.packet();
    f.cache.hold(0, LAN, ip(2), packet, TIMING);
    assert_eq!(f.answer(SECOND / 2, ip(2), solicited(MAC)), 1, "released");
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Reachable));
    assert_eq!(f.cache.resolve(SECOND, LAN, ip(2)), Some(MAC));
    assert!(f.tick(SECOND / 2 + TIMING.reachable_ns).is_empty());
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Stale));
    let now = 40 * SECOND;
    assert_eq!(f.cache.resolve(now, LAN, ip(2)), Some(MAC));
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Delay));
    assert!(f.tick(now + DELAY_FIRST_PROBE_NS - 1).is_empty());
    let probes = f.tick(now + DELAY_FIRST_PROBE_NS);
    assert_eq!(probes[0].unicast, Some(MAC), "probes go unicast");
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Probe));
    let probing = now + DELAY_FIRST_PROBE_NS;
    assert_eq!(f.tick(probing + SECOND).len(), 1);
    assert_eq!(f.tick(probing + 2 * SECOND).len(), 1);
    assert!(f.tick(probing + 3 * SECOND).is_empty());
    assert_eq!(f.cache.state(LAN, ip(2)), None, "unreachable: forgotten");
    assert_eq!(f.cache.stats.unreachable, 1);
}

#[test]
fn a_hint_or_an_answer_in_delay_makes_it_reachable() {
    let mut f = fixture();
    f.cache.learn(0, LAN, ip(2), MAC, false);
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Stale));
    f.cache.resolve(0, LAN, ip(2));
    f.cache.confirm(SECOND, LAN, ip(2), TIMING);
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Reachable));
    assert!(f.tick(5 * SECOND).is_empty(), "no probe after a hint");
    f.cache.learn(0, LAN, ip(3), MAC, false);
    f.cache.resolve(0, LAN, ip(3));
    f.cache
        .on_timer(DELAY_FIRST_PROBE_NS, |_| TIMING, &mut Vec::new());
    assert_eq!(f.cache.state(LAN, ip(3)), Some(NudState::Probe));
    f.answer(DELAY_FIRST_PROBE_NS + 1, ip(3), solicited(MAC));
    assert_eq!(f.cache.state(LAN, ip(3)), Some(NudState::Reachable));
    f.cache.confirm(0, LAN, ip(9), TIMING);
    assert_eq!(f.cache.state(LAN, ip(9)), None, "hints make no entries");
}

#[test]
fn advertisements_follow_the_override_rules() {
    let mut f = fixture();
    f.cache.learn(0, LAN, ip(2), MAC, false);
    f.answer(0, ip(2), solicited(MAC));
    let weak = Advertised {
        mac: Some(OTHER_MAC),
        solicited: true,
        override_cache: false,
        router: false,
    };
    f.answer(SECOND, ip(2), weak);
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Stale));
    assert_eq!(f.cache.resolve(SECOND, LAN, ip(2)), Some(MAC), "kept");
    let unsolicited = Advertised {
        mac: Some(OTHER_MAC),
        solicited: false,
        override_cache: true,
        router: false,
    };
    f.answer(2 * SECOND, ip(2), unsolicited);
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Stale));
    assert_eq!(f.cache.resolve(2 * SECOND, LAN, ip(2)), Some(OTHER_MAC));
    let quiet = Advertised {
        mac: None,
        solicited: true,
        override_cache: false,
        router: false,
    };
    f.answer(3 * SECOND, ip(2), quiet);
    assert_eq!(f.cache.state(LAN, ip(2)), Some(NudState::Reachable));
    assert_eq!(f.answer(0, ip(7), solicited(MAC)), 0, "unknown: ignored");
    assert_eq!(f.cache.state(LAN, ip(7)), None);
    let packet = f.packet();
    f.cache.hold(0, LAN, ip(8), packet, TIMING);
    f.answer(0, ip(8), quiet);
    assert_eq!(f.cache.state(LAN, ip(8)), Some(NudState::Incomplete));
}

#[test]
fn solicitations_learn_and_routers_are_remembered_until_they_say_otherwise() {
    let mut f = fixture();
    let packet = f.packet();
    f.cache.hold(0, LAN, ip(1), packet, TIMING);
    let released = f.cache.learn(0, LAN, ip(1), MAC, true);
    assert_eq!(released.len(), 1, "a solicitation resolves a waiting entry");
    assert_eq!(f.cache.state(LAN, ip(1)), Some(NudState::Stale));
    assert!(f.cache.is_reachable_router(LAN, ip(1)));
    f.cache.learn(0, LAN, ip(1), OTHER_MAC, false);
    assert_eq!(f.cache.resolve(0, LAN, ip(1)), Some(OTHER_MAC));
    assert!(
        f.cache.is_reachable_router(LAN, ip(1)),
        "learn keeps the flag"
    );
    let (_, lost) = f
        .cache
        .advertise(0, LAN, ip(1), solicited(OTHER_MAC), TIMING);
    assert!(lost, "a router that stops saying so is no longer one");
    assert!(!f.cache.is_reachable_router(LAN, ip(1)));
    assert!(f.tick(60 * SECOND).is_empty());
    assert_eq!(f.cache.state(LAN, ip(1)), Some(NudState::Stale));
    assert!(f.tick(60 * SECOND + STALE_NS).is_empty());
    assert!(f.cache.is_empty(), "unused stale entries are forgotten");
}

#[test]
fn the_table_and_the_waiting_packets_are_bounded() {
    let mut f = fixture();
    for host in 0..TABLE_LIMIT as u16 {
        f.cache
            .learn(u64::from(host), LAN, ip(host + 100), MAC, false);
    }
    let packet = f.packet();
    f.cache.hold(0, LAN, ip(1), packet, TIMING);
    assert_eq!(f.cache.len(), TABLE_LIMIT);
    assert_eq!(f.cache.state(LAN, ip(100)), None, "the oldest stale went");
    for _ in 0..PENDING_LIMIT + 5 {
        let packet = f.packet();
        f.cache.hold(0, LAN, ip(1), packet, TIMING);
    }
    assert_eq!(f.cache.stats.dropped_unresolved, 6);
    for host in 2..100 {
        for _ in 0..4 {
            let packet = f.packet();
            f.cache.hold(0, LAN, ip(host), packet, TIMING);
        }
    }
    assert!(f.cache.pending <= PENDING_TOTAL);
    let before = f.pool.in_use();
    let freed = f.cache.shrink(ReclaimLevel::Urgent);
    assert!(freed > 0 && f.pool.in_use() < before);
    assert_eq!(f.cache.pending, 0);
    f.cache.flush_interface(LAN);
    assert!(f.cache.is_empty());
    assert_eq!(f.budget.bytes(), 0);
}
