//! A simulated Ethernet link between stacks, with virtual time.

use std::sync::Arc;
use std::vec::Vec;

use base::Context;
use base::memory::Memory;
use hypercall_posix::{Posix, PosixConfig};
use wire::MacAddress;

use crate::buffer::{PacketBuffer, PacketPool};
use crate::interface::{
    DeviceBusy, InterfaceAddress, InterfaceIndex, InterfaceSpec, LinkKind, NetworkDevice,
};
use crate::offload::Offloads;
use crate::stack::{Stack, StackSeeds};

/// A device the stack never calls: the tests take frames from the send
/// queues themselves.
struct Unused;

impl NetworkDevice for Unused {
    fn transmit(&self, _: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy> {
        Err(DeviceBusy(frame))
    }
}

/// A packet pool on a hosted host's memory.
pub fn pool() -> PacketPool {
    let host = Posix::new(PosixConfig::default());
    let memory = Arc::new(Memory::new(host, 64 * 1024 * 1024));
    PacketPool::new(&memory).expect("a pool")
}

/// A stack with one Ethernet interface at `10.0.0.host/24`.
pub fn stack(host: u8) -> (Stack, InterfaceIndex) {
    stack_offloading(host, Offloads::NONE)
}

/// [`stack`] whose interface's device offers `offloads`.
pub fn stack_offloading(host: u8, offloads: Offloads) -> (Stack, InterfaceIndex) {
    let mut stack = bare_stack(host);
    let index = attach_ethernet(&mut stack, [2, 0, 0, 0, 0, host], offloads);
    let address = InterfaceAddress {
        address: core::net::Ipv4Addr::new(10, 0, 0, host),
        prefix_length: 24,
    };
    stack.set_address(index, Some(address)).expect("address");
    (stack, index)
}

/// A stack without interfaces, its secrets drawn from `host`.
pub fn bare_stack(host: u8) -> Stack {
    let seeds = StackSeeds {
        tcp: tcp::Secrets {
            isn_key: [host; 16],
            port_key: [host.wrapping_add(1); 16],
        },
        ports: [host.wrapping_add(2); 16],
        identification: u16::from(host) * 100,
        dhcp: u64::from(host),
    };
    let config = tcp::TcpConfig {
        time_wait_ns: 1_000_000_000,
        ..Default::default()
    };
    Stack::new(pool(), seeds, config)
}

/// Attaches an Ethernet interface with `mac`, MTU 1,500 and `offloads`
/// to `stack`, up and unconfigured.
pub fn attach_ethernet(stack: &mut Stack, mac: [u8; 6], offloads: Offloads) -> InterfaceIndex {
    let spec = InterfaceSpec {
        name_prefix: "vif",
        kind: LinkKind::Ethernet,
        mac: MacAddress(mac),
        mtu: 1500,
        offloads,
    };
    let index = stack.attach(spec, Arc::new(Unused)).expect("attach");
    stack.set_up(index, true).expect("up");
    index
}

/// Two stacks on one link, and the time.
pub struct Link {
    pub a: Stack,
    pub b: Stack,
    pub now_ns: u64,
    /// Applied to every frame in flight: return false to drop it.
    pub filter: fn(&mut Vec<u8>) -> bool,
    /// The receiving "device" says it checked every frame's transport
    /// checksum (after the filter: it vouches for what it corrupted).
    pub vouch: bool,
    /// Looks at every frame a stack hands its device (asserting, say).
    pub inspect: fn(&PacketBuffer),
}

impl Link {
    /// 10.0.0.1 and 10.0.0.2.
    pub fn new() -> Link {
        Link::offloading(Offloads::NONE)
    }

    /// [`Link::new`] over devices that offer `offloads` (this link
    /// completes partial checksums as such a device would).
    pub fn offloading(offloads: Offloads) -> Link {
        Link {
            a: stack_offloading(1, offloads).0,
            b: stack_offloading(2, offloads).0,
            now_ns: 1_000_000,
            filter: |_| true,
            vouch: false,
            inspect: |_| {},
        }
    }

    /// Moves frames both ways until none is in flight.
    pub fn pump(&mut self) {
        let index = InterfaceIndex(0);
        for _ in 0..10_000 {
            let from_a = self.a.take_output(index);
            let from_b = self.b.take_output(index);
            if from_a.is_empty() && from_b.is_empty() {
                return;
            }
            self.b.set_now(self.now_ns);
            self.a.set_now(self.now_ns);
            let wire = (self.filter, self.vouch, self.inspect);
            deliver(&mut self.b, from_a, wire);
            deliver(&mut self.a, from_b, wire);
        }
        panic!("the link never went quiet");
    }

    /// Advances time by `step` ns at a time up to `until_ns`, running
    /// timers and pumping at each step.
    pub fn advance(&mut self, step_ns: u64, until_ns: u64) {
        while self.now_ns < until_ns {
            self.now_ns += step_ns;
            self.a.set_now(self.now_ns);
            self.b.set_now(self.now_ns);
            self.a.on_timer();
            self.b.on_timer();
            self.pump();
        }
    }

    /// 10.0.0.1 and 10.0.0.2 with IPv6 running too, both link-local
    /// addresses through DAD and the first router solicitations out.
    pub fn new_ipv6() -> Link {
        Link::with_ipv6(Link::new())
    }

    /// `link` with IPv6 turned on, as [`Link::new_ipv6`].
    pub fn with_ipv6(mut link: Link) -> Link {
        link.sync();
        let config = crate::ipv6::Ipv6Config {
            enabled: true,
            ..Default::default()
        };
        link.a.set_ipv6_config(config);
        link.b.set_ipv6_config(config);
        link.advance(100_000_000, link.now_ns + 3_000_000_000);
        link
    }

    /// Sets both stacks' clocks to now.
    pub fn sync(&mut self) {
        self.a.set_now(self.now_ns);
        self.b.set_now(self.now_ns);
    }
}

/// A link's filter, vouching and inspection ([`Link`]'s fields).
type Wire = (fn(&mut Vec<u8>) -> bool, bool, fn(&PacketBuffer));

/// Hands `frames` to `stack` as the link's devices would.
fn deliver(stack: &mut Stack, frames: Vec<PacketBuffer>, (filter, vouch, inspect): Wire) {
    for frame in frames {
        inspect(&frame);
        let mut bytes = frame.data().to_vec();
        complete_partial(&frame, &mut bytes);
        if !filter(&mut bytes) {
            continue;
        }
        let mut copy = stack.ip.pool.allocate_large(bytes.len()).expect("buffer");
        copy.reset(bytes.len())
            .expect("fits")
            .copy_from_slice(&bytes);
        copy.set_checksum_valid(vouch);
        stack.input(InterfaceIndex(0), copy);
    }
}

/// Completes `frame`'s partial checksum in `bytes` as a device does: the
/// sum from its start to the end, complemented, into its field.
pub fn complete_partial(frame: &PacketBuffer, bytes: &mut [u8]) {
    if let Some((start, field)) = frame.partial_checksum() {
        let sum = wire::Checksum::new().add(&bytes[start..]).finish();
        bytes[start + field..start + field + 2].copy_from_slice(&sum.to_be_bytes());
    }
}

/// The link-local address of `stack`'s interface, once DAD passed.
pub fn link_local(stack: &Stack) -> core::net::Ipv6Addr {
    stack
        .ip
        .interface(InterfaceIndex(0))
        .and_then(|i| i.ipv6.link_local())
        .expect("a link-local address through DAD")
}

/// A UDP endpoint of `stack` bound to `port` on every address.
pub fn udp_endpoint(stack: &mut Stack, port: u16) -> crate::udp::UdpHandle {
    let handle = stack.udp.open().unwrap();
    let Stack { ip, udp, ports, .. } = stack;
    let any = core::net::SocketAddr::from((core::net::Ipv4Addr::UNSPECIFIED, port));
    udp.bind(ip, ports, handle, any).unwrap();
    handle
}
