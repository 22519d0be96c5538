//! The socket table: generation-checked slots, plus the maps that find a
//! connection by its 4-tuple (one per family, `endpoints.rs`) and a
//! listener by its local address (dual-stack: an IPv6 wildcard without
//! IPV6_V6ONLY takes IPv4 too).
//!
//! A slot's generation grows each time the slot is freed, so a stale
//! handle never reaches a new socket. Sockets are boxed so the slot vector
//! stays small; that is one allocation per socket, never per segment.
//! Every mutable access to a socket marks its slot for the timer index
//! (see [`deadlines`]), which the engine brings up to date after each call.
//!
//! The connection map also holds the TIME-WAIT connections nobody holds
//! any more: not as sockets but as 40-byte records
//! ([`crate::time_wait::TimeWait`], kept in [`time_waits`]), so a server
//! that closes first keeps thousands of them at a few dozen bytes each.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv6Addr};

use crate::address::unspecified_like;
use crate::config::TcpConfig;
use crate::memory::Charges;
use crate::tcb::{SOCKET_BYTES, Tcb};
use crate::{SocketHandle, TcpError};

mod deadlines;
mod endpoints;
mod time_waits;

use deadlines::Deadlines;
pub use endpoints::{Endpoints, Endpoints4, Endpoints6, Ticket};
use time_waits::Family;
#[cfg(test)]
pub use time_waits::{Record, TIME_WAIT_BYTES, TIME_WAIT_BYTES_6};

/// What the connection map holds for a 4-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A socket, by slot index.
    Socket(u32),
    /// A TIME-WAIT record, by its ticket in its family's queue.
    TimeWait(Ticket),
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    tcb: Option<Box<Tcb>>,
    /// The deadline the timer index holds for this slot: its socket's
    /// earliest timer as of the last [`Table::reindex`].
    indexed: Option<u64>,
    /// Mutably accessed since the last [`Table::reindex`] (then listed in
    /// `Deadlines::touched`).
    touched: bool,
}

impl Slot {
    /// Lists the slot for the next [`Table::reindex`], once.
    fn touch(&mut self, index: u32, touched: &mut Vec<u32>) {
        if !self.touched {
            self.touched = true;
            touched.push(index);
        }
    }
}

/// Every socket of one engine.
#[derive(Debug, Default)]
pub struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    /// IPv4 connections and TIME-WAIT records.
    v4: Family<Endpoints4>,
    /// IPv6 connections and TIME-WAIT records.
    v6: Family<Endpoints6>,
    /// Listeners by port and bound address.
    listeners: BTreeMap<(u16, IpAddr), u32>,
    deadlines: Deadlines,
    /// Slot visits, for tests that bound the work of one call.
    #[cfg(test)]
    visits: core::cell::Cell<u64>,
}

impl Table {
    /// Creates a CLOSED socket, charging [`SOCKET_BYTES`]; `NoBuffers`
    /// past `limit` sockets or when the memory is refused.
    pub fn allocate(
        &mut self,
        config: &TcpConfig,
        limit: usize,
        charges: &mut Charges,
    ) -> Result<SocketHandle, TcpError> {
        if self.live >= limit || !charges.charge(SOCKET_BYTES) {
            return Err(TcpError::NoBuffers);
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let Ok(index) = u32::try_from(self.slots.len()) else {
                    charges.release(SOCKET_BYTES);
                    return Err(TcpError::NoBuffers);
                };
                self.slots.push(Slot {
                    generation: 0,
                    tcb: None,
                    indexed: None,
                    touched: false,
                });
                index
            }
        };
        let slot = &mut self.slots[index as usize];
        let handle = SocketHandle {
            index,
            generation: slot.generation,
        };
        slot.tcb = Some(Box::new(Tcb::new(handle, config)));
        self.live += 1;
        Ok(handle)
    }

    /// The socket `handle` names, if it is still the same one.
    pub fn get(&self, handle: SocketHandle) -> Option<&Tcb> {
        self.visit();
        let slot = self.slots.get(handle.index as usize)?;
        (slot.generation == handle.generation).then_some(slot.tcb.as_deref()?)
    }

    /// Mutable [`Table::get`].
    pub fn get_mut(&mut self, handle: SocketHandle) -> Option<&mut Tcb> {
        let generation = self.slots.get(handle.index as usize)?.generation;
        if generation != handle.generation {
            return None;
        }
        self.at(handle.index)
    }

    /// The socket in slot `index`, marked touched for the timer index.
    pub fn at(&mut self, index: u32) -> Option<&mut Tcb> {
        self.visit();
        let slot = self.slots.get_mut(index as usize)?;
        if slot.tcb.is_some() {
            slot.touch(index, self.deadlines.touched());
        }
        slot.tcb.as_deref_mut()
    }

    /// Number of slots (live or free), for iteration by index.
    pub fn slot_count(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Every live socket.
    pub fn iter(&self) -> impl Iterator<Item = &Tcb> {
        self.slots
            .iter()
            .inspect(|_| self.visit())
            .filter_map(|slot| slot.tcb.as_deref())
    }

    /// Frees the socket in slot `index`, taking it out of the map its role
    /// puts it in, and releases everything it was charged.
    pub fn free(&mut self, index: u32, charges: &mut Charges) {
        let Some(tcb) = self.at(index) else { return };
        let (connection, listening) = (tcb.role.is_connection(), tcb.role.listener().is_some());
        if connection {
            self.unregister(index);
        }
        if listening {
            self.unlisten(index);
        }
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return;
        };
        if let Some(tcb) = slot.tcb.take() {
            charges.release(tcb.footprint());
            slot.touch(index, self.deadlines.touched());
            slot.generation = slot.generation.wrapping_add(1);
            self.free.push(index);
            self.live -= 1;
        }
    }

    /// Enters the socket in the connection map under its 4-tuple (its
    /// role is a connection).
    pub fn register(&mut self, index: u32) {
        let Some(tcb) = self.at(index) else { return };
        debug_assert!(tcb.role.is_connection(), "{:?}", tcb.role);
        let key = Endpoints::new(tcb.local, tcb.remote);
        match key {
            Endpoints::V4(key) => self.v4.connections.insert(key, Entry::Socket(index)),
            Endpoints::V6(key) => self.v6.connections.insert(key, Entry::Socket(index)),
        };
    }

    /// Takes the socket out of the connection map, if it is there.
    pub fn unregister(&mut self, index: u32) {
        let Some(tcb) = self.at(index) else { return };
        let key = Endpoints::new(tcb.local, tcb.remote);
        if self.find(&key) == Some(Entry::Socket(index)) {
            match key {
                Endpoints::V4(key) => self.v4.connections.remove(&key),
                Endpoints::V6(key) => self.v6.connections.remove(&key),
            };
        }
    }

    /// Enters a listening socket in the listener map.
    pub fn listen(&mut self, index: u32) {
        let Some(tcb) = self.at(index) else { return };
        let key = (tcb.local.port(), tcb.local.ip());
        self.listeners.insert(key, index);
    }

    /// Takes a socket out of the listener map.
    pub fn unlisten(&mut self, index: u32) {
        let Some(tcb) = self.at(index) else { return };
        let key = (tcb.local.port(), tcb.local.ip());
        if self.listeners.get(&key) == Some(&index) {
            self.listeners.remove(&key);
        }
    }

    /// The connection socket with this 4-tuple (not a TIME-WAIT record).
    pub fn find_connection(&self, key: &Endpoints) -> Option<u32> {
        match self.find(key)? {
            Entry::Socket(index) => Some(index),
            Entry::TimeWait(_) => None,
        }
    }

    /// What the connection map holds for this 4-tuple.
    pub fn find(&self, key: &Endpoints) -> Option<Entry> {
        match key {
            Endpoints::V4(key) => self.v4.connections.get(key).copied(),
            Endpoints::V6(key) => self.v6.connections.get(key).copied(),
        }
    }

    /// The listener for `address:port`: one bound to that address first,
    /// then the wildcard of its family, then for IPv4 a dual-stack IPv6
    /// wildcard (one without IPV6_V6ONLY).
    pub fn find_listener(&self, address: IpAddr, port: u16) -> Option<u32> {
        let exact = self.listeners.get(&(port, address));
        let any = || self.listeners.get(&(port, unspecified_like(address)));
        let dual = || {
            let wildcard = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
            let index = self
                .listeners
                .get(&(port, wildcard))
                .filter(|_| address.is_ipv4())?;
            let tcb = self.slots.get(*index as usize)?.tcb.as_deref()?;
            tcb.binding().covers(address).then_some(index)
        };
        exact.or_else(any).or_else(dual).copied()
    }

    /// Live sockets.
    pub const fn live(&self) -> usize {
        self.live
    }

    /// Entries in the connection map (TIME-WAIT records included).
    pub fn connection_entries(&self) -> usize {
        self.v4.connections.len() + self.v6.connections.len()
    }

    /// Entries in the listener map.
    pub fn listener_entries(&self) -> usize {
        self.listeners.len()
    }

    /// Counts one slot visit (tests only).
    fn visit(&self) {
        #[cfg(test)]
        self.visits.set(self.visits.get() + 1);
    }

    /// Bytes of the table's own bookkeeping per socket: its slot, its
    /// connection map entry (keys and values, B-tree node overhead aside)
    /// and its timer index entry.
    #[cfg(test)]
    pub const BYTES_PER_SOCKET: usize = core::mem::size_of::<Slot>()
        + core::mem::size_of::<Endpoints4>()
        + core::mem::size_of::<Entry>()
        + core::mem::size_of::<(u64, u32)>();

    /// Slot visits so far: every socket looked up, iterated or re-indexed.
    #[cfg(test)]
    pub fn visits(&self) -> u64 {
        self.visits.get()
    }
}
