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
    let mut stack = Stack::new(pool(), seeds, config);
    let spec = InterfaceSpec {
        name_prefix: "vif",
        kind: LinkKind::Ethernet,
        mac: MacAddress([2, 0, 0, 0, 0, host]),
        mtu: 1500,
    };
    let index = stack.attach(spec, Arc::new(Unused)).expect("attach");
    stack.set_up(index, true).expect("up");
    let address = InterfaceAddress {
        address: core::net::Ipv4Addr::new(10, 0, 0, host),
        prefix_length: 24,
    };
    stack.set_address(index, Some(address)).expect("address");
    (stack, index)
}

/// Two stacks on one link, and the time.
pub struct Link {
    pub a: Stack,
    pub b: Stack,
    pub now_ns: u64,
    /// Applied to every frame in flight: return false to drop it.
    pub filter: fn(&mut Vec<u8>) -> bool,
}

impl Link {
    /// 10.0.0.1 and 10.0.0.2.
    pub fn new() -> Link {
        Link {
            a: stack(1).0,
            b: stack(2).0,
            now_ns: 1_000_000,
            filter: |_| true,
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
            deliver(&mut self.b, from_a, self.filter);
            deliver(&mut self.a, from_b, self.filter);
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
        let mut link = Link::new();
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

fn deliver(stack: &mut Stack, frames: Vec<PacketBuffer>, filter: fn(&mut Vec<u8>) -> bool) {
    for frame in frames {
        let mut bytes = frame.data().to_vec();
        if !filter(&mut bytes) {
            continue;
        }
        let mut copy = stack.ip.pool.allocate().expect("buffer");
        copy.reset(bytes.len())
            .expect("fits")
            .copy_from_slice(&bytes);
        stack.input(InterfaceIndex(0), copy);
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
