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
//!
//! A NIC whose backend takes offloads ([`NicOffloads`], a tap with the
//! virtio-net header) becomes an interface with checksum offload and TSO:
//! each frame crosses with the header (`net::virtio_header`) in front,
//! written from the buffer's marks on the way out, and read (and checked:
//! a malformed one is dropped and counted) on the way in, where frames of
//! up to 64 KiB arrive through a scratch buffer and are copied into one of
//! their size.

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
use base::hypercall::{NicError, NicOffloads, VIRTIO_HEADER_LENGTH, VirtualNic};
use log::{info, warn};
use net::virtio_header::Header;
use net::{DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, MacAddress, Net, NetworkDevice};
use net::{Offloads, PacketBuffer, PacketPool, buffer::MAX_DATA};

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

/// The Ethernet MTU an offloading NIC's interface gets.
const MTU: usize = 1500;

/// One attached virtual NIC.
struct Virtif {
    nic: Arc<dyn VirtualNic>,
    /// Frames cross with a virtio-net header.
    header: bool,
    /// Frames the backend refused (or that had no room for the header).
    send_failures: AtomicU64,
}

impl NetworkDevice for Virtif {
    fn transmit(&self, _context: &Context<'_>, mut frame: PacketBuffer) -> Result<(), DeviceBusy> {
        // The backends have no "room again" signal, so a refused frame is a
        // loss on the link, which TCP repairs; it is counted, not queued.
        let sent = match self.header {
            true => {
                let header = Header::for_frame(&frame);
                frame
                    .prepend(VIRTIO_HEADER_LENGTH)
                    .map(|bytes| header.write(bytes))
                    .is_ok()
                    && self.nic.send(frame.data()).is_ok()
            }
            false => self.nic.send(frame.data()).is_ok(),
        };
        if !sent {
            self.send_failures.fetch_add(1, Relaxed);
        }
        Ok(())
    }
}

/// What the interface of a NIC with `offloads` tells the stack.
fn interface_offloads(offloads: NicOffloads) -> Offloads {
    Offloads {
        transmit_checksum: offloads.virtio_header,
        segmentation_ipv4: offloads.virtio_header && offloads.segmentation,
        segmentation_ipv6: offloads.virtio_header && offloads.segmentation_ipv6,
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
    let offloads = nic.offloads();
    let header = offloads.virtio_header;
    let (max_frame, mtu) = match header {
        true => (nic.max_frame(), MTU),
        false => {
            let max_frame = nic.max_frame().min(MAX_DATA);
            (
                max_frame,
                max_frame.saturating_sub(net::wire::ethernet::HEADER_LEN),
            )
        }
    };
    let spec = InterfaceSpec {
        name_prefix: "vif",
        kind: LinkKind::Ethernet,
        mac: MacAddress(nic.mac_address()),
        mtu,
        offloads: interface_offloads(offloads),
    };
    let device = Arc::new(Virtif {
        nic: nic.clone(),
        header,
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
    info!(
        "{name} at {} (mtu {}, {:?})",
        spec.mac, spec.mtu, spec.offloads
    );
    let kernel = context.kernel().arc();
    let closer = nic.clone();
    kernel.on_shutdown(alloc::boxed::Box::new(move || closer.close()));
    let receiver = net.clone();
    kernel
        .spawn_detached(&name, move |context| {
            let link = Link {
                net: &receiver,
                nic: &nic,
                index,
                header,
            };
            receive_loop(context, &link, max_frame);
        })
        .map_err(|_| ComponentError::NoThread)?;
    Ok(())
}

/// What the receive thread serves.
struct Link<'a> {
    net: &'a Net,
    nic: &'a Arc<dyn VirtualNic>,
    index: InterfaceIndex,
    /// Frames come with a virtio-net header.
    header: bool,
}

/// The receive thread: block for a frame, drain the burst, repeat until
/// the NIC is closed.
fn receive_loop(context: &Context<'_>, link: &Link<'_>, max_frame: usize) {
    let mut scratch = vec![0u8; max_frame];
    loop {
        match receive_one(context, link, max_frame, &mut scratch, true) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(NicError::Closed) => return,
            Err(error) => {
                warn!("receive failed: {error}; the interface stops");
                return;
            }
        }
        for _ in 0..BURST {
            match receive_one(context, link, max_frame, &mut scratch, false) {
                Ok(true) => {}
                Ok(false) => break,
                Err(NicError::Closed) => return,
                Err(_) => break,
            }
        }
    }
}

/// Receives one frame and queues it. `Ok(false)`: nothing waiting.
fn receive_one(
    context: &Context<'_>,
    link: &Link<'_>,
    max_frame: usize,
    scratch: &mut [u8],
    wait: bool,
) -> Result<bool, NicError> {
    if link.header {
        return receive_with_header(context, link, scratch, wait);
    }
    let net = link.net;
    let mut buffer = net.packet_pool().allocate().ok();
    let target: &mut [u8] = match buffer.as_mut().and_then(|b| b.reset(max_frame).ok()) {
        Some(bytes) => bytes,
        None => scratch,
    };
    let Some(length) = receive_into(context, link.nic, target, wait)? else {
        return Ok(false);
    };
    let Some(mut frame) = buffer else {
        return Ok(true); // No memory: dropped, like a full ring.
    };
    frame.truncate(length);
    net.receive(context, link.index, frame);
    Ok(true)
}

/// One frame from the NIC into `target`: its length, `None` when nothing
/// waits (only without `wait`).
fn receive_into(
    context: &Context<'_>,
    nic: &Arc<dyn VirtualNic>,
    target: &mut [u8],
    wait: bool,
) -> Result<Option<usize>, NicError> {
    match wait {
        true => context.block_on_host(|| nic.receive(target)).map(Some),
        false => nic.try_receive(target),
    }
}

/// Receives a frame with a virtio-net header into `scratch`, then copies
/// the frame into a buffer of its size, marked as the header says.
fn receive_with_header(
    context: &Context<'_>,
    link: &Link<'_>,
    scratch: &mut [u8],
    wait: bool,
) -> Result<bool, NicError> {
    let Some(length) = receive_into(context, link.nic, scratch, wait)? else {
        return Ok(false);
    };
    let Some((header, frame)) = scratch[..length].split_at_checked(VIRTIO_HEADER_LENGTH) else {
        return Ok(true); // Shorter than the header: dropped.
    };
    let header = Header::read(header);
    if let Some(frame) = copy_marked(link.net.packet_pool(), &header, frame) {
        link.net.receive(context, link.index, frame);
    }
    Ok(true)
}

/// `bytes` in a packet buffer marked per `header`; `None` without memory
/// or when the header is malformed (the frame is dropped).
fn copy_marked(pool: &PacketPool, header: &Header, bytes: &[u8]) -> Option<PacketBuffer> {
    let mut frame = pool.allocate_large(bytes.len()).ok()?;
    frame.append(bytes.len()).ok()?.copy_from_slice(bytes);
    header.apply_received(&mut frame).ok()?;
    Some(frame)
}
