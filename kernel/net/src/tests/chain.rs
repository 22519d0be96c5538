//! Three stacks in a row for the forwarding tests: A — R — B.
//!
//! A is 10.0.1.1/24 and fd01::1/64 on R's near link, where R is
//! 10.0.1.254 and fd01::fe; B is 10.0.2.1 and fd02::1 on the far link,
//! where R is 10.0.2.254 and fd02::fe. A and B send everything else to
//! R. Frames move by hand and time is virtual. The near wire can carry
//! partial checksums and coalesced segments the way a virtio device hands
//! them over (`partial_near`: R receives them marked, not completed, and
//! A's TSO bursts whole with their segment size), and what R sends can
//! be kept for inspection.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::vec::Vec;

use super::link::{attach_ethernet, bare_stack, complete_partial};
use crate::buffer::PacketBuffer;
use crate::interface::{InterfaceAddress, InterfaceIndex};
use crate::offload::Offloads;
use crate::probe::Answer;
use crate::stack::Stack;

pub(super) const A: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
pub(super) const B: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 1);
pub(super) const R_NEAR: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 254);
pub(super) const R_FAR: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 254);
pub(super) const A6: Ipv6Addr = Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0, 1);
pub(super) const B6: Ipv6Addr = Ipv6Addr::new(0xfd02, 0, 0, 0, 0, 0, 0, 1);
pub(super) const R_NEAR6: Ipv6Addr = Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0, 0xfe);
pub(super) const R_FAR6: Ipv6Addr = Ipv6Addr::new(0xfd02, 0, 0, 0, 0, 0, 0, 0xfe);
pub(super) const MILLISECOND: u64 = 1_000_000;
/// R's interfaces.
pub(super) const NEAR: InterfaceIndex = InterfaceIndex(0);
pub(super) const FAR: InterfaceIndex = InterfaceIndex(1);
/// A's and B's only interface.
pub(super) const ONLY: InterfaceIndex = InterfaceIndex(0);

/// A, R and B, and the time.
pub(super) struct Chain {
    pub a: Stack,
    pub r: Stack,
    pub b: Stack,
    pub now_ns: u64,
    /// R receives A's partial checksums as marks, as from a virtio device.
    pub partial_near: bool,
    /// Frames R sent on the far link that still carried a partial mark.
    pub partial_far: usize,
    /// The largest frame A sent, and the largest R sent on the far link.
    pub largest_near: usize,
    pub largest_far: usize,
    /// Every frame R sent, either link, when `record` is set.
    pub from_r: Vec<Vec<u8>>,
    pub record: bool,
    /// The next echo's sequence number; the next listener's port.
    sequence: u16,
    port: u16,
}

/// Configures `stack`'s `index` with `v4`/24 and `v6`/64.
fn address(stack: &mut Stack, index: InterfaceIndex, v4: Ipv4Addr, v6: Ipv6Addr) {
    address4(stack, index, v4);
    stack.add_address6(index, v6, 64).expect("address6");
}

/// Configures `stack`'s `index` with `v4`/24.
fn address4(stack: &mut Stack, index: InterfaceIndex, v4: Ipv4Addr) {
    let address = InterfaceAddress {
        address: v4,
        prefix_length: 24,
    };
    stack.set_address(index, Some(address)).expect("address");
}

impl Chain {
    /// The three stacks, R forwarding both families when `forwarding`, A's
    /// device completing checksums when `a_offloads` says, through DAD.
    pub(super) fn new(forwarding: bool, a_offloads: Offloads) -> Chain {
        Chain::with_far(forwarding, a_offloads, Offloads::NONE)
    }

    /// The same with R's far device doing `far_offloads`.
    pub(super) fn with_far(
        forwarding: bool,
        a_offloads: Offloads,
        far_offloads: Offloads,
    ) -> Chain {
        Chain::build(forwarding, (a_offloads, far_offloads), Some(A6))
    }

    /// R forwarding and advertising (with `interval_s`, MaxRtrAdvInterval,
    /// or not when `None`), A with IPv4 alone configured: its IPv6
    /// address and default router are what R's advertisements give it.
    /// Time zero, nothing sent yet.
    pub(super) fn advertised(interval_s: Option<u16>) -> Chain {
        let mut chain = Chain::new_unstarted(true, (Offloads::NONE, Offloads::NONE), None);
        let mut config = chain.r.ip.v6.config;
        config.router_advertisements = interval_s.is_some();
        config.advertise_interval_s = interval_s.unwrap_or(600);
        chain.r.set_ipv6_config(config);
        chain
    }

    /// The three stacks, A's static IPv6 address `a6` (none: no IPv6
    /// configuration by hand), through DAD.
    fn build(forwarding: bool, offloads: (Offloads, Offloads), a6: Option<Ipv6Addr>) -> Chain {
        let mut chain = Chain::new_unstarted(forwarding, offloads, a6);
        chain.advance(100 * MILLISECOND, 3_000 * MILLISECOND);
        chain
    }

    /// The three stacks at time zero, nothing sent yet.
    fn new_unstarted(
        forwarding: bool,
        (a_offloads, far_offloads): (Offloads, Offloads),
        a6: Option<Ipv6Addr>,
    ) -> Chain {
        let ipv6 = crate::ipv6::Ipv6Config {
            enabled: true,
            ..Default::default()
        };
        let mut a = bare_stack(1);
        attach_ethernet(&mut a, [2, 0, 0, 0, 1, 1], a_offloads);
        match a6 {
            Some(a6) => address(&mut a, ONLY, A, a6),
            None => address4(&mut a, ONLY, A),
        }
        let mut r = bare_stack(2);
        attach_ethernet(&mut r, [2, 0, 0, 0, 1, 0xfe], Offloads::NONE);
        attach_ethernet(&mut r, [2, 0, 0, 0, 2, 0xfe], far_offloads);
        address(&mut r, NEAR, R_NEAR, R_NEAR6);
        address(&mut r, FAR, R_FAR, R_FAR6);
        let mut b = bare_stack(3);
        attach_ethernet(&mut b, [2, 0, 0, 0, 2, 1], Offloads::NONE);
        address(&mut b, ONLY, B, B6);
        for (stack, router) in [(&mut a, R_NEAR), (&mut b, R_FAR)] {
            stack.set_default_gateway(Some(router)).expect("gateway");
            stack.set_ipv6_config(ipv6);
        }
        if a6.is_some() {
            a.set_default_router6(ONLY, Some(R_NEAR6)).expect("router");
        }
        b.set_default_router6(ONLY, Some(R_FAR6)).expect("router");
        r.set_ipv6_config(crate::ipv6::Ipv6Config { forwarding, ..ipv6 });
        r.set_forwarding(forwarding);
        Chain {
            a,
            r,
            b,
            now_ns: MILLISECOND,
            partial_near: false,
            partial_far: 0,
            largest_near: 0,
            largest_far: 0,
            from_r: Vec::new(),
            record: false,
            sequence: 1,
            port: 80,
        }
    }

    fn sync(&mut self) {
        for stack in [&mut self.a, &mut self.r, &mut self.b] {
            stack.set_now(self.now_ns);
        }
    }

    /// Moves frames along both links until none is in flight.
    pub(super) fn pump(&mut self) {
        self.sync();
        for _ in 0..10_000 {
            let from_a = self.a.take_output(ONLY);
            let near = self.r.take_output(NEAR);
            let far = self.r.take_output(FAR);
            let from_b = self.b.take_output(ONLY);
            if from_a.is_empty() && near.is_empty() && far.is_empty() && from_b.is_empty() {
                return;
            }
            let keep = self.partial_near;
            self.partial_far += far
                .iter()
                .filter(|f| f.partial_checksum().is_some())
                .count();
            let largest = |frames: &[PacketBuffer]| frames.iter().map(|f| f.len()).max();
            self.largest_near = self.largest_near.max(largest(&from_a).unwrap_or(0));
            self.largest_far = self.largest_far.max(largest(&far).unwrap_or(0));
            if self.record {
                let sent = near.iter().chain(&far).map(|f| f.data().to_vec());
                self.from_r.extend(sent);
            }
            deliver(&mut self.r, NEAR, from_a, keep);
            deliver(&mut self.a, ONLY, near, false);
            deliver(&mut self.b, ONLY, far, false);
            deliver(&mut self.r, FAR, from_b, false);
        }
        panic!("the links never went quiet");
    }

    /// Advances time by `step_ns` up to `until_ns`, with timers.
    pub(super) fn advance(&mut self, step_ns: u64, until_ns: u64) {
        while self.now_ns < until_ns {
            self.now_ns += step_ns;
            self.sync();
            for stack in [&mut self.a, &mut self.r, &mut self.b] {
                stack.on_timer();
            }
            self.pump();
        }
    }

    /// A sends an echo request of `size` bytes to `destination` with
    /// `hop_limit`; whatever answered it within a second.
    pub(super) fn echo(
        &mut self,
        destination: IpAddr,
        hop_limit: u8,
        size: usize,
    ) -> Option<(IpAddr, Answer)> {
        let sequence = self.sequence;
        self.sequence += 1;
        let payload = std::vec![0x5a; size];
        let numbers = (0x77, sequence);
        let _ = match destination {
            IpAddr::V4(to) => {
                let Stack { ip, icmp, .. } = &mut self.a;
                icmp.send_echo_request(ip, to, numbers, &payload, hop_limit)
            }
            IpAddr::V6(to) => {
                (self.a.ip).send_echo_request6(to, None, numbers, &payload, Some(hop_limit))
            }
        };
        self.advance(10 * MILLISECOND, self.now_ns + 1_000 * MILLISECOND);
        let found = |from: IpAddr, probed: IpAddr, id: u16, seq: u16, answer| {
            (probed == destination && id == 0x77 && seq == sequence).then_some((from, answer))
        };
        let v4 = self.a.icmp.replies.iter().rev().find_map(|r| {
            found(
                r.source.into(),
                r.probed.into(),
                r.identifier,
                r.sequence,
                r.answer,
            )
        });
        let v6 = self.a.ip.v6.icmp.replies.iter().rev().find_map(|r| {
            found(
                r.source.into(),
                r.probed.into(),
                r.identifier,
                r.sequence,
                r.answer,
            )
        });
        v4.or(v6)
    }

    /// A TCP connection from A to a new listener of B's: (A's, B's).
    pub(super) fn connect(&mut self, server: IpAddr) -> (tcp::SocketHandle, tcp::SocketHandle) {
        let any = tcp::address::unspecified_like(server);
        let port = self.port;
        self.port += 1;
        let listener = self.b.tcp.open().unwrap();
        self.b
            .tcp
            .bind(listener, SocketAddr::new(any, port))
            .unwrap();
        self.b.tcp.listen(listener, 4).unwrap();
        let now = self.now_ns;
        let Stack { ip, tcp, .. } = &mut self.a;
        let client = tcp.open().unwrap();
        tcp.connect(now, client, SocketAddr::new(server, port), ip)
            .unwrap();
        self.advance(MILLISECOND, now + 100 * MILLISECOND);
        let accepted = self.b.tcp.accept(listener).expect("a connection through R");
        (client, accepted)
    }

    /// Sends `data` from A to B over the connection; true when all of it
    /// arrived intact within `limit_ns`.
    pub(super) fn transfer(
        &mut self,
        (client, server): (tcp::SocketHandle, tcp::SocketHandle),
        data: &[u8],
        limit_ns: u64,
    ) -> bool {
        let (mut sent, mut received) = (0, Vec::new());
        let mut buffer = std::vec![0u8; 16 * 1024];
        let end = self.now_ns + limit_ns;
        while received.len() < data.len() && self.now_ns < end {
            let now = self.now_ns;
            let Stack { ip, tcp, .. } = &mut self.a;
            sent += tcp.send(now, client, &data[sent..], ip).unwrap_or(0);
            self.advance(MILLISECOND, now + MILLISECOND);
            let Stack { ip, tcp, .. } = &mut self.b;
            while let Ok(count @ 1..) = tcp.recv(now, server, &mut buffer, ip) {
                received.extend_from_slice(&buffer[..count]);
            }
        }
        received == data
    }

    /// Hands R a frame from A's side carrying IP packet `packet` (to R's
    /// near MAC, or to the broadcast MAC when `broadcast`).
    pub(super) fn inject(&mut self, packet: &[u8], broadcast: bool) {
        let r_mac = self.r.ip.interface(NEAR).expect("near").spec.mac;
        let a_mac = self.a.ip.interface(ONLY).expect("A").spec.mac;
        let version = packet.first().map_or(4, |byte| byte >> 4);
        let ether_type = match version {
            6 => wire::EtherType::Ipv6,
            _ => wire::EtherType::Ipv4,
        };
        let mut frame = std::vec![0u8; wire::ethernet::HEADER_LEN + packet.len()];
        wire::EthernetHeader {
            destination: if broadcast {
                wire::MacAddress::BROADCAST
            } else {
                r_mac
            },
            source: a_mac,
            ether_type,
        }
        .write(&mut frame);
        frame[wire::ethernet::HEADER_LEN..].copy_from_slice(packet);
        let mut buffer = self.r.ip.pool.allocate_large(frame.len()).expect("buffer");
        buffer
            .reset(frame.len())
            .expect("fits")
            .copy_from_slice(&frame);
        self.sync();
        self.r.input(NEAR, buffer);
        self.pump();
    }
}

/// Hands `frames` to `stack`'s `index` as a device would: partial
/// checksums completed, or (`keep_partial`) passed on as marks.
fn deliver(
    stack: &mut Stack,
    index: InterfaceIndex,
    frames: Vec<PacketBuffer>,
    keep_partial: bool,
) {
    for frame in frames {
        let mut bytes = frame.data().to_vec();
        let partial = frame.partial_checksum();
        if !keep_partial {
            complete_partial(&frame, &mut bytes);
        }
        let mut copy = stack.ip.pool.allocate_large(bytes.len()).expect("buffer");
        copy.reset(bytes.len())
            .expect("fits")
            .copy_from_slice(&bytes);
        if let (true, Some((start, field))) = (keep_partial, partial) {
            copy.set_received_partial(start, field as u16);
            copy.set_checksum_valid(true);
            copy.set_segment_size(frame.segment_size());
        }
        stack.input(index, copy);
    }
}
