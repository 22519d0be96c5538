//! The virtif component: the host's virtual NICs as network interfaces.
//!
//! After the rump papers' `if_virt`: at NET_IF the component opens every
//! virtual NIC the host offers ([`base::hypercall::VirtualNics`], unit 0, 1, …
//! until `NoDevice`) and attaches each to the net faction as an Ethernet
//! interface `vif0`, `vif1`, …. Transmit is one non-blocking `send`
//! hypercall. Receive is a kernel thread per NIC that sleeps in the
//! host's blocking `receive` with the virtual CPU released, then drains
//! the burst behind it with `try_receive` and hands the frames to the
//! faction. The host's backend (a shared-memory bus, a tap device) is
//! invisible here. At shutdown the NICs are closed, which ends the
//! threads.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::format;
use alloc::sync::Arc;
use alloc::vec;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use base::hypercall::{NicError, VirtualNic};
use log::{info, warn};
use net::{DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, MacAddress, Net, NetworkDevice};
use net::{PacketBuffer, buffer::MAX_DATA};

/// The component.
pub static VIRTIF: Component = Component {
    name: "virtif",
    level: InitLevel::NetIf,
    requires: &["net"],
    init: attach_all,
};

/// Frames taken without blocking after a blocking receive, at most.
const BURST: usize = 64;
/// Units probed at most.
const MAX_UNITS: u32 = 8;

/// One attached virtual NIC.
struct Virtif {
    nic: Arc<dyn VirtualNic>,
    /// Frames the backend refused.
    send_failures: AtomicU64,
}

impl NetworkDevice for Virtif {
    fn transmit(&self, _context: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy> {
        // The backends have no "room again" signal, so a refused frame is a
        // loss on the link, which TCP repairs; it is counted, not queued.
        if self.nic.send(frame.data()).is_err() {
            self.send_failures.fetch_add(1, Relaxed);
        }
        Ok(())
    }
}

fn attach_all(context: &Context<'_>) -> Result<(), ComponentError> {
    let kernel = context.kernel();
    let Some(nics) = kernel.hypercalls().virtual_nics() else {
        return Ok(());
    };
    let net = Net::of(context).ok_or(ComponentError::Failed("virtif needs the net component"))?;
    for unit in 0..MAX_UNITS {
        match nics.virtif_open(unit) {
            Ok(nic) => attach(context, &net, Arc::from(nic))?,
            Err(NicError::NoDevice) => break,
            Err(error) => warn!("unit {unit} not attached: {error}"),
        }
    }
    Ok(())
}

fn attach(
    context: &Context<'_>,
    net: &Arc<Net>,
    nic: Arc<dyn VirtualNic>,
) -> Result<(), ComponentError> {
    let max_frame = nic.max_frame().min(MAX_DATA);
    let spec = InterfaceSpec {
        name_prefix: "vif",
        kind: LinkKind::Ethernet,
        mac: MacAddress(nic.mac_address()),
        mtu: max_frame.saturating_sub(net::wire::ethernet::HEADER_LEN),
        offloads: net::Offloads::NONE,
    };
    let device = Arc::new(Virtif {
        nic: nic.clone(),
        send_failures: AtomicU64::new(0),
    });
    let index = net
        .attach(context, spec.clone(), device)
        .map_err(|_| ComponentError::Failed("no room for another interface"))?;
    let name = net
        .with_stack(context, |stack| {
            stack.ip.interface(index).map(|i| i.name.clone())
        })
        .unwrap_or_else(|| format!("if{}", index.0));
    info!("{name} at {} (mtu {})", spec.mac, spec.mtu);
    let kernel = context.kernel().arc();
    let closer = nic.clone();
    kernel.on_shutdown(alloc::boxed::Box::new(move || closer.close()));
    let receiver = net.clone();
    kernel
        .spawn_detached(&name, move |context| {
            receive_loop(context, &receiver, &nic, index, max_frame);
        })
        .map_err(|_| ComponentError::NoThread)?;
    Ok(())
}

/// The receive thread: block for a frame, drain the burst, repeat until
/// the NIC is closed.
fn receive_loop(
    context: &Context<'_>,
    net: &Net,
    nic: &Arc<dyn VirtualNic>,
    index: InterfaceIndex,
    max_frame: usize,
) {
    let mut scratch = vec![0u8; max_frame];
    loop {
        match receive_one(context, net, nic, index, max_frame, &mut scratch, true) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(NicError::Closed) => return,
            Err(error) => {
                warn!("receive failed: {error}; the interface stops");
                return;
            }
        }
        for _ in 0..BURST {
            match receive_one(context, net, nic, index, max_frame, &mut scratch, false) {
                Ok(true) => {}
                Ok(false) => break,
                Err(NicError::Closed) => return,
                Err(_) => break,
            }
        }
    }
}

/// Receives one frame into a packet buffer (or, without memory, into
/// `scratch`, dropping it) and queues it. `Ok(false)`: nothing waiting.
fn receive_one(
    context: &Context<'_>,
    net: &Net,
    nic: &Arc<dyn VirtualNic>,
    index: InterfaceIndex,
    max_frame: usize,
    scratch: &mut [u8],
    wait: bool,
) -> Result<bool, NicError> {
    let mut buffer = net.packet_pool().allocate().ok();
    let target: &mut [u8] = match buffer.as_mut().and_then(|b| b.reset(max_frame).ok()) {
        Some(bytes) => bytes,
        None => scratch,
    };
    let length = if wait {
        context.block_on_host(|| nic.receive(target))?
    } else {
        match nic.try_receive(target)? {
            Some(length) => length,
            None => return Ok(false),
        }
    };
    let Some(mut frame) = buffer else {
        return Ok(true); // No memory: dropped, like a full ring.
    };
    frame.truncate(length);
    net.receive(context, index, frame);
    Ok(true)
}
