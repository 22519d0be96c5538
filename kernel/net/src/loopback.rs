//! The loopback interface `lo0`: packets sent on it come back as input.
//!
//! Transmit is a hand-off to the faction's input queue, so a looped
//! packet goes through the softint like any other, and never re-enters
//! the stack while it holds its lock.

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicU16, Ordering::Relaxed};

use base::Context;
use wire::MacAddress;

use crate::buffer::PacketBuffer;
use crate::interface::{DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, NetworkDevice};
use crate::net::Net;

/// lo0's MTU: the Ethernet one, so one packet buffer holds any segment.
pub const MTU: usize = 1500;

/// The loopback device.
struct Loopback {
    net: Weak<Net>,
    index: AtomicU16,
}

impl NetworkDevice for Loopback {
    fn transmit(&self, context: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy> {
        if let Some(net) = self.net.upgrade() {
            net.receive(context, InterfaceIndex(self.index.load(Relaxed)), frame);
        }
        Ok(())
    }
}

/// Attaches `lo0` (down; the NET_IFCFG component configures it).
///
/// # Errors
/// When the stack has no room for another interface.
pub fn attach(
    context: &Context<'_>,
    net: &Arc<Net>,
) -> Result<InterfaceIndex, crate::stack::InterfaceError> {
    let device = Arc::new(Loopback {
        net: Arc::downgrade(net),
        index: AtomicU16::new(0),
    });
    let spec = InterfaceSpec {
        name_prefix: "lo",
        kind: LinkKind::Loopback,
        mac: MacAddress::ZERO,
        mtu: MTU,
        offloads: crate::offload::Offloads::NONE,
    };
    let index = net.attach(context, spec, device.clone())?;
    device.index.store(index.0, Relaxed);
    Ok(index)
}
