//! The device side of split virtqueues (virtio 1.0 §2.6).
//!
//! A fake device's transport records where the driver put each queue
//! ([`FakeQueue::set`]); its thread then takes the chains the driver made
//! available ([`FakeQueue::pop`]), reads and writes the buffers they lend
//! ([`Chain`]), and gives them back on the used ring
//! ([`FakeQueue::push_used`]). In the host tests "physical" addresses are
//! the process's own (the fake device memory of `dev::fake`), so the
//! rings and buffers are reached at those addresses. A descriptor may
//! point to a table of indirect descriptors (a fake that offers
//! INDIRECT_DESC); those do not nest.

#![allow(unsafe_code, reason = "the device side reads and writes ring memory")]

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU16, Ordering};

/// Descriptor flag: the chain goes on.
const NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer.
const WRITE: u16 = 2;
/// Descriptor flag: the buffer is a table of indirect descriptors.
const INDIRECT: u16 = 4;
/// Avail ring flag: the driver wants no used-buffer interrupts.
const NO_INTERRUPT: u16 = 1;

/// Where the driver put one queue, and how far the device has got.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FakeQueue {
    size: u16,
    descriptors: u64,
    driver_area: u64,
    device_area: u64,
    /// Next avail ring position the device will take.
    next_avail: u16,
    /// Next used ring position the device will fill.
    next_used: u16,
}

/// One buffer of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    address: u64,
    length: u32,
    writable: bool,
}

/// A descriptor chain the driver made available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Its first descriptor: the token the used ring gives back.
    pub head: u16,
    parts: Vec<Part>,
}

impl FakeQueue {
    /// A queue of `size` descriptors at the three areas the driver chose
    /// (what `Transport::queue_set` receives).
    pub fn set(size: u32, descriptors: u64, driver_area: u64, device_area: u64) -> Self {
        Self {
            size: size as u16,
            descriptors,
            driver_area,
            device_area,
            next_avail: 0,
            next_used: 0,
        }
    }

    /// Whether the driver has set the queue up.
    pub fn is_set(&self) -> bool {
        self.descriptors != 0
    }

    /// The next chain the driver made available, if it published one.
    pub fn pop(&mut self) -> Option<Chain> {
        let chain = self.peek()?;
        self.next_avail = self.next_avail.wrapping_add(1);
        Some(chain)
    }

    /// The next chain the driver made available, left on the ring.
    pub fn peek(&self) -> Option<Chain> {
        if self.available() == 0 {
            return None;
        }
        let slot = usize::from(self.next_avail % self.size);
        // SAFETY: ring entries follow flags and idx; `slot` < size, and
        // `available` loaded idx with acquire ordering.
        let head = unsafe {
            (self.driver_area as *const u16)
                .add(2 + slot)
                .read_volatile()
        };
        Some(self.chain(head))
    }

    /// Chains the driver published that the device has not taken.
    pub fn available(&self) -> usize {
        if self.size == 0 {
            return 0;
        }
        // SAFETY: the avail ring's `idx` (second u16) is an atomic the
        // driver publishes with release ordering; the area is the driver's,
        // alive while the queue is set.
        let published = unsafe { AtomicU16::from_ptr((self.driver_area as *mut u16).add(1)) }
            .load(Ordering::Acquire);
        usize::from(published.wrapping_sub(self.next_avail))
    }

    /// Whether the driver wants used-buffer interrupts: its avail ring's
    /// flags lack `NO_INTERRUPT`.
    pub fn wants_interrupts(&self) -> bool {
        if self.size == 0 {
            return false;
        }
        // SAFETY: the avail ring's `flags` (first u16) is an atomic the
        // driver stores; the area is the driver's, alive while the queue
        // is set.
        let flags = unsafe { AtomicU16::from_ptr(self.driver_area as *mut u16) };
        flags.load(Ordering::Acquire) & NO_INTERRUPT == 0
    }

    /// The chain that starts at descriptor `head`.
    fn chain(&self, head: u16) -> Chain {
        let mut parts = Vec::new();
        let mut index = head;
        for _ in 0..self.size {
            let (address, length, flags, next) = self.descriptor(index);
            if flags & INDIRECT != 0 {
                return Chain {
                    head,
                    parts: indirect(address, length),
                };
            }
            let writable = flags & WRITE != 0;
            parts.push(Part {
                address,
                length,
                writable,
            });
            if flags & NEXT == 0 {
                break;
            }
            index = next;
        }
        Chain { head, parts }
    }

    /// Puts `head` on the used ring with `length` bytes written, and
    /// publishes it.
    pub fn push_used(&mut self, head: u16, length: u32) {
        let used = self.device_area as *mut u8;
        let slot = usize::from(self.next_used % self.size);
        // SAFETY: used elements (id: u32, len: u32) follow flags and idx;
        // `slot` < size; the driver reads them only after the idx store.
        unsafe {
            let element = used.add(4 + slot * 8);
            element.cast::<u32>().write_volatile(u32::from(head));
            element.add(4).cast::<u32>().write_volatile(length);
        }
        self.next_used = self.next_used.wrapping_add(1);
        // SAFETY: `idx` is the used ring's second u16, an atomic the
        // driver reads with acquire ordering.
        unsafe { AtomicU16::from_ptr(used.cast::<u16>().add(1)) }
            .store(self.next_used, Ordering::Release);
    }

    /// Descriptor `index`: address, length, flags, next.
    fn descriptor(&self, index: u16) -> (u64, u32, u16, u16) {
        assert!(index < self.size, "descriptor index {index} out of range");
        let at = (self.descriptors as *const u8).wrapping_add(usize::from(index) * 16);
        // SAFETY: the table holds `size` 16-byte descriptors; the acquire
        // load of avail.idx ordered the driver's writes to this one first.
        unsafe {
            (
                at.cast::<u64>().read_volatile(),
                at.add(8).cast::<u32>().read_volatile(),
                at.add(12).cast::<u16>().read_volatile(),
                at.add(14).cast::<u16>().read_volatile(),
            )
        }
    }
}

/// The parts of the indirect table of `length` bytes at `address`.
fn indirect(address: u64, length: u32) -> Vec<Part> {
    let count = length as usize / 16;
    let mut parts = Vec::new();
    let mut index = 0;
    for _ in 0..count {
        assert!(index < count, "indirect descriptor {index} out of range");
        let at = (address as *const u8).wrapping_add(index * 16);
        // SAFETY: the driver lent the table (`count` 16-byte descriptors)
        // with the chain, written before it published the head.
        let (address, length, flags, next) = unsafe {
            (
                at.cast::<u64>().read_unaligned(),
                at.add(8).cast::<u32>().read_unaligned(),
                at.add(12).cast::<u16>().read_unaligned(),
                at.add(14).cast::<u16>().read_unaligned(),
            )
        };
        let writable = flags & WRITE != 0;
        parts.push(Part {
            address,
            length,
            writable,
        });
        if flags & NEXT == 0 {
            break;
        }
        index = usize::from(next);
    }
    parts
}

impl Chain {
    /// How many buffers it lends.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// The bytes of the parts the device reads, in order.
    pub fn readable(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for part in self.parts.iter().filter(|part| !part.writable) {
            // SAFETY: the driver lent `length` readable bytes at `address`
            // until the chain comes back on the used ring.
            let lent = unsafe {
                core::slice::from_raw_parts(part.address as *const u8, part.length as usize)
            };
            bytes.extend_from_slice(lent);
        }
        bytes
    }

    /// Bytes the device may write, all parts together.
    pub fn writable_length(&self) -> usize {
        let writable = self.parts.iter().filter(|part| part.writable);
        writable.map(|part| part.length as usize).sum()
    }

    /// Writes `bytes` across the writable parts in order, as far as they
    /// reach; returns how many were written.
    pub fn write(&self, mut bytes: &[u8]) -> usize {
        let mut written = 0;
        for part in self.parts.iter().filter(|part| part.writable) {
            let length = bytes.len().min(part.length as usize);
            // SAFETY: the driver lent `length` writable bytes at `address`
            // (a WRITE descriptor) and does not touch them until the used
            // element is published.
            unsafe {
                core::ptr::copy_nonoverlapping(bytes.as_ptr(), part.address as *mut u8, length);
            }
            written += length;
            bytes = &bytes[length..];
        }
        written
    }
}
