//! The net faction's memory: what each part charges to the kernel's
//! limit, and how it gives memory back when the pagedaemon asks.
//!
//! | account | what is charged | where |
//! | --- | --- | --- |
//! | `packet_pool` | 2 KiB packet blocks, by chunk | [`crate::buffer`] |
//! | `packet_large` | 72 KiB blocks, one per chunk: segments for segmentation offload, coalesced received frames | [`crate::buffer`] |
//! | `packet_pages` | buffers larger than a large block (reassembled datagrams, large UDP sends) | [`crate::buffer`] |
//! | `tcp` | control blocks, table shares, rings, flight records, accept queues | the TCP engine, through [`TcpBudget`] |
//! | `udp` | endpoints and their queues' slots | [`crate::udp`] |
//! | `sockets` | descriptors and their wait queues | [`crate::socket::table`] |
//! | `arp` | cache entries | [`crate::arp`] |
//! | `nd` | IPv6 neighbor entries, interface addresses, routers, prefixes, DNS servers | [`crate::ipv6`] |
//! | `reassembly` | datagrams and fragment records, both families | [`crate::reassembly`] |
//! | `net` | the input queue's slots | `input.rs` |
//!
//! Packets held anywhere (socket queues, packets waiting for ARP or
//! Neighbor Discovery, fragments) are pool blocks, charged once to `packet_pool`. Each charge
//! is an atomic add on a path that allocates anyway; nothing is charged
//! per packet. A refused charge drops what it was for and counts it.
//!
//! [`NetReclaimer`] is the faction's answer to the pagedaemon: it tries
//! the stack lock (never waits for it), then shrinks the caches and the
//! buffers of idle TCP connections.

use alloc::sync::{Arc, Weak};

use base::Context;
use base::memory::{Account, Reclaim, ReclaimLevel};

use crate::net::Net;

/// How long a TCP connection must have received nothing before the
/// pagedaemon's first stage takes its buffers.
pub const TCP_IDLE_NS: u64 = 5_000_000_000;

/// A part of the stack's share of the limit: charges that may be refused.
#[derive(Clone, Debug)]
pub struct Budget(Account);

impl Budget {
    /// A budget charging to `account`.
    pub fn new(account: Account) -> Self {
        Self(account)
    }

    /// Asks for `bytes`; false when refused.
    #[inline]
    pub fn charge(&self, bytes: usize) -> bool {
        self.0.charge(bytes).is_ok()
    }

    /// Gives back `bytes` charged before.
    #[inline]
    pub fn release(&self, bytes: usize) {
        self.0.release(bytes);
    }

    /// Bytes charged now.
    pub fn bytes(&self) -> usize {
        self.0.bytes()
    }
}

/// The TCP engine's budget: the kernel's `tcp` account.
#[derive(Debug)]
pub struct TcpBudget(pub Account);

impl tcp::MemoryBudget for TcpBudget {
    fn charge(&self, bytes: usize) -> bool {
        self.0.charge(bytes).is_ok()
    }

    fn release(&self, bytes: usize) {
        self.0.release(bytes);
    }
}

/// Gives the stack's memory back to the pagedaemon.
#[derive(Debug)]
pub struct NetReclaimer(pub Weak<Net>);

impl Reclaim for NetReclaimer {
    fn reclaim(&self, context: &Context<'_>, level: ReclaimLevel) -> usize {
        let Some(net) = self.0.upgrade() else {
            return 0;
        };
        net.reclaim(context, level)
    }
}

impl Net {
    /// One reclaim stage over the stack (see the module docs); 0 when the
    /// stack lock is taken.
    fn reclaim(&self, context: &Context<'_>, level: ReclaimLevel) -> usize {
        let Some(mut stack) = self.try_lock(context) else {
            return 0;
        };
        let now = stack.now_ns();
        let idle_ns = match level {
            ReclaimLevel::Idle => TCP_IDLE_NS,
            ReclaimLevel::Urgent => 0,
        };
        let mut freed = stack.ip.reassembly.shrink(now, level);
        freed += stack.ip.arp.shrink(now, level);
        freed += stack.ip.v6.shrink(now, level);
        freed += stack.tcp.shrink_idle(now, idle_ns);
        freed += stack.udp.shrink();
        self.finish(context, &mut stack);
        drop(stack);
        if let Some(mut input) = self.try_lock_input(context) {
            freed += input.shrink();
        }
        freed
    }

    /// Registers the faction's reclaimer with the kernel's memory.
    pub(crate) fn register_reclaimer(self: &Arc<Self>, context: &Context<'_>) {
        let reclaimer: Arc<dyn Reclaim> = Arc::new(NetReclaimer(Arc::downgrade(self)));
        context
            .kernel()
            .memory()
            .register_reclaimer(Arc::downgrade(&reclaimer));
        self.keep_reclaimer(reclaimer);
    }
}
